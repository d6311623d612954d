/**
 * The providers' ordering hint (`sequence`): Twilio's callbacks carry no time, so a `sending` that
 * arrives after `sent` must not replace it; Plivo numbers its callbacks. Every reader decides the
 * same: the tracker (lookup), the compact table (report over the log's bytes), and the lines as
 * the server writes them.
 */
import { describe, expect, it } from "bun:test";
import { renderJsonl } from "../../src/core/render.ts";
import type { LogEntry } from "../../src/core/entry.ts";
import { parseEntry, parseStatusFields } from "../../src/log/reader.ts";
import { plivoEntry } from "../../src/providers/plivo/adapter.ts";
import { twilioEntry } from "../../src/providers/twilio/adapter.ts";
import { compareSequence, supersedes } from "../../src/status/rules.ts";
import { fillFromFields, ScannedReport, scanStatusLine } from "../../src/status/scan.ts";
import { MessageTable, type MessageSummary } from "../../src/status/table.ts";
import { MessageTracker } from "../../src/status/tracker.ts";

const encoder = new TextEncoder();

/** A Twilio status callback's fields, as its docs show them. */
function twilio(sid: string, status: string, at: string): LogEntry {
  const body = { AccountSid: "AC00000000000000000000000000000000", MessageSid: sid, MessageStatus: status, To: "+15558675310", From: "+15017122661" };
  return twilioEntry(body, new Date(at));
}

/** The line the server writes for `entry` (a form body has no raw JSON text), read back. */
const line = (entry: LogEntry) => renderJsonl(entry).trimEnd();

/** Both readers' view of the lines, in arrival order: the tracker's status and the table's. */
function statuses(lines: string[]): { tracker: string | null; table: string | null; scanned: number } {
  const tracker = new MessageTracker();
  const table = new MessageTable();
  const out = new ScannedReport();
  let scanned = 0;
  for (const text of lines) {
    tracker.add(parseStatusFields(text)!);
    const bytes = encoder.encode(text);
    if (scanStatusLine(bytes, 0, bytes.length, out)) scanned += 1;
    else expect(fillFromFields(parseStatusFields(text)!, out)).toBe(true);
    table.add(out);
  }
  const summaries: MessageSummary[] = [];
  table.forEach((m) => summaries.push({ ...m }));
  expect(tracker.size).toBe(1);
  return { tracker: [...tracker.messages()][0]!.status, table: summaries[0]!.status, scanned };
}

describe("Twilio's status order", () => {
  it("is written in the log line before the report, and read back", () => {
    const entry = twilio("SM1", "sent", "2025-03-04T15:30:00.000Z");
    const text = line(entry);
    expect(text).toContain(',"poolName":null,"sequence":5,"report":{');
    expect(parseEntry(text)!.sequence).toBe(5);
    // A callback without a place in the order (an unknown status) has no such field at all.
    expect(line(twilio("SM1", "mystery", "2025-03-04T15:30:00.000Z"))).not.toContain("sequence");
  });

  it("is read from a line's bytes by the report's scanner, as the parser reads it", () => {
    // Twilio's entries have no smsId (the parser reads them); a part's line with one is scanned.
    const entry = twilio("SM1", "sent", "2025-03-04T15:30:00.000Z");
    entry.smsId = "SM1-1";
    const bytes = encoder.encode(line(entry));
    const out = new ScannedReport();
    expect(scanStatusLine(bytes, 0, bytes.length, out)).toBe(true);
    expect(out.sequence).toBe(5);
    const sending = twilio("SM1", "sending", "2025-03-04T15:30:01.000Z");
    sending.smsId = "SM1-1";
    expect(statuses([line(entry), line(sending)])).toEqual({ tracker: "sent", table: "sent", scanned: 2 });
  });

  it("keeps sent when a late sending arrives after it, in the tracker and the report's table", () => {
    const lines = [
      line(twilio("SM1", "queued", "2025-03-04T15:30:00.000Z")),
      line(twilio("SM1", "sent", "2025-03-04T15:30:02.000Z")),
      line(twilio("SM1", "sending", "2025-03-04T15:30:03.000Z")),
    ];
    expect(statuses(lines)).toMatchObject({ tracker: "sent", table: "sent" });
  });

  it("keeps read when a late delivered arrives after it (both final)", () => {
    const lines = [line(twilio("SM2", "read", "2025-03-04T15:30:05.000Z")), line(twilio("SM2", "delivered", "2025-03-04T15:30:06.000Z"))];
    expect(statuses(lines)).toMatchObject({ tracker: "read", table: "read" });
  });

  it("still lets a final status replace any pending one, whatever the order says", () => {
    const lines = [line(twilio("SM3", "sent", "2025-03-04T15:30:00.000Z")), line(twilio("SM3", "failed", "2025-03-04T15:30:01.000Z"))];
    expect(statuses(lines)).toMatchObject({ tracker: "failed", table: "failed" });
  });
});

describe("Plivo's Sequence", () => {
  it("decides between two callbacks whose stage times are missing", () => {
    const body = (status: string, sequence: string) => ({ MessageUUID: "uuid-1", Status: status, Sequence: sequence, To: "15558675310", From: "15017122661" });
    const sent = plivoEntry(body("sent", "2"), new Date("2025-03-04T15:30:00.000Z"));
    const queued = plivoEntry(body("queued", "1"), new Date("2025-03-04T15:30:01.000Z"));
    expect(sent.updatedDate).toBeNull();
    expect(statuses([line(sent), line(queued)])).toMatchObject({ tracker: "sent", table: "sent" });
  });
});

describe("the rule", () => {
  const dates = (updated: number, sequence: number, received: number) => ({
    updatedDate: () => updated,
    sequence: () => sequence,
    receivedAt: () => received,
  });

  it("asks the sequence after the dates and before the order received", () => {
    expect(supersedes(1, 1, dates(-1, 1, 1))).toBe(false); // an earlier date decides
    expect(supersedes(1, 1, dates(0, -1, 1))).toBe(false); // then an earlier place in the order
    expect(supersedes(1, 1, dates(0, 1, -1))).toBe(true);
    expect(supersedes(1, 1, dates(0, 0, 1))).toBe(true); // then the one received last
    expect(supersedes(2, 1, dates(0, -1, -1))).toBe(true); // a higher rank whatever the rest says
  });

  it("compares two sequences only when both reports have one", () => {
    expect([compareSequence(5, 4), compareSequence(4, 5), compareSequence(4, 4)]).toEqual([1, -1, 0]);
    expect([compareSequence(undefined, 4), compareSequence(4, null), compareSequence(NaN, 1)]).toEqual([0, 0, 0]);
  });
});
