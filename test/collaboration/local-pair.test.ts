import { join } from "node:path";
import { Application, dim, inline, LocalRuntime } from "sluice";

test("an upstream data node's success reaches a downstream route in a LocalRuntime pair", async () => {
  const orders = new Application("orders", { account: "111111111111", region: "us-east-1" });
  orders.authorizeDownstream("reports", { account: "222222222222", region: "us-west-2" });
  const raw = orders.s3Dataset("raw", {
    bucket: "raw-orders",
    partitions: ["{}"],
    dimensions: { day: dim.datetime() },
  });
  orders.data("daily_orders", {
    inputs: [raw],
    compute: inline(async () => {}),
  });

  const reports = new Application("reports", { account: "222222222222", region: "us-west-2" });
  const upstream = reports.importUpstream("orders", {
    account: "111111111111",
    region: "us-east-1",
    manifest: orders.toModel(),
  });
  const seen: { paths: readonly string[]; day: unknown; dataset: unknown }[] = [];
  const report = reports.data("report", {
    inputs: { orders: upstream.node("daily_orders") },
    compute: inline(async (inputs, output, ctx) => {
      const { node, kind, location } = ctx.dataset?.("orders") ?? {};
      seen.push({
        paths: inputs.orders?.paths ?? [],
        day: output.dimensions.day,
        dataset: { node, kind, location },
      });
    }),
  });

  const up = await LocalRuntime.start(orders);
  const down = (await LocalRuntime.start(reports)).subscribe(up);
  try {
    await up.process(raw.at("2024-05-07"));
    const upstreamPartition = join(up.dir, "internal_data", "daily_orders", "2024-05-07");
    expect(up.partitionPath({ node: { id: "daily_orders" }, selectors: ["2024-05-07"] })).toBe(
      upstreamPartition,
    );
    expect(seen).toEqual([
      {
        paths: [upstreamPartition],
        day: "2024-05-07",
        // ctx.dataset of an imported input: where every partition of it is, in the upstream's storage.
        dataset: {
          node: "daily_orders",
          kind: "upstreamData",
          location: join(up.dir, "internal_data", "daily_orders"),
        },
      },
    ]);
    expect((await down.executions(report)).map((e) => e.status)).toEqual(["SUCCEEDED"]);
    // The downstream's own storage holds only its own node.
    expect((await down.poll(report.at("2024-05-07"))).path).toBe(
      join(down.dir, "internal_data", "report", "2024-05-07"),
    );
  } finally {
    await down.stop();
    await up.stop();
  }
});

test("subscribe: a runtime that imports nothing of the upstream is an error", async () => {
  const a = new Application("alone", { account: "111111111111", region: "us-east-1" });
  const b = new Application("other", { account: "111111111111", region: "us-east-1" });
  const ra = await LocalRuntime.start(a);
  const rb = await LocalRuntime.start(b);
  try {
    expect(() => rb.subscribe(ra)).toThrow(/other imports no node of "alone"/);
  } finally {
    await ra.stop();
    await rb.stop();
  }
});
