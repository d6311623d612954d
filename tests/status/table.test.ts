import { describe, expect, it } from "bun:test";
import type { LogEntry } from "../../src/core/entry.ts";
import { parseEntry, parseStatusFields } from "../../src/log/reader.ts";
import { MessageTracker } from "../../src/status/tracker.ts";
import { MessageTable, type MessageSummary } from "../../src/status/table.ts";
import {
  fillFromFields,
  MESSAGE_ID,
  PART_KEY,
  RECEIVED_AT,
  ScannedReport,
  scanStatusLine,
  STATUS,
  UPDATED_DATE,
} from "../../src/status/scan.ts";
import { FIXTURE_LINES } from "../helpers/fixture-log.ts";
import { dlrLine, status } from "../helpers/utils.ts";

const encoder = new TextEncoder();

/** Feeds a line to the table as `report` does: scanned from bytes, else parsed. */
function feed(table: MessageTable, line: string, out = new ScannedReport()): "scanned" | "parsed" | "ignored" {
  const bytes = encoder.encode(line);
  if (scanStatusLine(bytes, 0, bytes.length, out)) {
    table.add(out);
    return "scanned";
  }
  const fields = parseStatusFields(line);
  if (fields && fillFromFields(fields, out)) {
    table.add(out);
    return "parsed";
  }
  return "ignored";
}

function summaries(table: MessageTable): MessageSummary[] {
  const all: MessageSummary[] = [];
  table.forEach((m) => all.push({ ...m }));
  return all;
}

function expected(lines: string[]): MessageSummary[] {
  const tracker = new MessageTracker();
  for (const line of lines) {
    const fields = parseStatusFields(line);
    if (fields) tracker.add(fields);
  }
  return [...tracker.messages()].map((m) => ({
    outcome: m.outcome,
    cost: m.cost,
    latency: m.latency,
    status: m.status,
    detailedStatus: m.detailedStatus,
    country: m.country,
    operator: m.operator,
    campaignTrackingId: m.campaignTrackingId,
    label: m.label,
    provider: m.provider,
  }));
}

/** A small deterministic PRNG. */
function prng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

const NAMES = ["Sent", "Queued", "Delivered", "Undelivered", "Failed", "Scheduled"];
const DATES = [
  "2024-05-01T10:00:05Z",
  "2024-05-01T10:00:05.000Z",
  "2024-05-01T10:00:05.500Z",
  "2024-05-01T10:00:05.5Z",
  "2024-05-01T12:00:06+02:00",
  "2024-05-01T10:00:04.999Z",
  "2024-05-01T10:00:06Z",
  "not a date",
];

describe("message table", () => {
  it("gives MessageTracker's figures for the fixture log", () => {
    const lines = FIXTURE_LINES.map((l) => l.trimEnd());
    const table = new MessageTable();
    for (const line of lines) feed(table, line);
    expect(summaries(table)).toEqual(expected(lines));
  });

  it.each([7, 11, 23, 2024, 65537])("gives MessageTracker's figures for random reports in any order, odd dates and missing fields included (seed %d)", (seed) => {
    const random = prng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    for (let round = 0; round < 30; round++) {
      const lines: string[] = [];
      for (let i = 0; i < 200; i++) {
        const message = Math.floor(random() * 20);
        const parts = message % 3 === 0 ? 3 : 1;
        const part = 1 + Math.floor(random() * parts);
        const name = pick(NAMES);
        lines.push(
          dlrLine(
            {
              messageId: `m${message}`,
              smsId: random() < 0.1 ? null : `m${message}-${part}`,
              part,
              parts,
              price: random() < 0.2 ? null : pick([0.036, 0.05, 0, 1.5e-7]),
              latency: random() < 0.2 ? null : Math.floor(random() * 30),
              country: random() < 0.1 ? null : pick(["GR", "CY", "Ελλάδα"]),
              label: random() < 0.1 ? 'with "quotes"' : "otp",
              status: random() < 0.05 ? null : status(name, pick(DATES), name === "Undelivered" ? pick(["Expired", "Unknown"]) : name),
            },
            pick(["2024-05-01T10:00:00.000Z", "2024-05-01T10:00:01.000Z", "2024-05-01T10:00:01.500Z"]),
          ).trimEnd(),
        );
      }
      const table = new MessageTable();
      for (const line of lines) feed(table, line);
      expect(summaries(table)).toEqual(expected(lines));
    }
  });
});

describe("status scan", () => {
  it("reads a line the server wrote from its bytes, as parseStatusFields does", () => {
    const line = dlrLine(
      { messageId: "m1", smsId: "s1", part: 2, parts: 3, price: 0.036, latency: 4, status: status("Delivered", "2024-05-01T10:00:05Z") },
      "2024-05-01T10:00:06.000Z",
    ).trimEnd();
    const bytes = encoder.encode(line);
    const out = new ScannedReport();
    expect(scanStatusLine(bytes, 0, bytes.length, out)).toBe(true);
    const text = (field: number) => new TextDecoder().decode(bytes.subarray(out.starts[field], out.ends[field]));
    const fields = parseStatusFields(line)!;
    expect([text(MESSAGE_ID), text(PART_KEY), text(RECEIVED_AT), text(UPDATED_DATE), text(STATUS)]).toEqual([
      fields.messageId!,
      fields.smsId!,
      fields.receivedAt,
      fields.updatedDate!,
      fields.status!,
    ]);
    expect([out.part, out.declaredParts, out.price, out.latency, out.final]).toEqual([2, 3, 0.036, 4, true]);
  });

  it("leaves other lines to the parser: escapes, non-ASCII, other field orders, other kinds", () => {
    const scan = (line: string) => {
      const bytes = encoder.encode(line);
      return scanStatusLine(bytes, 0, bytes.length, new ScannedReport());
    };
    const plain = dlrLine({ messageId: "m1" }, "2024-05-01T10:00:00.000Z").trimEnd();
    expect(scan(plain)).toBe(true);
    expect(scan(dlrLine({ messageId: 'm"1' }, "2024-05-01T10:00:00.000Z").trimEnd())).toBe(false);
    expect(scan(dlrLine({ country: "Ελλάδα" }, "2024-05-01T10:00:00.000Z").trimEnd())).toBe(false);
    const { report, ...rest } = parseEntry(plain) as LogEntry;
    expect(scan(JSON.stringify({ report, ...rest }))).toBe(false);
    expect(scan(FIXTURE_LINES[0]!.trimEnd())).toBe(false); // a campaign callback
    expect(scan(plain.replace('"price":0.036', '"price":3.6e-2'))).toBe(false);
  });
});
