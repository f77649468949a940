import { Application, dim, inline, LocalRuntime, range } from "sluice";

test("brief-like chain runs locally", async () => {
  const app = new Application("smoke", { account: "111122223333", region: "us-east-1" });
  const events = app.s3Dataset("events", {
    bucket: "raw",
    partitions: ["region={}", "{}"],
    dimensions: { region: dim.string(), day: dim.datetime() },
    filter: { region: ["NA", "EU"] },
  });
  const daily = app.timer("daily", "rate(1 day)", { dimension: "day" });
  const seen: string[] = [];
  const joined = app.data("joined", {
    inputs: [events, daily],
    compute: inline(async (inputs, output) => {
      seen.push(`joined ${JSON.stringify(output.dimensions)} ${inputs.events?.paths.length}`);
    }),
  });
  const weekly = app.data("weekly", {
    inputs: { last7: joined.at("*", range(-3)) },
    compute: inline(async (inputs) => {
      seen.push(`weekly ${inputs.last7?.paths.map((p) => p.split("/").slice(-2).join("/")).join(",")}`);
    }),
  });
  const rt = await LocalRuntime.start(app);
  await rt.process(events.at("NA", "2024-05-07"));
  expect(await rt.pending(joined)).toEqual([expect.objectContaining({ received: ["events"] })]);
  await rt.process(daily.at("2024-05-07"));
  expect(seen).toEqual([
    'joined {"region":"NA","day":"2024-05-07"} 1',
    "weekly NA/2024-05-07,NA/2024-05-06,NA/2024-05-05",
  ]);
  const r = await rt.poll(joined.at("NA", "2024-05-07"));
  expect(r.path).toMatch(/internal_data\/joined\/NA\/2024-05-07$/);
  expect((await rt.executions(weekly)).map((e) => e.status)).toEqual(["SUCCEEDED"]);
  expect(rt.metrics(joined)).toMatchObject({ ExecutionBegin: 1, ExecutionSuccess: 1, PendingCreated: 1 });
  await rt.stop();
});
