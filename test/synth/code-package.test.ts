/**
 * The code package writer: a valid zip, deterministic, and the same bytes whether the runtime bundle's
 * entries come prebuilt (bundle.zip, from scripts/build-bundle.js) or are deflated at synth.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLE_ZIP, bundleEntries, crc32, readZip, sha256, writeZip } from "../../src/synth/code-package";

function bundleDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-code-package-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const FILES = {
  "index.js": "exports.handler = async () => ({});\n".repeat(50),
  "index.js.LEGAL.txt": "MIT\n",
};
const NAMES = Object.keys(FILES);
const inline = [
  { name: "user-code.js", data: Buffer.from("exports.refs = {};\n") },
  { name: "flow-model.json", data: Buffer.from('{"schemaVersion":1}\n') },
];

test("entries round-trip, sorted by name, with their CRC-32", () => {
  const dir = bundleDir(FILES);
  const zip = writeZip(
    NAMES.map((name) => ({ name, path: join(dir, name) })),
    inline,
  );
  const files = readZip(zip);
  expect(files.map((f) => f.name)).toEqual([
    "flow-model.json",
    "index.js",
    "index.js.LEGAL.txt",
    "user-code.js",
  ]);
  expect(files.find((f) => f.name === "index.js")?.data.toString()).toBe(FILES["index.js"]);
  expect(files.find((f) => f.name === "user-code.js")?.data.toString()).toBe("exports.refs = {};\n");
});

test("CRC-32 is the IEEE one (zlib's check value)", () => {
  expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
  expect(crc32(Buffer.alloc(0))).toBe(0);
});

test("the same files give the same bytes; another content, other bytes", () => {
  const a = bundleDir(FILES);
  const b = bundleDir(FILES);
  const zipOf = (dir: string, code = "exports.refs = {};\n"): Buffer =>
    writeZip(
      NAMES.map((name) => ({ name, path: join(dir, name) })),
      [inline[1] as (typeof inline)[number], { name: "user-code.js", data: Buffer.from(code) }],
    );
  expect(zipOf(a).equals(zipOf(b))).toBe(true);
  expect(sha256(zipOf(a)).hex).toBe(sha256(zipOf(b)).hex);
  expect(zipOf(a, "exports.refs = { x: 1 };\n").equals(zipOf(a))).toBe(false);
});

test("prebuilt entries (bundle.zip) and entries deflated at synth give identical packages", () => {
  const dir = bundleDir(FILES);
  const deflated = writeZip([], inline, bundleEntries(dir, NAMES));
  writeFileSync(
    join(dir, BUNDLE_ZIP),
    writeZip(
      NAMES.map((name) => ({ name, path: join(dir, name) })),
      [],
    ),
  );
  const prebuilt = writeZip([], inline, bundleEntries(dir, NAMES));
  expect(prebuilt.equals(deflated)).toBe(true);
});

test("a stale bundle.zip (other files or sizes) is not used", () => {
  const dir = bundleDir(FILES);
  // A bundle.zip whose index.js has another size than the file beside it.
  const stale = writeZip(
    [],
    [
      { name: "index.js", data: Buffer.from("old") },
      { name: "index.js.LEGAL.txt", data: Buffer.from("MIT\n") },
    ],
  );
  writeFileSync(join(dir, BUNDLE_ZIP), stale);
  const files = readZip(writeZip([], [], bundleEntries(dir, NAMES)));
  expect(files.find((f) => f.name === "index.js")?.data.toString()).toBe(FILES["index.js"]);
});
