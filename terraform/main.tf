# The same synthesized module, instantiated in two accounts. `sluice synth` regenerates
# ../modules/daily-aggregation from examples/daily-aggregation/flow.ts; review its diff, then plan here.
module "daily_sales_dev" {
  source      = "../modules/daily-aggregation"
  environment = "dev"

  providers = {
    aws = aws.dev
  }
}

module "daily_sales_prod" {
  source      = "../modules/daily-aggregation"
  environment = "prod"

  providers = {
    aws = aws.prod
  }
}
