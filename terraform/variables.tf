variable "dev_account_id" {
  description = "AWS account of the dev environment"
  type        = string
}

variable "dev_region" {
  description = "Region of the dev environment"
  type        = string
  default     = "us-east-1"
}

variable "dev_role_arn" {
  description = "Role the deployment assumes in the dev account"
  type        = string
}

variable "prod_account_id" {
  description = "AWS account of the prod environment"
  type        = string
}

variable "prod_region" {
  description = "Region of the prod environment"
  type        = string
  default     = "us-east-1"
}

variable "prod_role_arn" {
  description = "Role the deployment assumes in the prod account"
  type        = string
}
