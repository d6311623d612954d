/** Reading the most recent entries of a JSONL log without reading the whole file. */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { LogEntry } from "../core/entry.ts";
import { parseEntry } from "../log/reader.ts";

/** How much of the log's end is read at start to recover duplicate keys. */
export const RECOVERY_TAIL_BYTES = 16 << 20;

/**
 * The complete JSON entries within the last `maxBytes` of the file, oldest first. Lines that do not
 * parse (a torn line, a text-format log) are skipped. A missing file yields none.
 */
export function readRecentEntries(path: string, maxBytes = RECOVERY_TAIL_BYTES): LogEntry[] {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, size - length + read);
      if (n === 0) break;
      read += n;
    }
    let text = buffer.subarray(0, read).toString("utf8");
    // The first line is cut unless the window starts at the file's start.
    if (length < size) text = text.slice(text.indexOf("\n") + 1);
    const entries: LogEntry[] = [];
    for (const line of text.split("\n")) {
      const entry = parseEntry(line);
      if (entry) entries.push(entry);
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}
