output "dev" {
  description = "Storage bucket, routing table, queues, router function and topic of dev"
  value = {
    bucket          = module.daily_sales_dev.bucket
    table           = module.daily_sales_dev.table
    router_function = module.daily_sales_dev.router_function
    topic           = module.daily_sales_dev.topic
  }
}

output "prod" {
  description = "Storage bucket, routing table, queues, router function and topic of prod"
  value = {
    bucket          = module.daily_sales_prod.bucket
    table           = module.daily_sales_prod.table
    router_function = module.daily_sales_prod.router_function
    topic           = module.daily_sales_prod.topic
  }
}
