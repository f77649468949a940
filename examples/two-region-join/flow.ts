/**
 * Two-region join: clickstream lands in us-east-1 partitioned by a market code (STRING), billing lives
 * in a Glue table of the finance account in eu-west-1 partitioned by a numeric market id (LONG).
 * A map link ties them together, so each (market, day) joins exactly its own billing partition.
 */
import { Application, dim, link, map, sparkSql } from "sluice";

const app = new Application("click-revenue", { account: "111122223333", region: "us-east-1" });

const clicks = app.s3Dataset("clicks", {
  bucket: "acme-clickstream-us",
  prefix: "clicks",
  partitions: ["market={}", "dt={}"],
  dimensions: { market: dim.string(), day: dim.datetime({ format: "%Y%m%d" }) },
  filter: { market: ["NA", "EU", "APAC"] },
  format: "json",
  completion: null,
});

const billing = app.glueTable("billing", {
  account: "555566667777",
  region: "eu-west-1",
  database: "finance",
  table: "billing_daily",
  dimensions: { market_id: dim.long(), day: dim.datetime() },
  filter: { market_id: [1, 2, 3] },
});

app.data("revenue_per_click", {
  inputs: [clicks, billing],
  // billing.market_id = map(clicks.market); its inverse lets execute() start from either side.
  links: [link(billing.dim("market_id"), map({ NA: 1, EU: 2, APAC: 3 }), clicks.dim("market"))],
  compute: sparkSql(
    `SELECT c.campaign_id, SUM(b.amount) / COUNT(DISTINCT c.click_id) AS revenue_per_click
       FROM clicks c JOIN billing b ON c.order_id = b.order_id
      GROUP BY c.campaign_id`,
    { workers: 20, workerType: "G.2X", glueVersion: "5.0" },
  ),
});

export default app;
