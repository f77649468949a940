/**
 * Invalid flows: each case builds one small flow from scratch with exactly one problem and checks
 * the issue's code, path and message (both from validate() and from the FlowValidationError of
 * toModel()). Then: several problems reported at once, update/patch rollback, and alarmRule().
 */
import {
  Application,
  anyOf,
  dim,
  FlowValidationError,
  HOOK_NAMES,
  inline,
  link,
  map,
  prestoSql,
  pySpark,
  range,
  ROUTE_METRIC_NAMES,
  shift,
  sparkSql,
  truncate,
  type ApplicationProps,
  type DataNodeProps,
  type FlowIssue,
  type GlueTable,
  type GlueTableProps,
  type InputLike,
  type Node,
  type RuleTerm,
  type S3Dataset,
  type S3DatasetProps,
} from "sluice";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";

function newApp(name = "valid-app", props: Partial<ApplicationProps> = {}): Application {
  return new Application(name, { account: ACCOUNT, region: REGION, ...props });
}

/** s3Dataset "events": region (STRING, filter NA/EU), day (DATETIME %Y-%m-%d). */
function events(app: Application, props: Partial<S3DatasetProps> = {}, id = "events"): S3Dataset {
  return app.s3Dataset(id, {
    bucket: "raw-events",
    dimensions: { region: dim.string(), day: dim.datetime() },
    filter: { region: ["NA", "EU"] },
    ...props,
  });
}

/** glueTable "customers": region_id (LONG). */
function customers(app: Application, props: Partial<GlueTableProps> = {}): GlueTable {
  return app.glueTable("customers", {
    database: "crm",
    table: "customers",
    dimensions: { region_id: dim.long() },
    ...props,
  });
}

/** data node "joined" (sparkSql) with the given inputs and props. */
function joined(app: Application, inputs: DataNodeProps["inputs"], props: Partial<DataNodeProps> = {}): Node {
  return app.data("joined", { inputs, compute: sparkSql("SELECT * FROM events"), ...props });
}

/** The issues toModel() throws (fails the test when it does not throw a FlowValidationError). */
function thrownIssues(app: Application): readonly FlowIssue[] {
  try {
    app.toModel();
  } catch (e) {
    expect(e).toBeInstanceOf(FlowValidationError);
    return (e as FlowValidationError).issues;
  }
  throw new Error("toModel() did not throw");
}

interface Case {
  readonly title: string;
  /** The application; default newApp(). */
  readonly app?: () => Application;
  /** Declares the flow on the application. */
  readonly build?: (app: Application) => void;
  readonly code: string;
  readonly path: string;
  readonly message: string | RegExp;
  /** How many issues the flow has in all (the expected one included). @default 1 */
  readonly count?: number;
}

const cases: Case[] = [
  // ------------------------------------------------------------ filters and values
  {
    title: "at() value outside the input's declared filter",
    build: (app) => joined(app, [events(app).at("JP")]),
    code: "filter.value-not-allowed",
    path: "nodes.joined.inputs.events.dimensions.region",
    message: `node "joined", input "events", dimension "region": value "JP" is not in the filter`,
  },
  {
    title: "at() value outside a declared filter, input given by alias",
    build: (app) => joined(app, { cust: customers(app, { filter: { region_id: [1, 2] } }).at(3) }),
    code: "filter.value-not-allowed",
    path: "nodes.joined.inputs.cust.dimensions.region_id",
    message: `node "joined", input "cust", dimension "region_id": value 3 is not in the filter`,
  },
  {
    title: "filter names an unknown dimension",
    build: (app) => events(app, { filter: { country: "US" } }),
    code: "filter.unknown-dimension",
    path: "nodes.events.dimensions.country",
    message: `node "events", dimension "country": filter names an unknown dimension (known: region, day)`,
  },
  {
    title: "LONG dimension given a non-numeric string",
    build: (app) => joined(app, [customers(app).at("abc")]),
    code: "dimension.type-mismatch",
    path: "nodes.joined.inputs.customers.dimensions.region_id",
    message: `node "joined", input "customers", dimension "region_id": value "abc" is not a valid LONG: expected a LONG, got "abc"`,
  },
  {
    title: "STRING dimension given a number in a filter",
    build: (app) => events(app, { filter: { region: 5 } }),
    code: "dimension.type-mismatch",
    path: "nodes.events.dimensions.region",
    message: `node "events", dimension "region": value 5 is not a valid STRING: expected a STRING, got number 5`,
  },
  {
    title: "DATETIME value not matching its format",
    build: (app) => joined(app, [events(app).at("*", "2024/01/05")]),
    code: "dimension.type-mismatch",
    path: "nodes.joined.inputs.events.dimensions.day",
    message: `node "joined", input "events", dimension "day": value "2024/01/05" is not a valid DATETIME: value "2024/01/05" does not match format "%Y-%m-%d": expected "-" at position 4`,
  },
  {
    title: "at() with more positions than dimensions",
    build: (app) => joined(app, [events(app).at("NA", "2024-01-05", "x")]),
    code: "input.too-many-selectors",
    path: "nodes.joined.inputs.events",
    message: `node "joined", input "events": at() gives 3 values but node "events" has 2 dimension(s) (region, day)`,
  },
  {
    title: "range() on a STRING dimension",
    build: (app) => joined(app, [events(app).at(range(-2))]),
    code: "input.range-on-string",
    path: "nodes.joined.inputs.events.dimensions.region",
    message: `node "joined", input "events", dimension "region": range() needs an ordered dimension, but it is a STRING`,
  },
  {
    title: "range(0)",
    build: (app) => joined(app, [events(app).at("*", range(0))]),
    code: "input.range-size",
    path: "nodes.joined.inputs.events.dimensions.day",
    message: `node "joined", input "events", dimension "day": range(0) must be a non-zero integer`,
  },
  // ------------------------------------------------------------ output dimensions
  {
    title: "output dimension nothing links (autoLink: false)",
    build: (app) => joined(app, [events(app)], { autoLink: false, output: { day: dim.datetime() } }),
    code: "output.unlinked",
    path: "nodes.joined.output.dimensions.day",
    message: `node "joined", output, dimension "day": nothing links this output dimension; add link("day", mapper, input.dim(...)) or an input dimension of the same name`,
  },
  {
    title: "declared output dimension with no same-named input dimension",
    build: (app) => joined(app, [events(app)], { output: { country: dim.string() } }),
    code: "output.unlinked",
    path: "nodes.joined.output.dimensions.country",
    message: `node "joined", output, dimension "country": nothing links this output dimension; add link("country", mapper, input.dim(...)) or an input dimension of the same name`,
  },
  // ------------------------------------------------------------ inputs and graph
  {
    title: "metric used as a data input",
    build: (app) => joined(app, [events(app), app.metric("errors")]),
    code: "input.metric",
    path: "nodes.joined.inputs.errors",
    message: `node "joined", input "errors": metric "errors" cannot be a data input; watch it with an alarm and use alarm.is("ALARM") as the input`,
  },
  {
    title: "node used as its own input",
    build: (app) => {
      const inputs: InputLike[] = [events(app)];
      const self = joined(app, inputs);
      inputs.push(self.at("NA"));
    },
    code: "graph.cycle",
    path: "nodes.joined.inputs.joined",
    message: `node "joined", input "joined": a node cannot be its own input`,
    count: 2, // and the graph cycle joined → joined
  },
  {
    title: "all inputs are references",
    build: (app) => joined(app, [events(app).ref()]),
    code: "input.all-references",
    path: "nodes.joined",
    message: `node "joined": every input is a reference; nothing can trigger the node`,
  },
  {
    title: "range-checked reference with an undetermined dimension",
    build: (app) => joined(app, [events(app), customers(app).ref().rangeCheck()]),
    code: "input.undetermined",
    path: "nodes.joined.inputs.customers.dimensions.region_id",
    message: `node "joined", input "customers", dimension "region_id": a range-checked reference needs every dimension linked or fixed by at(...), so its partitions are known`,
  },
  // ------------------------------------------------------------ declarations
  {
    title: "duplicate node ids",
    build: (app) => {
      events(app);
      customers(app);
      app.timer("customers", "rate(1 day)");
    },
    code: "node.duplicate",
    path: "nodes.customers",
    message: `node "customers": declared twice; node ids are unique per application`,
  },
  {
    title: "invalid node id",
    build: (app) => events(app, {}, "2events"),
    code: "node.id",
    path: "nodes.2events",
    message: `node "2events": id must start with a letter and contain only letters, digits and _ (at most 63 characters)`,
  },
  {
    title: "invalid application name",
    app: () => newApp("My_Pipeline"),
    build: (app) => events(app),
    code: "application.name",
    path: "application",
    message: `application: name "My_Pipeline" must be 2-40 lowercase letters, digits and -, starting with a letter (it prefixes AWS resource names)`,
  },
  {
    title: "bad application account",
    app: () => newApp("valid-app", { account: "1111-2222-3333" }),
    build: (app) => app.timer("daily", "rate(1 day)"),
    code: "aws.account",
    path: "application",
    message: `application: account "1111-2222-3333" is not a 12-digit AWS account id`,
  },
  {
    title: "bad application region",
    app: () => newApp("valid-app", { region: "us-east" }),
    build: (app) => app.timer("daily", "rate(1 day)"),
    code: "aws.region",
    path: "application",
    message: `application: region "us-east" is not an AWS region name`,
  },
  {
    title: "bad dataset account",
    build: (app) => customers(app, { account: "12345" }),
    code: "aws.account",
    path: "nodes.customers",
    message: `node "customers": account "12345" is not a 12-digit AWS account id`,
  },
  // ------------------------------------------------------------ timers
  {
    title: "rate() with a plural unit for 1",
    build: (app) => app.timer("daily", "rate(1 days)"),
    code: "timer.schedule",
    path: "nodes.daily",
    message: `node "daily": schedule "rate(1 days)": rate unit "days" must be singular ("day") when the value is 1`,
  },
  {
    title: "rate() with a zero value",
    build: (app) => app.timer("daily", "rate(0 minutes)"),
    code: "timer.schedule",
    path: "nodes.daily",
    message: `node "daily": schedule "rate(0 minutes)": rate value "0" must be a positive integer (at least 1)`,
  },
  {
    title: "cron() with 5 fields",
    build: (app) => app.timer("daily", "cron(0 12 * * ?)"),
    code: "timer.schedule",
    path: "nodes.daily",
    message: `node "daily": schedule "cron(0 12 * * ?)": cron expression "cron(0 12 * * ?)" must have exactly 6 space-separated fields (Minutes Hours Day-of-month Month Day-of-week Year), but has 5`,
  },
  {
    title: "cron() with both day-of-month and day-of-week",
    build: (app) => app.timer("daily", "cron(0 12 1 * MON *)"),
    code: "timer.schedule",
    path: "nodes.daily",
    message: `node "daily": schedule "cron(0 12 1 * MON *)": cron fields Day-of-month ("1") and Day-of-week ("MON") cannot both be specified; exactly one of them must be "?"`,
  },
  // ------------------------------------------------------------ dimension declarations
  {
    title: "bad datetime format directive",
    build: (app) =>
      events(app, { dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%Q" }) } }),
    code: "dimension.format",
    path: "nodes.events.dimensions.day",
    message: `node "events", dimension "day": datetime format "%Y-%Q": unsupported directive "%Q" at position 3`,
  },
  {
    title: "datetime format coarser than the granularity",
    build: (app) =>
      events(app, {
        dimensions: { region: dim.string(), day: dim.datetime({ format: "%Y-%m-%d", granularity: "HOUR" }) },
      }),
    code: "dimension.granularity",
    path: "nodes.events.dimensions.day",
    message: `node "events", dimension "day": format "%Y-%m-%d" cannot represent granularity HOUR (finest it can is DAY)`,
  },
  {
    title: "timer format coarser than its schedule's granularity",
    build: (app) => app.timer("hourly", "rate(1 hour)", { format: "%Y-%m-%d" }),
    code: "dimension.granularity",
    path: "nodes.hourly.dimensions.time",
    message: `node "hourly", dimension "time": format "%Y-%m-%d" cannot represent granularity HOUR (finest it can is DAY)`,
  },
  // ------------------------------------------------------------ datasets
  {
    title: "partition template count differs from the dimension count",
    build: (app) => events(app, { partitions: ["region={}"] }),
    code: "dataset.partitions",
    path: "nodes.events",
    message: `node "events": 1 partition template(s) for 2 dimension(s); give one per dimension`,
  },
  {
    title: "partition template without {}",
    build: (app) => events(app, { partitions: ["region", "day={}"] }),
    code: "dataset.partitions",
    path: "nodes.events",
    message: `node "events": partition template 1 "region" must contain exactly one "{}" and no "/"`,
  },
  {
    title: "bad bucket name",
    build: (app) => events(app, { bucket: "Raw_Events" }),
    code: "dataset.bucket",
    path: "nodes.events",
    message: `node "events": bucket "Raw_Events" is not a valid S3 bucket name: "R", "_", "E" are not allowed (only lowercase letters, digits, "." and "-"; no uppercase)`,
  },
  // ------------------------------------------------------------ links
  {
    title: "link to an unknown dimension",
    build: (app) => {
      const e = events(app);
      const c = customers(app);
      joined(app, [e, c], { links: [link(c.dim("regionId"), map({ NA: 1 }), e.dim("region"))] });
    },
    code: "link.unknown-dimension",
    path: "nodes.joined.inputs.customers.link.1.dimensions.regionId",
    message: `node "joined", input "customers", link 1, dimension "regionId": node "customers" has no such dimension (it has region_id)`,
  },
  {
    title: "link from a node that is not an input",
    build: (app) => {
      const e = events(app);
      const c = customers(app);
      const other = events(app, {}, "other_events");
      joined(app, [e, c], { links: [link(c.dim("region_id"), map({ NA: 1 }), other.dim("region"))] });
    },
    code: "link.not-an-input",
    path: "nodes.joined.link.1",
    message: `node "joined", link 1: node "other_events" is not an input of this node`,
  },
  {
    title: "ambiguous link: the node is input twice under two aliases",
    build: (app) => {
      const e = events(app);
      const c = customers(app);
      joined(
        app,
        { today: e, yesterday: e, cust: c },
        { links: [link(c.dim("region_id"), map({ NA: 1 }), e.dim("region"))] },
      );
    },
    code: "link.ambiguous",
    path: "nodes.joined.link.1",
    message: `node "joined", link 1: node "events" is input more than once (today, yesterday); link through "alias.region"`,
  },
  {
    title: "truncate on a STRING source",
    build: (app) => {
      const e = events(app);
      joined(app, [e], { links: [link("day", truncate("DAY"), e.dim("region"))] });
    },
    code: "link.type-mismatch",
    path: "nodes.joined.output.link.1.dimensions.day",
    message: `node "joined", output link 1, dimension "day": truncate needs DATETIME→DATETIME`,
  },
  {
    title: "shift on a STRING dimension",
    build: (app) => {
      const e = events(app);
      joined(app, [e], { outputLinks: [link("region", shift(1), e.dim("region"))] });
    },
    code: "link.type-mismatch",
    path: "nodes.joined.output.link.1.dimensions.region",
    message: `node "joined", output link 1, dimension "region": shift needs LONG→LONG or DATETIME→DATETIME, got region (STRING) → region (STRING)`,
  },
  {
    title: "shift by a unit finer than the dimension",
    build: (app) => {
      const e = events(app);
      joined(app, [e], { links: [link("day", shift(3, "HOUR"), e.dim("day"))] });
    },
    code: "link.mapper",
    path: "nodes.joined.output.link.1.dimensions.day",
    message: `node "joined", output link 1, dimension "day": shift by HOUR is finer than the DAY dimension it shifts; it would be lost`,
  },
  {
    title: "truncate to a granularity other than the target's",
    build: (app) => {
      const hourly = app.timer("hourly", "rate(1 hour)");
      joined(app, [hourly], {
        output: { day: dim.datetime() },
        links: [link("day", truncate("MONTH"), hourly.dim("time"))],
      });
    },
    code: "link.mapper",
    path: "nodes.joined.output.link.1.dimensions.day",
    message: `node "joined", output link 1, dimension "day": truncate(MONTH) feeds a DAY dimension; truncate to DAY instead`,
  },
  {
    title: "a failed explicit link is reported once, not again as an auto-link conflict",
    build: (app) => {
      const a = events(app);
      const b = events(app, {}, "other");
      joined(app, [a, b], { links: [link(b.dim("day"), truncate("DAY"), a.dim("region"))] });
    },
    code: "link.type-mismatch",
    path: "nodes.joined.inputs.other.link.1.dimensions.day",
    message: `node "joined", input "other", link 1, dimension "day": truncate needs DATETIME→DATETIME`,
  },
  {
    title: "eq between a STRING and a LONG",
    build: (app) => {
      const e = events(app);
      const c = customers(app);
      joined(app, [e, c], { links: [link(c.dim("region_id"), e.dim("region"))] });
    },
    code: "link.type-mismatch",
    path: "nodes.joined.inputs.customers.link.1.dimensions.region_id",
    message: `node "joined", input "customers", link 1, dimension "region_id": eq cannot link region (STRING) to region_id (LONG): types differ; use map() or another mapper`,
  },
  {
    title: "auto-link between same-named dimensions of different types",
    build: (app) => {
      const e = events(app);
      const c = customers(app, { dimensions: { region: dim.long() } });
      joined(app, [e, c]);
    },
    code: "link.auto-type-mismatch",
    path: "nodes.joined.inputs.customers.dimensions.region",
    message: `node "joined", input "customers", dimension "region": cannot auto-link to input "events" (region (STRING) vs region (LONG): types differ; use map() or another mapper); add an explicit link or set autoLink: false`,
  },
  {
    title: "two links with the same target",
    build: (app) => {
      const e = events(app);
      const c = customers(app);
      joined(app, [e, c], {
        links: [
          link(c.dim("region_id"), map({ NA: 1, EU: 2 }), e.dim("region")),
          link(c.dim("region_id"), map({ NA: 10, EU: 20 }), e.dim("region")),
        ],
      });
    },
    code: "link.duplicate-target",
    path: "nodes.joined.inputs.customers.link.2.dimensions.region_id",
    message: `node "joined", input "customers", link 2, dimension "region_id": dimension is the target of two links`,
  },
  {
    title: "map() key that does not coerce to the source's type",
    build: (app) => {
      const e = events(app);
      const c = customers(app);
      joined(app, [e, c], { links: [link(e.dim("region"), map({ one: "NA" }), c.dim("region_id"))] });
    },
    code: "dimension.type-mismatch",
    path: "nodes.joined.inputs.events.link.1.map.key.dimensions.region",
    message: `node "joined", input "events", link 1 map key, dimension "region": value "one" is not a valid LONG: expected a LONG, got "one"`,
  },
  // ------------------------------------------------------------ compute
  {
    title: "prestoSql on engine glue",
    build: (app) => joined(app, [events(app)], { compute: prestoSql("SELECT 1", { engine: "glue" }) }),
    code: "compute.engine",
    path: "nodes.joined.compute.1",
    message: `node "joined", compute 1: prestoSql cannot run on glue (it runs on athena)`,
  },
  {
    title: "workerType on Athena",
    build: (app) => joined(app, [events(app)], { compute: prestoSql("SELECT 1", { workerType: "G.1X" }) }),
    code: "compute.params",
    path: "nodes.joined.compute.1",
    message: `node "joined", compute 1: workerType apply to Glue only, but the target runs on athena`,
  },
  {
    title: "bad glueVersion",
    build: (app) =>
      joined(app, [events(app)], { compute: pySpark("output = events", { glueVersion: "3.5" }) }),
    code: "compute.glue-version",
    path: "nodes.joined.compute.1",
    message: `node "joined", compute 1: glueVersion "3.5" is not one of 0.9, 1.0, 2.0, 3.0, 4.0, 5.0`,
  },
  {
    title: "bad workerType",
    build: (app) =>
      joined(app, [events(app)], {
        compute: [sparkSql("SELECT 1"), pySpark("output = events", { workerType: "G.3X" })],
      }),
    code: "compute.worker-type",
    path: "nodes.joined.compute.2",
    message: `node "joined", compute 2: workerType "G.3X" is not a Glue worker type (Standard, G.025X, G.1X, G.2X, G.4X, G.8X, Z.2X)`,
  },
  {
    title: "missing compute",
    build: (app) => app.data("joined", { inputs: [events(app)] } as unknown as DataNodeProps),
    code: "compute.missing",
    path: "nodes.joined",
    message: `node "joined": a data node needs at least one compute target`,
  },
  {
    title: "empty compute list",
    build: (app) => joined(app, [events(app)], { compute: [] }),
    code: "compute.missing",
    path: "nodes.joined",
    message: `node "joined": a data node needs at least one compute target`,
  },
  {
    title: "code reference without #export",
    build: (app) => joined(app, [events(app)], { compute: inline("handlers/page.ts") }),
    code: "code.reference",
    path: "nodes.joined.compute.1",
    message: `node "joined", compute 1: code reference "handlers/page.ts" must look like "path/to/module.ts#exportName"`,
  },
  // ------------------------------------------------------------ hooks and policy
  {
    title: "unknown hook name",
    build: (app) =>
      joined(app, [events(app)], { hooks: { onStart: "hooks/start.ts#onStart" } as DataNodeProps["hooks"] }),
    code: "hook.unknown",
    path: "nodes.joined.hook.onStart",
    message: `node "joined", hook onStart: unknown hook (hooks: ${HOOK_NAMES.join(", ")}, checkpoints)`,
  },
  {
    title: "negative retries",
    build: (app) => joined(app, [events(app)], { retries: -1 }),
    code: "node.retries",
    path: "nodes.joined.retries",
    message: `node "joined", retries: retries must be an integer from 0 to 100, got -1`,
  },
  {
    title: "pendingTtlSeconds 0",
    build: (app) => joined(app, [events(app)], { pendingTtlSeconds: 0 }),
    code: "node.pending-ttl",
    path: "nodes.joined.pendingTtlSeconds",
    message: `node "joined", pendingTtlSeconds: pendingTtlSeconds must be a positive integer, got 0`,
  },
  // ------------------------------------------------------------ alarms
  {
    title: "composite alarm referring to a non-alarm",
    build: (app) => {
      const e = events(app);
      const notAnAlarm: RuleTerm = {
        ruleModel: () => ({ op: "state", state: "ALARM", alarm: e.id }),
        ruleAlarms: () => [e],
      };
      app.compositeAlarm("monitor", { rule: anyOf(notAnAlarm) });
    },
    code: "composite.not-an-alarm",
    path: "nodes.monitor.rule",
    message: `node "monitor", rule: "events" is a s3Dataset, not an alarm`,
  },
  {
    title: "composite alarm referring to an alarm of another application",
    build: (app) => {
      const foreign = newApp("other-app").externalAlarm("upstream", { alarmName: "upstream-health" });
      app.compositeAlarm("monitor", { rule: anyOf(foreign.is("ALARM")) });
    },
    code: "composite.unknown-alarm",
    path: "nodes.monitor.rule",
    message: `node "monitor", rule: alarm "upstream" is not declared in this application`,
  },
  {
    title: "route metric with an unknown metric name",
    build: (app) => {
      const j = joined(app, [events(app)]);
      app.alarm("failures", {
        metric: app.routeMetrics(j).get("ExecutionFailures"),
        threshold: 1,
        comparison: "GreaterThanOrEqualToThreshold",
      });
    },
    code: "alarm.metric",
    path: "nodes.failures",
    message: `node "failures": metric: "ExecutionFailures" is not a route metric (one of ${ROUTE_METRIC_NAMES.join(", ")})`,
  },
  {
    title: "metric-math expression using an undeclared id",
    build: (app) => {
      const m = app.metric("custom");
      app.alarm("error_rate", {
        metrics: { errs: m.get("Errors") },
        expression: "100 * errs / total",
        threshold: 5,
        comparison: "GreaterThanThreshold",
      });
    },
    code: "alarm.math-unknown-id",
    path: "nodes.error_rate.expression",
    message: `node "error_rate", expression: expression "100 * errs / total" uses "total", which is not one of the metrics (errs)`,
  },
  {
    title: "alarm period of 45 seconds",
    build: (app) => {
      const m = app.metric("custom");
      app.alarm("errors", {
        metric: m.get("Errors"),
        periodSeconds: 45,
        threshold: 1,
        comparison: "GreaterThanThreshold",
      });
    },
    code: "alarm.period",
    path: "nodes.errors",
    message: `node "errors": period 45s must be 10, 30 or a multiple of 60`,
  },
  // ------------------------------------------------------------ environments
  {
    title: "environment binding of an unknown dataset",
    build: (app) => {
      events(app);
      app.environment("prod", {
        account: ACCOUNT,
        region: REGION,
        datasets: { evnets: { bucket: "prod-raw" } },
      });
    },
    code: "environment.dataset",
    path: "environments.prod",
    message: `environments.prod: dataset binding "evnets" does not name an s3Dataset or glueTable of the application`,
  },
  {
    title: "environment declared twice",
    build: (app) => {
      app.environment("prod", { account: ACCOUNT, region: REGION });
      app.environment("prod", { account: "999988887777", region: REGION });
    },
    code: "environment.duplicate",
    path: "environments.prod",
    message: `environments.prod: declared twice`,
  },
  {
    title: "environment with a bad region",
    build: (app) => app.environment("prod", { account: ACCOUNT, region: "eu-middle" }),
    code: "aws.region",
    path: "environments.prod",
    message: `environments.prod: region "eu-middle" is not an AWS region name`,
  },
  {
    title: "environment binding of a data node",
    build: (app) => {
      joined(app, [events(app)]);
      app.environment("prod", {
        account: ACCOUNT,
        region: REGION,
        datasets: { joined: { bucket: "prod-raw" } },
      });
    },
    code: "environment.dataset",
    path: "environments.prod",
    message: `environments.prod: dataset binding "joined" does not name an s3Dataset or glueTable of the application`,
  },
];

describe("each invalid flow reports its problem", () => {
  test("the building blocks alone form a valid flow", () => {
    const app = newApp();
    const e = events(app);
    const c = customers(app);
    joined(app, [e, c.ref()], { links: [link(c.dim("region_id"), map({ NA: 1, EU: 2 }), e.dim("region"))] });
    app.timer("daily", "rate(1 day)");
    const m = app.metric("custom");
    const a = app.alarm("errors", {
      metric: m.get("Errors"),
      threshold: 1,
      comparison: "GreaterThanThreshold",
    });
    app.compositeAlarm("monitor", { rule: anyOf(a.is("ALARM")) });
    app.environment("prod", {
      account: ACCOUNT,
      region: REGION,
      datasets: { events: { bucket: "prod-raw" } },
    });
    expect(app.validate()).toEqual([]);
    expect(() => app.toModel()).not.toThrow();
  });

  test("the cases are distinct", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
  });

  test.each(cases)("$title → $code at $path", (c) => {
    const app = (c.app ?? newApp)();
    c.build?.(app);
    const issues = app.validate();
    expect(issues).toContainEqual(expect.objectContaining({ code: c.code, path: c.path }));
    const hits = issues.filter((i) => i.code === c.code && i.path === c.path);
    expect(hits).toHaveLength(1);
    const hit = hits[0] as FlowIssue;
    if (typeof c.message === "string") expect(hit.message).toBe(c.message);
    else expect(hit.message).toMatch(c.message);
    expect(issues).toHaveLength(c.count ?? 1);
    expect(thrownIssues(app)).toEqual(issues);
  });
});

describe("aggregation", () => {
  test("a flow with five problems reports all five at once", () => {
    const app = newApp("Bad_Name");
    const e = events(app, { bucket: "x" });
    const c = customers(app);
    joined(app, [e.at("JP"), c], { retries: -2, compute: inline("handlers/page.ts") });

    const issues = thrownIssues(app);
    expect(issues.map((i) => [i.code, i.path]).sort()).toEqual(
      [
        ["application.name", "application"],
        ["code.reference", "nodes.joined.compute.1"],
        ["dataset.bucket", "nodes.events"],
        ["filter.value-not-allowed", "nodes.joined.inputs.events.dimensions.region"],
        ["node.retries", "nodes.joined.retries"],
      ].sort(),
    );
    expect(app.validate()).toEqual(issues);
    const error = (() => {
      try {
        app.toModel();
      } catch (err) {
        return err as FlowValidationError;
      }
      throw new Error("toModel() did not throw");
    })();
    expect(error.message).toMatch(/^flow is invalid \(5 problems\):\n/);
    for (const i of issues) expect(error.message).toContain(`  - ${i.message}`);
  });
});

describe("update and patch re-validate and revert", () => {
  function chain(): { app: Application; a: Node; b: Node } {
    const app = newApp();
    const e = events(app);
    const a = app.data("a", { inputs: [e], compute: sparkSql("SELECT * FROM events") });
    const b = app.data("b", { inputs: [a], compute: sparkSql("SELECT * FROM a") });
    expect(app.validate()).toEqual([]);
    return { app, a, b };
  }

  test("update creating a cycle throws and keeps the old props", () => {
    const { app, a, b } = chain();
    const before = a.props;
    let error: unknown;
    try {
      app.update<DataNodeProps>("a", { inputs: [b], compute: sparkSql("SELECT * FROM b") });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlowValidationError);
    expect((error as FlowValidationError).issues).toContainEqual({
      code: "graph.cycle",
      path: "nodes.a",
      message: `node "a": cycle a → b → a`,
    });
    expect(app.node("a")).toBe(a);
    expect(a.props).toBe(before);
    expect(app.validate()).toEqual([]);
  });

  test("patch creating a cycle throws and keeps the old props", () => {
    const { app, a, b } = chain();
    const before = a.props;
    expect(() => app.patch<DataNodeProps>("a", { inputs: { up: b.at("NA") } })).toThrow(FlowValidationError);
    expect(a.props).toBe(before);
    expect(app.validate()).toEqual([]);
    expect(() => app.toModel()).not.toThrow();
  });

  test("patch making a node its own input throws and keeps the old props", () => {
    const { app, b } = chain();
    const before = b.props;
    let error: unknown;
    try {
      app.patch<DataNodeProps>("b", { inputs: [b] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlowValidationError);
    expect((error as FlowValidationError).issues).toContainEqual({
      code: "graph.cycle",
      path: "nodes.b.inputs.b",
      message: `node "b", input "b": a node cannot be its own input`,
    });
    expect(b.props).toBe(before);
  });

  test("an invalid patch downstream of the node is reported and reverted", () => {
    const { app, a } = chain();
    const before = a.props;
    let error: unknown;
    try {
      app.patch<DataNodeProps>("a", { output: { hour: dim.datetime({ format: "%Y-%m-%dT%H" }) } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlowValidationError);
    expect((error as FlowValidationError).issues).toContainEqual({
      code: "output.unlinked",
      path: "nodes.a.output.dimensions.hour",
      message: `node "a", output, dimension "hour": nothing links this output dimension; add link("hour", mapper, input.dim(...)) or an input dimension of the same name`,
    });
    expect(a.props).toBe(before);
  });

  test("update of an unknown node throws", () => {
    const { app } = chain();
    expect(() => app.update("nope", {})).toThrow(FlowValidationError);
  });
});

describe("alarmRule() on an invalid composite", () => {
  test("throws FlowValidationError naming the problem", () => {
    const app = newApp();
    const e = events(app);
    const good = app.alarm("errors", {
      metric: app.metric("custom").get("Errors"),
      threshold: 1,
      comparison: "GreaterThanThreshold",
    });
    const notAnAlarm: RuleTerm = {
      ruleModel: () => ({ op: "state", state: "ALARM", alarm: e.id }),
      ruleAlarms: () => [e],
    };
    const monitor = app.compositeAlarm("monitor", { rule: anyOf(good.is("ALARM"), notAnAlarm) });
    let error: unknown;
    try {
      monitor.alarmRule();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlowValidationError);
    expect((error as FlowValidationError).issues).toEqual([
      {
        code: "composite.not-an-alarm",
        path: "nodes.monitor.rule",
        message: `node "monitor", rule: "events" is a s3Dataset, not an alarm`,
      },
    ]);
  });

  test("throws for an empty anyOf() and for a composite referring to itself", () => {
    const app = newApp();
    const empty = app.compositeAlarm("empty", { rule: anyOf() });
    expect(() => empty.alarmRule()).toThrow(FlowValidationError);
    expect(() => empty.alarmRule()).toThrow(/node "empty", rule: anyOf\(\) needs at least one term/);

    const self = app.compositeAlarm("self_ref", { rule: anyOf(empty.is("OK")) });
    expect(() => app.update("self_ref", { rule: anyOf(self.is("ALARM")) })).toThrow(FlowValidationError);
    expect(self.props.rule.ruleAlarms()).toEqual([empty]);
    expect(self.alarmRule()).toBe(`OK("valid-app-empty")`);
  });
});
