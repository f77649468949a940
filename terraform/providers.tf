# One provider alias per account; each module instance is handed the alias of its account.
provider "aws" {
  alias               = "dev"
  region              = var.dev_region
  allowed_account_ids = [var.dev_account_id]

  assume_role {
    role_arn     = var.dev_role_arn
    session_name = "sluice-deploy"
  }

  default_tags {
    tags = {
      "sluice:managed-by" = "terraform"
    }
  }
}

provider "aws" {
  alias               = "prod"
  region              = var.prod_region
  allowed_account_ids = [var.prod_account_id]

  assume_role {
    role_arn     = var.prod_role_arn
    session_name = "sluice-deploy"
  }

  default_tags {
    tags = {
      "sluice:managed-by" = "terraform"
    }
  }
}
