/**
 * The file store's read side: message status from JSONL log files (plain, rotated or gzip), read
 * on demand. `lookup` parses only the lines that contain the id; `report` streams every line
 * (store/log-report.ts).
 */
import type { LogEntry } from "../core/entry.ts";
import { parseEntry, readLines } from "../log/reader.ts";
import type { Report, ReportQuery } from "../status/report.ts";
import { MessageTracker } from "../status/tracker.ts";
import { buildReport } from "./log-report.ts";
import type { Lookup, StatusReader } from "./store.ts";

export class LogStatus implements StatusReader {
  constructor(readonly files: string[]) {}

  lookup(id: string): Promise<Lookup | null> {
    return lookupMessage(this.files, id);
  }

  report(query: ReportQuery): Promise<Report> {
    return buildReport(this.files, query);
  }
}

/**
 * Find one message in the logs. Only lines containing the id are parsed, so a lookup costs little
 * more than reading the files. Returns null when no report names it.
 */
export async function lookupMessage(files: string[], messageId: string): Promise<Lookup | null> {
  const reports: LogEntry[] = [];
  await readLines(files, (lines) => {
    for (const line of lines) {
      if (!line.includes(messageId)) continue;
      const entry = parseEntry(line);
      // The id may also appear inside another field or a longer id.
      if (entry?.kind === "dlr" && entry.messageId === messageId) reports.push(entry);
    }
  });
  if (reports.length === 0) return null;
  // Stable: reports received in the same millisecond keep their order in the log.
  reports.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
  const tracker = new MessageTracker();
  for (const entry of reports) tracker.add(entry);
  return { message: tracker.get(messageId)!, reports };
}

