/**
 * Reading JSONL logs for analysis: plain, rotated and gzip-compressed files, streamed a chunk at a
 * time so a multi-GB log never sits in memory. Unparseable lines (a torn last line, garbage) are
 * counted and skipped; a log written with `--format text` is refused with a clear error.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { CHANNELS, upgradeEntry, type Channel, type LogEntry } from "../core/entry.ts";
import type { StatusFields } from "../status/tracker.ts";
import { LogReadError, TextFormatLogError } from "../core/errors.ts";
import { OUTCOMES, type Outcome } from "../core/outcome.ts";

/** The lines `renderText` writes (and the original PHP recipe wrote). */
const TEXT_LINE = /^(Your (message|Viber message|WhatsApp message|voice call|verification) to |The cost was |This is not a delivery receipt|Rejected callback \(|Inbound [A-Za-z ]+ from |Campaign |Failover flow )/;
/** How many non-empty lines may pass, none of them JSON, before a text log is recognised. */
const DETECT_LINES = 1000;
/** Read size; large enough that per-chunk costs vanish next to the per-line ones. */
const CHUNK_BYTES = 1 << 20;

/**
 * Decides, from a file's first lines, whether it is a text-format log: no JSON line and at least
 * one line in the text wording. Feed lines until `done`.
 */
export class TextFormatDetector {
  #seen = 0;
  #text = 0;
  done = false;

  /** Returns true once the lines seen so far prove a text-format log. */
  see(line: string): boolean {
    if (this.done || line.length === 0) return false;
    if (line.charCodeAt(0) === 0x7b /* { */) {
      this.done = true;
      return false;
    }
    if (TEXT_LINE.test(line)) this.#text += 1;
    this.#seen += 1;
    if (this.#seen >= DETECT_LINES) return this.end();
    return false;
  }

  /** At the end of the file (or of the sample): true if it was a text-format log. */
  end(): boolean {
    if (this.done) return false;
    this.done = true;
    return this.#text > 0;
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") return "corrupt or truncated gzip data";
  return typeof code === "string" ? code : (error as Error).message;
}

function openForReading(path: string): number {
  try {
    return openSync(path, "r");
  } catch (error) {
    throw new LogReadError(`cannot read ${path}: ${describe(error)}`, { cause: error });
  }
}

/** Gzip is recognised by its magic bytes, whatever the file is called. */
export function isGzip(path: string): boolean {
  const fd = openForReading(path);
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** A file's bytes in order: `read` appends the next ones to `into` at `at` and says how many (0 at the end). */
interface ByteSource {
  read(into: Buffer, at: number): Promise<number>;
  close(): Promise<void>;
}

/** A plain file read straight into the caller's buffer: no buffer allocated per chunk. */
async function plainSource(path: string): Promise<ByteSource> {
  const handle = await open(path, "r");
  return {
    read: async (into, at) => (await handle.read(into, at, Math.min(CHUNK_BYTES, into.length - at), null)).bytesRead,
    close: () => handle.close(),
  };
}

/** A gzip file, decompressed a chunk at a time; a chunk that does not fit waits for the next read. */
function gzipSource(path: string): ByteSource {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES }).pipe(createGunzip({ chunkSize: CHUNK_BYTES }));
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer | null = null;
  return {
    async read(into, at) {
      if (pending === null) {
        const next = await chunks.next();
        if (next.done) return 0;
        pending = next.value as Buffer;
      }
      const n = pending.copy(into, at);
      pending = n < pending.length ? pending.subarray(n) : null;
      return n;
    },
    close: async () => void stream.destroy(),
  };
}

/** The longest line a reader takes: a longer one is skipped (and counted), never held. */
export const MAX_LINE_BYTES = 1 << 20;

export interface ReadOptions {
  /** Lines longer than this many bytes are skipped. @default MAX_LINE_BYTES (1 MiB) */
  maxLineBytes?: number;
  /** Called once for each line skipped as too long. */
  onLongLine?: (file: string) => void;
}

/**
 * Calls `onBlock` with the file's bytes a block of complete lines at a time (each ends with a
 * newline, except a last line without one), in file order, for each file in turn. The block is a
 * view of a buffer that is reused: read it during the call, never keep it. This is what a reader
 * that wants no string per line uses; `readLines` decodes on top of it. A line longer than
 * `maxLineBytes` is left out of the blocks and reported to `onLongLine`: memory stays bounded
 * whatever the file holds (a 1 GB line of zeros in a gzip, a sparse file).
 * Throws `LogReadError` (or `TextFormatLogError`) naming the file.
 */
export async function readBlocks(
  paths: readonly string[],
  onBlock: (block: Buffer, file: string) => void,
  options: ReadOptions = {},
): Promise<void> {
  const max = options.maxLineBytes ?? MAX_LINE_BYTES;
  // Room for the longest line kept plus a full read: the buffer never grows.
  const buffer = Buffer.allocUnsafe(Math.max(max, CHUNK_BYTES) + CHUNK_BYTES);
  for (const path of paths) {
    const gzip = isGzip(path);
    const detector = new TextFormatDetector();
    const long = () => options.onLongLine?.(path);
    const pass = (block: Buffer) => {
      if (block.length === 0) return;
      if (!detector.done && splitLines(block.toString("utf8")).some((line) => detector.see(line)))
        throw new TextFormatLogError(path);
      onBlock(block, path);
    };
    const emit = (block: Buffer) => {
      for (const [from, to] of longLines(block, max)) {
        pass(block.subarray(0, from));
        long();
        block = block.subarray(to);
      }
      pass(block);
    };
    let source: ByteSource | null = null;
    // Bytes after the last newline wait at the start of `buffer` for the rest of their line.
    let filled = 0;
    // Inside a line already too long: its bytes are dropped up to its newline.
    let skipping = false;
    try {
      source = gzip ? gzipSource(path) : await plainSource(path);
      for (;;) {
        const read = await source.read(buffer, filled);
        if (read === 0) break;
        let from = filled;
        filled += read;
        if (skipping) {
          const nl = buffer.subarray(from, filled).indexOf(0x0a);
          if (nl < 0) {
            filled = 0;
            continue;
          }
          buffer.copy(buffer, 0, from + nl + 1, filled);
          filled -= from + nl + 1;
          from = 0;
          skipping = false;
        }
        // Split on the newline byte (it never occurs inside a UTF-8 sequence), searching only the new bytes.
        const last = buffer.subarray(from, filled).lastIndexOf(0x0a);
        if (last < 0) {
          if (filled > max) {
            long();
            skipping = true;
            filled = 0;
          }
          continue;
        }
        emit(buffer.subarray(0, from + last + 1));
        buffer.copy(buffer, 0, from + last + 1, filled);
        filled -= from + last + 1;
      }
      if (filled > 0) emit(buffer.subarray(0, filled));
      if (detector.end()) throw new TextFormatLogError(path);
    } catch (error) {
      if (error instanceof LogReadError) throw error;
      const where = gzip && (error as { code?: string }).code?.startsWith("Z_") ? " (gzip)" : "";
      throw new LogReadError(`cannot read ${path}${where}: ${describe(error)}`, { cause: error });
    } finally {
      await source?.close();
    }
  }
}

/**
 * The lines of a block longer than `max` bytes, as [start, end after the newline) pairs relative
 * to what follows the previous pair. It hops a window of `max + 1` bytes at a time back to its
 * last newline, so ordinary lines cost no per-line work.
 */
function* longLines(block: Buffer, max: number): Generator<[number, number]> {
  let base = 0;
  let from = 0;
  while (block.length - from > max) {
    const nl = block.subarray(from, from + max + 1).lastIndexOf(0x0a);
    if (nl >= 0) {
      from += nl + 1;
      continue;
    }
    const end = block.indexOf(0x0a, from + max + 1);
    const to = end < 0 ? block.length : end + 1;
    yield [from - base, to - base];
    base = to;
    from = to;
  }
}

/** Calls `visit(start, end)` for each non-empty line of a block, without its newline or CR. */
export function eachLine(block: Uint8Array, visit: (start: number, end: number) => void): void {
  for (let start = 0; start < block.length; ) {
    let end = block.indexOf(0x0a, start);
    if (end < 0) end = block.length;
    const next = end + 1;
    if (end > start && block[end - 1] === 0x0d) end--;
    if (end > start) visit(start, end);
    start = next;
  }
}

/**
 * Calls `onLines` with each block's complete lines (without newlines), in file order, for each file
 * in turn. Batches rather than single lines keep the per-line overhead to a loop iteration.
 * Throws `LogReadError` (or `TextFormatLogError`) naming the file.
 */
export async function readLines(
  paths: readonly string[],
  onLines: (lines: string[], file: string) => void,
  options: ReadOptions = {},
): Promise<void> {
  await readBlocks(
    paths,
    (block, file) => {
      const end = block[block.length - 1] === 0x0a ? block.length - 1 : block.length;
      onLines(splitLines(block.toString("utf8", 0, end)), file);
    },
    options,
  );
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.charCodeAt(line.length - 1) === 0x0d) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/** A parsed line, or null when it is not a log entry (see `checkEntry`). */
export function parseEntry(line: string): LogEntry | null {
  if (line.charCodeAt(0) !== 0x7b /* { */) return null;
  try {
    return checkEntry(JSON.parse(line)) as LogEntry | null;
  } catch {
    // Malformed, or nested too deep for the parser's stack.
    return null;
  }
}

const REPORT_KEY = ',"report":';

/**
 * The status fields of a line, parsing only what comes before the `report` body (written last but
 * one by `renderJsonl`), which is most of the line. A raw `,"report":` cannot occur inside a JSON
 * string (its quotes would be escaped), so the first one is the key. Lines in another field order
 * fall back to a full parse.
 */
export function parseStatusFields(line: string): StatusFields | null {
  if (line.charCodeAt(0) !== 0x7b /* { */) return null;
  const cut = line.indexOf(REPORT_KEY);
  if (cut > 0) {
    try {
      // `label` is written last before the report: without it, the fields are in another order.
      const fields = JSON.parse(line.slice(0, cut) + "}");
      if ("label" in fields) return checkEntry(fields) as StatusFields | null;
    } catch {}
  }
  return parseEntry(line);
}

/** The fields before `,"report":` as an entry without its report; null if they are not one. */
export function parsePrefix(head: string): StatusFields | null {
  try {
    return checkEntry(JSON.parse(head + "}")) as StatusFields | null;
  } catch {
    return null;
  }
}

const STRINGS = ["receivedAt", "provider", "kind"] as const;
const NULLABLE_STRINGS = [
  "messageId", "smsId", "to", "from", "status", "detailedStatus", "description",
  "updatedDate", "country", "operator", "campaignTrackingId", "label", "trackingId", "campaignName", "poolName",
] as const;
const NULLABLE_NUMBERS = ["part", "parts", "price", "latency"] as const;

/**
 * The parsed value as an entry, or null when a field the readers use has the wrong type: a
 * hand-edited line is skipped, never trusted (a recovery that read `smsId.length` of a missing
 * field once stopped the server from starting). Fixed in place: a missing nullable field becomes
 * null, a missing `outcome` "unknown", a missing `final` false, and a number written as a string
 * (`"price":"0.036"`) a number.
 */
export function checkEntry(value: unknown): LogEntry | StatusFields | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const e = value as Record<string, unknown>;
  for (const key of STRINGS) if (typeof e[key] !== "string") return null;
  if (e.outcome === undefined) e.outcome = "unknown";
  else if (!OUTCOMES.includes(e.outcome as Outcome)) return null;
  if (e.final === undefined) e.final = false;
  else if (typeof e.final !== "boolean") return null;
  for (const key of NULLABLE_STRINGS) {
    const v = e[key];
    if (v === undefined) e[key] = null;
    else if (v !== null && typeof v !== "string") return null;
  }
  for (const key of NULLABLE_NUMBERS) {
    const v = e[key];
    if (v === undefined || v === null) e[key] = null;
    else if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) e[key] = Number(v);
    else if (typeof v !== "number" || !Number.isFinite(v)) return null;
  }
  if (e.channel !== undefined && e.channel !== null && !CHANNELS.includes(e.channel as Channel)) return null;
  if (e.sequence !== undefined && (typeof e.sequence !== "number" || !Number.isFinite(e.sequence))) return null;
  const error = e.error as Record<string, unknown> | undefined;
  if (error !== undefined && (typeof error !== "object" || error === null || typeof error.reason !== "string" || typeof error.message !== "string"))
    return null;
  return upgradeEntry(e as unknown as LogEntry);
}

const RECEIVED_PREFIX = '{"receivedAt":"';
/** `toISOString()` is always 24 characters for the years any log will have. */
const ISO_LENGTH = 24;

/**
 * A line's `receivedAt` read from its fixed position (the first field), without parsing; null
 * when the line does not start that way.
 */
export function receivedAtOf(line: string): string | null {
  if (!line.startsWith(RECEIVED_PREFIX)) return null;
  const end = RECEIVED_PREFIX.length + ISO_LENGTH;
  return line.charCodeAt(end) === 0x22 /* " */ ? line.slice(RECEIVED_PREFIX.length, end) : null;
}

/** Line counts of a scan, for the reader's summary. */
export interface ScanStats {
  files: string[];
  /** Non-empty lines read. */
  lines: number;
  /** Lines that were not log entries (torn, garbage, text). */
  unparseable: number;
}

const BACKWARD_BLOCK = 64 << 10;
const SKIP_BLOCK = 1 << 20;

/**
 * The last `n` lines of a plain file that `keep` accepts, oldest first, read backwards from `end`
 * (default: the current size) so a tail of a multi-GB log reads only its end. Gzip files are
 * streamed instead. Lines longer than `maxLineBytes` are skipped. Throws `TextFormatLogError` for a
 * text-format log.
 */
export async function lastLines(
  path: string,
  n: number,
  keep: (line: string) => boolean,
  end?: number,
  maxLineBytes = MAX_LINE_BYTES,
): Promise<string[]> {
  if (n <= 0) return [];
  if (isGzip(path)) {
    const ring: string[] = [];
    await readLines(
      [path],
      (lines) => {
        for (const line of lines) {
          if (line.length === 0 || !keep(line)) continue;
          ring.push(line);
          if (ring.length > n * 2) ring.splice(0, ring.length - n);
        }
      },
      { maxLineBytes },
    );
    return ring.slice(-n);
  }
  const fd = openForReading(path);
  try {
    const head = Buffer.alloc(BACKWARD_BLOCK);
    const headText = head.toString("utf8", 0, readSync(fd, head, 0, BACKWARD_BLOCK, 0));
    const detector = new TextFormatDetector();
    if (splitLines(headText).some((line) => detector.see(line)) || detector.end()) throw new TextFormatLogError(path);

    const found: string[] = [];
    let pos = end ?? fstatSync(fd).size;
    // The start of a line whose end was read already (with its newline), waiting for the rest.
    let carry: Buffer = Buffer.alloc(0);
    // Inside a line already too long: walk back to its start without keeping its bytes.
    let skipping = false;
    const block = Buffer.alloc(SKIP_BLOCK);
    while (pos > 0 && found.length < n) {
      // Bigger reads while skipping: a line of GBs is crossed in few calls.
      const size = Math.min(skipping ? SKIP_BLOCK : BACKWARD_BLOCK, pos);
      pos -= size;
      readSync(fd, block, 0, size, pos);
      let data = block.subarray(0, size);
      if (skipping) {
        const nl = data.lastIndexOf(0x0a);
        if (nl < 0) continue;
        data = data.subarray(0, nl + 1);
        skipping = false;
      } else if (carry.length > 0) {
        data = Buffer.concat([data, carry]);
      }
      // The bytes before the first newline may be the end of a line that starts in the next block.
      const first = pos > 0 ? data.indexOf(0x0a) : -1;
      if (pos > 0 && first < 0) {
        // A copy: `block` is reused by the next read. Past the limit (with its CR LF), the line is skipped.
        carry = Buffer.from(data);
        if (carry.length > maxLineBytes + 2) {
          skipping = true;
          carry = Buffer.alloc(0);
        }
        continue;
      }
      carry = Buffer.from(data.subarray(0, first + 1));
      if (carry.length > maxLineBytes + 2) {
        skipping = true;
        carry = Buffer.alloc(0);
      }
      const lines = splitLines(data.toString("utf8", first + 1));
      for (let i = lines.length - 1; i >= 0 && found.length < n; i--) {
        const line = lines[i]!;
        // A string's length never exceeds its bytes: a cheap bound for lines read whole in one block.
        if (line.length > 0 && line.length <= maxLineBytes && keep(line)) found.push(line);
      }
    }
    return found.reverse();
  } finally {
    closeSync(fd);
  }
}
