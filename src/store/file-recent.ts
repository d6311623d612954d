/**
 * Reading the most recent entries of a JSONL log without reading the whole file: bounded in time
 * and memory whatever the bytes, so that no log line can stop or stall a start.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { LogEntry } from "../core/entry.ts";
import { parsePrefix } from "../log/reader.ts";

/** How much of the log's end is read at start to recover duplicate keys. */
export const RECOVERY_TAIL_BYTES = 16 << 20;
/** Read size: the window is streamed, never held whole. */
const BLOCK_BYTES = 1 << 20;
/**
 * The longest line checked whole: above the largest body `--body-limit` allows. A longer line is
 * skipped and counted: its retry is then written again rather than trusted.
 */
const LINE_BYTES = 512 << 10;
/** How the server starts every line; anything else is not an entry, skipped without a parse. */
const PREFIX = Buffer.from('{"receivedAt":"');
const REPORT_KEY = Buffer.from(',"report":');

/** What a recovery read: entries given back and lines skipped as not entries. */
export interface RecoveryStats {
  entries: number;
  skipped: number;
}

/**
 * The entries within the last `maxBytes` of the file, oldest first, streamed a block at a time.
 * Each is the status fields only (no `report`): what the duplicate filter needs. Lines that are not whole
 * entries (torn by a kill, garbage, hand-edited with a field of the wrong type, a text-format log)
 * are skipped and counted in `stats`. A missing file yields none. `until` ends the window before the
 * file's end (at an entry's end: a position the forwarder saved).
 * @example for (const entry of readRecentEntries("sms-status.log")) filter.add(duplicateKey(entry))
 */
export function* readRecentEntries(
  path: string,
  maxBytes = RECOVERY_TAIL_BYTES,
  stats: RecoveryStats = { entries: 0, skipped: 0 },
  until = Infinity,
): Generator<LogEntry> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return;
  }
  try {
    const size = Math.min(fstatSync(fd).size, until);
    let pos = size - Math.min(size, maxBytes);
    // The first line is cut unless the window starts at the file's start.
    let skipping = pos > 0;
    // An unfinished line waits at the start of `buffer` for its newline; a longer one is dropped.
    const buffer = Buffer.allocUnsafe(LINE_BYTES + BLOCK_BYTES);
    let filled = 0;
    let tooLong = false;
    const take = (start: number, end: number): LogEntry | null => {
      if (skipping) return (skipping = false), null;
      if (end === start) return null;
      const entry = tooLong ? null : parseLine(buffer, start, end);
      tooLong = false;
      if (entry === null) stats.skipped += 1;
      else stats.entries += 1;
      return entry;
    };
    while (pos < size) {
      const n = readSync(fd, buffer, filled, Math.min(BLOCK_BYTES, size - pos), pos);
      if (n === 0) break;
      pos += n;
      const end = filled + n;
      let start = 0;
      for (let nl = buffer.indexOf(0x0a, filled); nl >= 0 && nl < end; nl = buffer.indexOf(0x0a, start)) {
        const entry = take(start, nl);
        if (entry !== null) yield entry;
        start = nl + 1;
      }
      // An unfinished line waits at the front; past LINE_BYTES the rest is dropped and so is the line.
      if (end - start > LINE_BYTES) tooLong = true;
      filled = Math.min(end - start, LINE_BYTES);
      buffer.copy(buffer, 0, start, start + filled);
    }
    if (filled > 0) {
      const entry = take(0, filled);
      if (entry !== null) yield entry;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The entry on the line `buffer[start..end)`, or null. Only the fields before the report are
 * parsed, but the line must be whole: a kill in the middle of a write leaves a line whose fields
 * still read, and trusting it would answer the report's retry as a duplicate of a report the log
 * never held. Whole is checked by one pass over the bytes, not a parse, so a report of any size
 * or nesting costs a scan.
 */
function parseLine(buffer: Buffer, start: number, end: number): LogEntry | null {
  if (end - start <= PREFIX.length) return null;
  // A byte loop: most garbage lines differ within a byte or two.
  for (let i = 0; i < PREFIX.length; i++) if (buffer[start + i] !== PREFIX[i]) return null;
  if (!closesAtEnd(buffer, start, end)) return null;
  const cut = buffer.subarray(start, end).indexOf(REPORT_KEY);
  if (cut < 0) return null;
  return parsePrefix(buffer.toString("utf8", start, start + cut)) as LogEntry | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Does the object that opens at `start` close exactly at the line's last byte? Braces and
 * brackets are counted outside strings: a line cut anywhere before its end is still open.
 */
function closesAtEnd(bytes: Buffer, start: number, end: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i === end - 1;
      if (depth < 0) return false;
    }
  }
  return false;
}
