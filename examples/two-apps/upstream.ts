/**
 * Two applications, upstream side: the orders team turns raw order exports into daily totals per store
 * and authorizes the reporting team's account to read them. Synth grants that account (and only it)
 * read access to the bucket's internal data and decrypt through a KMS grant, forwards the data nodes'
 * completion markers (`_SUCCESS` objects) to its default event bus, and publishes this FlowModel to
 * `sluice/manifest.json` and the `manifest` output for the downstream application to import.
 */
import { Application, dim, sparkSql } from "sluice";

const app = new Application("orders", { account: "111122223333", region: "us-east-1" });

app.authorizeDownstream("store-reports", { account: "444455556666", region: "us-east-1" });

const raw = app.s3Dataset("raw_orders", {
  bucket: "acme-raw-orders",
  prefix: "orders",
  partitions: ["dt={}"],
  dimensions: { day: dim.datetime({ format: "%Y-%m-%d" }) },
  format: "parquet",
});

app.data("daily_store_totals", {
  inputs: { orders: raw },
  compute: sparkSql(
    "SELECT store_id, SUM(amount) AS revenue, COUNT(*) AS orders FROM orders GROUP BY store_id",
  ),
});

export default app;
