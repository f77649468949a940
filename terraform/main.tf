# The same synthesized module, instantiated in two accounts. `sluice synth` regenerates
# ../modules/daily-aggregation from examples/daily-aggregation/flow.ts; review its diff, then plan here.
# The module is identical for every environment: each instance passes its environment and where its
# external datasets are (`datasets`: unset fields keep the flow's declaration).
module "daily_sales_dev" {
  source      = "../modules/daily-aggregation"
  environment = "dev"
  datasets    = {}

  providers = {
    aws = aws.dev
  }
}

module "daily_sales_prod" {
  source      = "../modules/daily-aggregation"
  environment = "prod"
  datasets = {
    orders = { bucket = "acme-prod-orders" }
  }

  providers = {
    aws = aws.prod
  }
}
