/** LocalStorage: partition paths on disk, completion checks, markers, clearing. */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type {
  DataNodeModel,
  DimensionModel,
  GlueTableNodeModel,
  NodeModel,
  S3DatasetNodeModel,
} from "../../src/flow/model/flow-model";
import { LOCAL_EXTERNAL_DIR, LocalStorage } from "../../src/runtime-bundle/local/local-storage";
import { COMPLETION_MARKER, type Storage } from "../../src/runtime-bundle/core/storage";
import { briefApp } from "../support/brief-app";

const REGION_DAY: readonly DimensionModel[] = [
  { name: "region", type: "STRING" },
  { name: "day", type: "DATETIME", format: "%Y-%m-%d", granularity: "DAY" },
];

const events: S3DatasetNodeModel = {
  id: "events",
  kind: "s3Dataset",
  signal: { kind: "s3", dimensions: REGION_DAY, filter: {} },
  metadata: {},
  account: "444455556666",
  region: "us-east-1",
  bucket: "raw",
  prefix: "events",
  partitions: ["region={}", "{}"],
  format: "parquet",
  completion: "_SUCCESS",
};

const customers: GlueTableNodeModel = {
  id: "customers",
  kind: "glueTable",
  signal: { kind: "glueTable", dimensions: [{ name: "region_id", type: "LONG", digits: 2 }], filter: {} },
  metadata: {},
  account: "111122223333",
  region: "us-east-1",
  database: "crm",
  table: "customers",
};

function dataNode(id: string, dimensions: readonly DimensionModel[]): DataNodeModel {
  return {
    id,
    kind: "data",
    signal: { kind: "internal", dimensions, filter: {} },
    metadata: {},
    inputs: [],
    links: [],
    outputLinks: [],
    autoLink: true,
    compute: [],
    hooks: { handlers: {}, checkpoints: [] },
    retries: 0,
    pendingTtlSeconds: 86400,
    format: "parquet",
    path: `internal_data/${id}`,
  };
}

const joined = dataNode("joined", REGION_DAY);
const DIMS = { region: "NA", day: "2024-05-07" };

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "sluice-local-storage-"));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

describe("partitionPath", () => {
  it("puts data nodes under <root>/internal_data/<id>/<values>", () => {
    const s = new LocalStorage({ root: tmp });
    expect(s.partitionPath(joined, DIMS)).toBe(path.join(tmp, "internal_data", "joined", "NA", "2024-05-07"));
  });

  it("puts external datasets without a bound folder under <root>/external/<id>/<segments>", () => {
    const s = new LocalStorage({ root: tmp });
    expect(s.partitionPath(events, DIMS)).toBe(
      path.join(tmp, LOCAL_EXTERNAL_DIR, "events", "region=NA", "2024-05-07"),
    );
    expect(s.partitionPath(customers, { region_id: 3 })).toBe(
      path.join(tmp, "external", "customers", "region_id=03"),
    );
  });

  it("uses the folder bound to an external dataset", () => {
    const raw = path.join(tmp, "raw-events");
    const table = path.join(tmp, "warehouse", "customers");
    const s = new LocalStorage({ root: path.join(tmp, "root"), datasets: { events: raw, customers: table } });
    expect(s.partitionPath(events, DIMS)).toBe(path.join(raw, "region=NA", "2024-05-07"));
    expect(s.partitionPath(customers, { region_id: 12 })).toBe(path.join(table, "region_id=12"));
  });

  it("resolves relative folders to absolute paths", () => {
    const s = new LocalStorage({ root: "rel-root", datasets: { events: "rel-events" } });
    expect(s.root).toBe(path.resolve("rel-root"));
    expect(s.partitionPath(joined, DIMS)).toBe(
      path.resolve("rel-root", "internal_data/joined/NA/2024-05-07"),
    );
    expect(s.partitionPath(events, DIMS)).toBe(path.resolve("rel-events", "region=NA", "2024-05-07"));
  });

  it("a node without dimensions is its dataset root", () => {
    const s = new LocalStorage({ root: tmp });
    const snap = dataNode("snap", []);
    expect(s.partitionPath(snap, {})).toBe(path.join(tmp, "internal_data", "snap"));
    expect(s.datasetRoot(snap)).toBe(path.join(tmp, "internal_data", "snap"));
  });

  it("throws for nodes without data and for values that are not one segment", () => {
    const s = new LocalStorage({ root: tmp });
    const timer: NodeModel = {
      id: "daily",
      kind: "timer",
      schedule: "rate(1 day)",
      signal: { kind: "timer", dimensions: [REGION_DAY[1]], filter: {} },
      metadata: {},
    };
    expect(() => s.partitionPath(timer, { day: "2024-05-07" })).toThrow(/has no partitions/);
    expect(() => s.datasetRoot(timer)).toThrow(/has no partitions/);
    expect(() => s.partitionPath(joined, { region: "..", day: "2024-05-07" })).toThrow(/path segment/);
    expect(() => s.partitionPath(joined, { region: "a/b", day: "2024-05-07" })).toThrow(/path segment/);
    expect(() => s.partitionPath(joined, { region: "NA" })).toThrow(/"day"/);
  });

  it("lays out the design brief's nodes", () => {
    const m = briefApp().toModel();
    const s = new LocalStorage({ root: tmp, datasets: { events: path.join(tmp, "ev") } });
    expect(s.partitionPath(m.nodes.events, { region: "EU", day: "2024-05-07" })).toBe(
      path.join(tmp, "ev", "region=EU", "2024-05-07"),
    );
    expect(s.partitionPath(m.nodes.customers, { region_id: 2 })).toBe(
      path.join(tmp, "external", "customers", "region_id=2"),
    );
    expect(s.partitionPath(m.nodes.weekly, { region: "NA", day: "2024-05-07" })).toBe(
      path.join(tmp, "internal_data", "weekly", "NA", "2024-05-07"),
    );
  });
});

describe("exists", () => {
  it("with a completion name, is true only once the marker file exists", async () => {
    const s: Storage = new LocalStorage({ root: tmp });
    const p = s.partitionPath(joined, DIMS);
    expect(await s.exists(p, COMPLETION_MARKER)).toBe(false);
    await mkdir(p, { recursive: true });
    await writeFile(path.join(p, "part-0.parquet"), "data");
    expect(await s.exists(p, COMPLETION_MARKER)).toBe(false);
    await writeFile(path.join(p, COMPLETION_MARKER), "");
    expect(await s.exists(p, COMPLETION_MARKER)).toBe(true);
    expect(await s.exists(p, "DONE")).toBe(false);
  });

  it("a folder with the marker's name does not count", async () => {
    const s = new LocalStorage({ root: tmp });
    const p = path.join(tmp, "x");
    await mkdir(path.join(p, COMPLETION_MARKER), { recursive: true });
    expect(await s.exists(p, COMPLETION_MARKER)).toBe(false);
  });

  it("without a completion name, needs one data file (not _ or . names, not folders)", async () => {
    const s = new LocalStorage({ root: tmp });
    const p = s.partitionPath(events, DIMS);
    expect(await s.exists(p, null)).toBe(false);
    await mkdir(path.join(p, "nested"), { recursive: true });
    await writeFile(path.join(p, "nested", "part-0.csv"), "a");
    await writeFile(path.join(p, "_SUCCESS"), "");
    await writeFile(path.join(p, ".part-0.csv.crc"), "");
    expect(await s.exists(p, null)).toBe(false);
    await writeFile(path.join(p, "part-0.csv"), "a,b");
    expect(await s.exists(p, null)).toBe(true);
  });

  it("is false when the path is a file or lies under a file", async () => {
    const s = new LocalStorage({ root: tmp });
    const f = path.join(tmp, "file");
    await writeFile(f, "x");
    expect(await s.exists(f, null)).toBe(false);
    expect(await s.exists(f, COMPLETION_MARKER)).toBe(false);
    expect(await s.exists(path.join(f, "sub"), null)).toBe(false);
  });

  it("finds files dropped in the default external folder", async () => {
    const s = new LocalStorage({ root: tmp });
    const dir = path.join(tmp, "external", "events", "region=NA", "2024-05-07");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "_SUCCESS"), "");
    expect(await s.exists(s.partitionPath(events, DIMS), events.completion)).toBe(true);
  });

  it("rejects completion names that are not plain file names", async () => {
    const s = new LocalStorage({ root: tmp });
    await expect(s.exists(tmp, "../x")).rejects.toThrow(/plain file name/);
    await expect(s.exists(tmp, "")).rejects.toThrow(/plain file name/);
  });
});

describe("writeMarker", () => {
  it("creates the folder and an empty marker file", async () => {
    const s = new LocalStorage({ root: tmp });
    const p = s.partitionPath(joined, DIMS);
    await s.writeMarker(p, COMPLETION_MARKER);
    expect(await readFile(path.join(p, COMPLETION_MARKER), "utf8")).toBe("");
    expect(await s.exists(p, COMPLETION_MARKER)).toBe(true);
  });

  it("is idempotent and truncates an existing marker", async () => {
    const s = new LocalStorage({ root: tmp });
    const p = path.join(tmp, "p");
    await mkdir(p);
    await writeFile(path.join(p, "DONE"), "old");
    await s.writeMarker(p, "DONE");
    await s.writeMarker(p, "DONE");
    expect(await readFile(path.join(p, "DONE"), "utf8")).toBe("");
  });

  it("rejects marker names that would leave the folder", async () => {
    const s = new LocalStorage({ root: tmp });
    await expect(s.writeMarker(path.join(tmp, "p"), "../escape")).rejects.toThrow(/plain file name/);
    await expect(s.writeMarker(path.join(tmp, "p"), "..")).rejects.toThrow(/plain file name/);
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe("clear", () => {
  it("removes the partition's files and sub-folders, not its siblings or parent", async () => {
    const s = new LocalStorage({ root: tmp });
    const p = s.partitionPath(joined, DIMS);
    const sibling = s.partitionPath(joined, { region: "EU", day: "2024-05-07" });
    await s.writeMarker(p, COMPLETION_MARKER);
    await writeFile(path.join(p, "part-0.parquet"), "data");
    await mkdir(path.join(p, "_temporary", "0"), { recursive: true });
    await writeFile(path.join(p, "_temporary", "0", "x"), "x");
    await s.writeMarker(sibling, COMPLETION_MARKER);

    await s.clear(p);

    expect(await readdir(p)).toEqual([]);
    expect(await s.exists(p, COMPLETION_MARKER)).toBe(false);
    expect(await s.exists(p, null)).toBe(false);
    expect(await s.exists(sibling, COMPLETION_MARKER)).toBe(true);
    expect(await isDir(path.dirname(p))).toBe(true);
  });

  it("is a no-op for a missing folder", async () => {
    const s = new LocalStorage({ root: tmp });
    await expect(s.clear(path.join(tmp, "nope", "deeper"))).resolves.toBeUndefined();
    expect(await isDir(path.join(tmp, "nope"))).toBe(false);
  });

  it("then writing the marker again completes the partition", async () => {
    const s = new LocalStorage({ root: tmp });
    const p = s.partitionPath(joined, DIMS);
    await s.writeMarker(p, COMPLETION_MARKER);
    await s.clear(p);
    await s.writeMarker(p, COMPLETION_MARKER);
    expect(await readdir(p)).toEqual([COMPLETION_MARKER]);
  });
});
