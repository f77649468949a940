terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.25.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (see backend.hcl.example).
  # State lives in S3 with DynamoDB locking, in the account that runs the pipeline of deployments.
  backend "s3" {}
}
