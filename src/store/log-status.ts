/**
 * The file store's read side: message status from JSONL log files (plain, rotated or gzip), read
 * on demand. `lookup` parses only the lines that contain the id; `report` streams every line
 * (store/log-report.ts).
 */
import { statSync } from "node:fs";
import type { LogEntry } from "../core/entry.ts";
import { parseEntry, readLines } from "../log/reader.ts";
import { inChannel, type ChannelFilter, type Report, type ReportQuery } from "../status/report.ts";
import { messageKey, MessageTracker } from "../status/tracker.ts";
import { buildReport } from "./log-report.ts";
import { buildSeries } from "./log-series.ts";
import type { Series, SeriesQuery } from "../status/series.ts";
import type { Lookup, StatusReader } from "./store.ts";

/** Log bytes a request may scan; past this an API asks for the database. */
export const REQUEST_SCAN_BYTES = 64 << 20;

export class LogStatus implements StatusReader {
  constructor(readonly files: string[]) {}

  scansTooMuch(): boolean {
    let bytes = 0;
    for (const file of this.files) {
      try {
        bytes += statSync(file).size;
      } catch {}
    }
    return bytes > REQUEST_SCAN_BYTES;
  }

  lookup(id: string, channel?: ChannelFilter): Promise<Lookup | null> {
    return lookupMessage(this.files, id, channel);
  }

  report(query: ReportQuery): Promise<Report> {
    return buildReport(this.files, query);
  }

  series(query: SeriesQuery): Promise<Series> {
    return buildSeries(this.files, query);
  }
}

/** The entries in the logs that name `id` as their messageId, smsId or trackingId (rejected bodies aside). */
async function entriesNaming(files: string[], id: string, channel: ChannelFilter): Promise<LogEntry[]> {
  const found: LogEntry[] = [];
  await readLines(files, (lines) => {
    for (const line of lines) {
      if (!line.includes(id)) continue;
      const entry = parseEntry(line);
      // The id may also appear inside another field or a longer id.
      if (!entry || entry.kind === "rejected" || !inChannel(entry.channel, channel)) continue;
      if (entry.messageId === id || entry.smsId === id || entry.trackingId === id) found.push(entry);
    }
  });
  return found;
}

/**
 * Find one message in the logs by its messageId, smsId or trackingId. Only lines containing the id
 * are parsed, so a lookup costs little more than reading the files (twice for an smsId: once to
 * learn its message, once for the message's other parts). Returns null when nothing names it.
 */
export async function lookupMessage(files: string[], id: string, channel: ChannelFilter = "all"): Promise<Lookup | null> {
  let reports = await entriesNaming(files, id, channel);
  const part = reports.find((e) => e.kind === "dlr" && e.smsId === id && e.messageId !== null && e.messageId !== id);
  if (part) reports = await entriesNaming(files, part.messageId!, channel);
  if (reports.length === 0) return null;
  // Stable: reports received in the same millisecond keep their order in the log.
  reports.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
  const tracker = new MessageTracker();
  let key: string | null = null;
  for (const entry of reports) if (tracker.add(entry)) key ??= messageKey(entry);
  return { message: key === null ? null : tracker.get(key)!, reports };
}
