/**
 * Daily sales aggregation: every morning, once the last 7 days of orders have landed, join them with
 * the store reference table and write one partition of 7-day rolling revenue per store.
 */
import { Application, dim, range, sparkSql } from "sluice";

const app = new Application("daily-sales", { account: "111122223333", region: "us-east-1" });

app.environment("prod", {
  account: "999988887777",
  region: "us-east-1",
  datasets: { orders: { bucket: "acme-prod-orders" } },
  config: { currency: "USD" },
});

// 06:00 UTC every day; the timer's "day" dimension carries the date it fired for.
const daily = app.timer("daily", "cron(0 6 * * ? *)", { dimension: "day" });

const orders = app.s3Dataset("orders", {
  bucket: "acme-raw-orders",
  prefix: "orders",
  partitions: ["dt={}"],
  dimensions: { day: dim.datetime({ format: "%Y-%m-%d" }) },
  format: "parquet",
  completion: "_SUCCESS",
});

// Unpartitioned reference table in the Glue catalog: read, never a trigger.
const stores = app.glueTable("stores", { database: "reference", table: "stores" });

app.data("store_revenue_7d", {
  inputs: {
    tick: daily,
    // The tip day and the 6 days before it; wait until all 7 partitions exist.
    orders: orders.at(range(-7)).rangeCheck(),
    stores: stores.ref(),
  },
  output: { day: dim.datetime() },
  compute: sparkSql(
    `SELECT s.store_id, s.store_name, SUM(o.amount) AS revenue_7d, COUNT(*) AS orders_7d
       FROM orders o JOIN stores s ON o.store_id = s.store_id
      GROUP BY s.store_id, s.store_name`,
    { workers: 5, workerType: "G.1X", glueVersion: "4.0" },
  ),
  retries: 1,
  pendingTtlSeconds: 2 * 24 * 3600,
});

export default app;
