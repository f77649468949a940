/**
 * The router's code package (`router.zip`), written in process and deterministically: entries sorted
 * by name, every entry dated 1980-01-01 00:00 (the zip format's epoch), mode -rw-r--r--, deflated at
 * zlib's default level. The same files give the same bytes on every machine, so the package's hash
 * changes only when its content does (and a plan review sees a code change only when there is one).
 *
 * Files of the prebuilt runtime bundle are the same for every synth: scripts/build-bundle.js writes them
 * deflated once into `BUNDLE_ZIP` beside them, whose entries every package copies as they are (else
 * they are deflated here, once per process: cached by path, size and modification time). Only the
 * route table and the user code are deflated per synth.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { HANDLER_FILE } from "../flow/model/deployment-contract";
import * as zlib from "node:zlib";

export interface CodeFile {
  /** Path in the package, `/`-separated. */
  readonly name: string;
  readonly data: Buffer;
}

/** The engines' files of the runtime bundle, which the handler loads on first use (build-bundle.js). */
export const ENGINE_FILES: readonly string[] = ["athena", "emr", "emr-serverless", "glue"].map(
  (engine) => `engine-entries/${engine}.js`,
);
/**
 * Files of the runtime bundle packed beside the route table and the user code (those present: a test
 * bundle may hold only the handler). Never the source maps: see `Processor.sourceMaps`.
 */
export const BUNDLE_FILES: readonly string[] = [HANDLER_FILE, `${HANDLER_FILE}.LEGAL.txt`, ...ENGINE_FILES];
/** The runtime bundle's files, deflated by scripts/build-bundle.js (a zip of them, in the bundle folder). */
export const BUNDLE_ZIP = "bundle.zip";

/** One entry, deflated, with what the headers need. */
export interface PackedEntry {
  readonly name: Buffer;
  readonly crc: number;
  readonly size: number;
  readonly packed: Buffer;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE), zlib's own where Node has it (20.15+, 22.2+). */
export function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (data: Buffer) => number }).crc32;
  if (native) return native(data) >>> 0;
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pack(file: CodeFile): PackedEntry {
  return {
    name: Buffer.from(file.name, "utf8"),
    crc: crc32(file.data),
    size: file.data.length,
    packed: zlib.deflateRawSync(file.data, { level: 6 }),
  };
}

const cache = new Map<string, { readonly key: string; readonly entry: PackedEntry }>();

/** A file read from disk and deflated, once per process while it is unchanged. */
function packFile(name: string, path: string): PackedEntry {
  const st = statSync(path);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(`${path}\0${name}`);
  if (hit?.key === key) return hit.entry;
  const entry = pack({ name, data: readFileSync(path) });
  cache.set(`${path}\0${name}`, { key, entry });
  return entry;
}

/** Zip date 1980-01-01 and time 00:00 (DOS format): fixed, so bytes depend only on content. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** -rw-r--r-- regular file, in the high 16 bits of the external attributes (made by Unix). */
const FILE_MODE = (0o100644 << 16) >>> 0;

/**
 * The deflated entries of the bundle's files `names` in `dir`: those of its BUNDLE_ZIP when it holds
 * exactly these files at their current sizes, else each file deflated here.
 */
export function bundleEntries(dir: string, names: readonly string[]): PackedEntry[] {
  const zipPath = join(dir, BUNDLE_ZIP);
  if (existsSync(zipPath)) {
    const st = statSync(zipPath);
    const key = `${st.size}:${st.mtimeMs}`;
    let hit = prebuilt.get(zipPath);
    if (hit?.key !== key) {
      hit = { key, entries: readPacked(readFileSync(zipPath)) };
      prebuilt.set(zipPath, hit);
    }
    const entries = hit.entries;
    const matches =
      entries.length === names.length &&
      entries.every((e) => {
        const name = e.name.toString("utf8");
        return names.includes(name) && statSync(join(dir, name)).size === e.size;
      });
    if (matches) return entries;
  }
  return names.map((name) => packFile(name, join(dir, name)));
}

const prebuilt = new Map<string, { readonly key: string; readonly entries: PackedEntry[] }>();

/**
 * A zip archive of `files` (from disk, by path), `inline` (in memory) and `packed` (already deflated),
 * entries sorted by name. No zip64: the package stays far below 4 GiB (Lambda takes 250 MB unzipped).
 */
export function writeZip(
  files: readonly { readonly name: string; readonly path: string }[],
  inline: readonly CodeFile[],
  packed: readonly PackedEntry[] = [],
): Buffer {
  const entries = [...packed, ...files.map((f) => packFile(f.name, f.path)), ...inline.map(pack)].sort(
    (a, b) => Buffer.compare(a.name, b.name),
  );
  for (let i = 1; i < entries.length; i++) {
    if ((entries[i] as PackedEntry).name.equals((entries[i - 1] as PackedEntry).name))
      throw new Error(`the code package has "${(entries[i] as PackedEntry).name.toString()}" twice`);
  }
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    head.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    head.writeUInt16LE(8, 8); // method: deflate
    head.writeUInt16LE(DOS_TIME, 10);
    head.writeUInt16LE(DOS_DATE, 12);
    head.writeUInt32LE(e.crc, 14);
    head.writeUInt32LE(e.packed.length, 18);
    head.writeUInt32LE(e.size, 22);
    head.writeUInt16LE(e.name.length, 26);
    head.writeUInt16LE(0, 28); // no extra field
    parts.push(head, e.name, e.packed);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(0x0800, 8);
    dir.writeUInt16LE(8, 10);
    dir.writeUInt16LE(DOS_TIME, 12);
    dir.writeUInt16LE(DOS_DATE, 14);
    dir.writeUInt32LE(e.crc, 16);
    dir.writeUInt32LE(e.packed.length, 20);
    dir.writeUInt32LE(e.size, 24);
    dir.writeUInt16LE(e.name.length, 28);
    // extra, comment, disk number, internal attributes: 0
    dir.writeUInt32LE(FILE_MODE, 38);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, e.name);
    offset += head.length + e.name.length + e.packed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

/** The entries of a zip written by `writeZip`, still deflated. */
function readPacked(zip: Buffer): PackedEntry[] {
  return centralEntries(zip).map((e) => ({
    name: Buffer.from(e.name, "utf8"),
    crc: e.crc,
    size: e.size,
    packed: Buffer.from(e.raw),
  }));
}

/** The entries of a zip written by `writeZip` (or any zip without zip64 or data descriptors). */
export function readZip(zip: Buffer): CodeFile[] {
  return centralEntries(zip).map((e) => ({
    name: e.name,
    data: e.method === 8 ? zlib.inflateRawSync(e.raw) : Buffer.from(e.raw),
  }));
}

function centralEntries(
  zip: Buffer,
): { name: string; method: number; crc: number; size: number; raw: Buffer }[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error("not a zip archive");
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files: { name: string; method: number; crc: number; size: number; raw: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 24);
    const packedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    files.push({ name, method, crc, size, raw: zip.subarray(start, start + packedSize) });
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

/** SHA-256 of the package: hex upper case (the asset's folder) and base64 (Lambda's CodeSha256). */
export function sha256(data: Buffer): { readonly hex: string; readonly base64: string } {
  const digest = createHash("sha256").update(data).digest();
  return { hex: digest.toString("hex").toUpperCase(), base64: digest.toString("base64") };
}
