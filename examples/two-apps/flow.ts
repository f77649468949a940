/**
 * Two applications, downstream side: the reporting team imports the orders team's daily store totals
 * (see upstream.ts) and ranks the stores every day, as soon as the upstream partition lands.
 *
 * The manifest is the upstream's FlowModel. Here it comes from the upstream flow itself; between two
 * teams it is the JSON the upstream publishes (`terraform output -raw manifest > orders.manifest.json`,
 * or `sluice/manifest.json` in its bucket), given as `manifest: "orders.manifest.json"`.
 * Only the upstream's own data nodes can be imported, and only because it authorizes this account.
 */
import { Application, sparkSql } from "sluice";
import upstream from "./upstream";

const app = new Application("store-reports", { account: "444455556666", region: "us-east-1" });

const orders = app.importUpstream("orders", {
  account: "111122223333",
  region: "us-east-1",
  manifest: upstream.toModel(),
});

app.data("store_ranking", {
  inputs: { totals: orders.node("daily_store_totals") },
  compute: sparkSql("SELECT store_id, revenue, RANK() OVER (ORDER BY revenue DESC) AS rank FROM totals"),
});

export default app;
