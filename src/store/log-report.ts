/**
 * `report` from JSONL log files, streamed: lines the server wrote are read from their bytes into
 * the compact `MessageTable`; anything else is parsed the ordinary way.
 */
import type { EntryKind } from "../core/entry.ts";
import { eachLine, parseStatusFields, readBlocks, receivedAtOf, type ReadOptions } from "../log/reader.ts";
import { inChannel, ReportTally, type Report, type ReportQuery } from "../status/report.ts";
import { CHANNEL, fillFromFields, ScannedReport, scanStatusLine } from "../status/scan.ts";
import { MessageTable } from "../status/table.ts";

/**
 * Read the logs once and compute the report. Memory grows with the number of messages (see
 * `MessageTable`, about 235 bytes each), never with the number or length of lines: a line longer
 * than `read.maxLineBytes` (1 MiB) is counted unparseable and never held.
 * @example await buildReport(["sms-status.log", "sms-status.log.1.gz"], { since: "2024-05-01T00:00:00.000Z" })
 */
export async function buildReport(files: string[], options: ReportQuery = {}, read: ReadOptions = {}): Promise<Report> {
  const since = options.since ?? null;
  const until = options.until ?? null;
  const windowed = since !== null || until !== null;
  const outside = (at: string) => (since !== null && at < since) || (until !== null && at >= until);
  const table = new MessageTable();
  const scanned = new ScannedReport();
  const channel = options.channel ?? "sms";
  const wanted = channel === "all" ? null : Buffer.from(channel);
  const callbacks: Record<EntryKind, number> = { dlr: 0, inbound: 0, campaign: 0, other: 0, rejected: 0 };
  const lines = { read: 0, unparseable: 0, outsideWindow: 0 };

  /** The ordinary path, for lines the byte scanner leaves alone (other kinds, hand-written). */
  function parseLine(line: string): void {
    // The window is checked on the raw line's first field, so skipped lines cost no parse.
    if (windowed) {
      const at = receivedAtOf(line);
      if (at !== null && outside(at)) {
        lines.outsideWindow += 1;
        return;
      }
    }
    const entry = parseStatusFields(line);
    if (entry === null) {
      lines.unparseable += 1;
      return;
    }
    if (windowed && receivedAtOf(line) === null && outside(normalise(entry.receivedAt))) {
      lines.outsideWindow += 1;
      return;
    }
    if (!inChannel(entry.channel ?? null, channel)) return;
    if (entry.kind in callbacks) callbacks[entry.kind] += 1;
    if (fillFromFields(entry, scanned)) table.add(scanned);
  }

  await readBlocks(files, (block) => {
    eachLine(block, (start, end) => {
      lines.read += 1;
      if (windowed) {
        const at = receivedAtBytes(block, start, end);
        if (at < 0) return parseLine(block.toString("utf8", start, end));
        const iso = start + at;
        if ((since !== null && compareAscii(block, iso, since) < 0) || (until !== null && compareAscii(block, iso, until) >= 0)) {
          lines.outsideWindow += 1;
          return;
        }
      }
      // Lines the server wrote are read from their bytes: no string, no object per line.
      if (!scanStatusLine(block, start, end, scanned)) return parseLine(block.toString("utf8", start, end));
      if (wanted !== null && !sameBytes(block, scanned.starts[CHANNEL]!, scanned.ends[CHANNEL]!, wanted)) return;
      callbacks.dlr += 1;
      table.add(scanned);
    });
  }, {
    ...read,
    // A line too long to be an entry is read and skipped, like any other that is not one.
    onLongLine: () => {
      lines.read += 1;
      lines.unparseable += 1;
    },
  });

  const tally = new ReportTally(options.by ?? null);
  table.forEach((message) => tally.add(message));
  const figures = tally.finish();
  return {
    files,
    channel,
    since,
    until,
    lines,
    callbacks,
    ...figures,
  };
}

/** `bytes[start..end)` equals `wanted` (start -1, a null field, never does). */
function sameBytes(bytes: Uint8Array, start: number, end: number, wanted: Uint8Array): boolean {
  if (start < 0 || end - start !== wanted.length) return false;
  for (let i = 0; i < wanted.length; i++) if (bytes[start + i] !== wanted[i]) return false;
  return true;
}

const RECEIVED_PREFIX = Buffer.from('{"receivedAt":"');
/** `toISOString()` length: the receivedAt that `receivedAtOf` reads without parsing. */
const ISO_LENGTH = 24;

/**
 * Where `receivedAtOf` would find the line's receivedAt, in bytes from `start`, when it is ASCII
 * (so its bytes compare as the string would); -1 otherwise, for the string path to decide.
 */
function receivedAtBytes(bytes: Uint8Array, start: number, end: number): number {
  const from = RECEIVED_PREFIX.length;
  if (end - start <= from + ISO_LENGTH || bytes[start + from + ISO_LENGTH] !== 0x22) return -1;
  for (let i = 0; i < from; i++) if (bytes[start + i] !== RECEIVED_PREFIX[i]) return -1;
  for (let i = from; i < from + ISO_LENGTH; i++) if (bytes[start + i]! >= 0x80) return -1;
  return from;
}

/** The ASCII receivedAt at `bytes[at..]` against a `--since`/`--until` bound, as the strings compare. */
function compareAscii(bytes: Uint8Array, at: number, bound: string): number {
  const length = Math.min(ISO_LENGTH, bound.length);
  for (let i = 0; i < length; i++) {
    const d = bytes[at + i]! - bound.charCodeAt(i);
    if (d !== 0) return d;
  }
  return ISO_LENGTH - bound.length;
}

/** A `receivedAt` not in `toISOString()` form (hand-edited logs), made comparable. */
export function normalise(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at : new Date(ms).toISOString();
}

