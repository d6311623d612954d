/**
 * The one builder of sample Routee delivery reports, for every test and script: a realistic body
 * with unique ids per call (any field overridable), a status object, the reports of a whole
 * message in the order Routee sends them, and the log line the server writes for a report (the
 * project's own adapter and renderer, so a sample line can never drift from a real one).
 * The wrk script (scripts/bench/wrk.lua) cannot import this and keeps its own template.
 */
import { type LogEntry } from "../../src/core/entry.ts";
import { renderJsonl } from "../../src/core/render.ts";
import { routeeEntry } from "../../src/providers/routee/adapter.ts";
import type { RouteeCallback } from "../../src/providers/routee/schema.ts";

/** A report body; loosely typed so that tests can set any field to anything. */
export type SampleReport = Record<string, unknown>;

let counter = 0;

/** A new id, unique in this process: `${prefix}-${time}-${n}`. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(16)}-${counter}`;
}

/**
 * A realistic Routee report (one-part, Delivered); override any field. Ids are unique per call.
 * @example routeeReport({ status: routeeStatus("Failed", "2024-05-01T10:00:00Z", "Expired") })
 */
export function routeeReport(overrides: SampleReport = {}): SampleReport {
  counter += 1;
  const id = `${Date.now().toString(16)}-${counter}`;
  return {
    messageId: `msg-${id}`,
    smsId: `sms-${id}`,
    campaignTrackingId: null,
    part: 1,
    parts: 1,
    label: "otp",
    to: "+306948530920",
    from: "Routee",
    country: "GR",
    operator: "Cosmote",
    groups: [],
    campaignName: null,
    status: routeeStatus("Delivered", "2019-07-05T10:28:49Z", "Delivered", "The message was delivered"),
    message: "Your code is 1234",
    applicationName: "default",
    latency: 2,
    price: 0.036,
    direction: "Outbound",
    originatingService: "Sms",
    ...overrides,
  };
}

/** A report's status object; the description defaults to `${detailedStatus}.`. */
export function routeeStatus(
  name: string,
  updatedDate: string,
  detailedStatus: string = name,
  description = `${detailedStatus}.`,
): SampleReport {
  return { name, reason: { detailedStatus, description }, updatedDate };
}

/** The log entry the server makes of `report` received at `receivedAt`. */
export function reportEntry(report: SampleReport, receivedAt: string | Date = new Date()): LogEntry {
  return routeeEntry(report as RouteeCallback, new Date(receivedAt));
}

/** The JSONL line the server writes for `report` received at `receivedAt`. */
export function reportLine(report: SampleReport, receivedAt: string | Date): string {
  return renderJsonl(reportEntry(report, receivedAt));
}

/** The JSONL line for `routeeReport(overrides)` received at `receivedAt`. */
export function dlrLine(overrides: SampleReport, receivedAt: string | Date): string {
  return reportLine(routeeReport(overrides), receivedAt);
}

/** Routee's final statuses, with the detailed status and description it sends with each. */
export const FINAL_STATUSES: [name: string, detailed: string, description: string][] = [
  ["Delivered", "Delivered", "The message was delivered"],
  ["Undelivered", "Undeliverable", "The message could not be delivered to the handset"],
  ["Failed", "Failed", "The message failed to be sent"],
  ["Unsent", "Unsent", "The message was not sent (insufficient balance)"],
  ["Expired", "Expired", "The validity period expired before delivery"],
  ["Rejected", "Rejected", "The operator rejected the message"],
];
const QUEUED: [string, string, string] = ["Queued", "Queued", "The message is queued"];
const SENT: [string, string, string] = ["Sent", "Sent", "The message was sent to the operator"];

/** Message texts that have broken loggers: non-ASCII, quotes, control and line-separator characters. */
const MESSAGES = [
  "Your code is 4812",
  "Γεια σας! Η παραγγελία σας #1093 στάλθηκε 📦",
  'He said "hello"\nand left\ta tab',
  "Line\u2028separator and \u2029paragraph separator",
  "x".repeat(459),
];
const OPERATORS: [country: string, operator: string, to: string][] = [
  ["GR", "Cosmote", "+30694"],
  ["GR", "Vodafone", "+30697"],
  ["GB", "EE", "+44774"],
  ["DE", "Telekom", "+49151"],
];

/**
 * Endless messages, each yielded as its reports in the order Routee sends them: per part Queued,
 * Sent (not for Unsent), then a final status; 40% of messages in 2 to 4 parts. `random` (in [0, 1))
 * picks parts, numbers, final statuses and latencies, so a seeded one replays a run.
 */
export function* routeeMessages(random: () => number): Generator<SampleReport> {
  let clock = Date.UTC(2024, 4, 1, 9, 0, 0);
  for (let n = 0; ; n++) {
    const messageId = uniqueId("msg");
    const parts = random() < 0.4 ? 2 + Math.floor(random() * 3) : 1;
    const [country, operator, prefix] = OPERATORS[n % OPERATORS.length]!;
    const to = `${prefix}${String(1_000_000 + Math.floor(random() * 8_999_999))}`;
    const smsIds = Array.from({ length: parts }, () => uniqueId("sms"));
    const final = FINAL_STATUSES[Math.floor(random() * FINAL_STATUSES.length)]!;
    const steps = final[0] === "Unsent" ? [QUEUED, final] : [QUEUED, SENT, final];
    for (const [name, detailed, description] of steps) {
      clock += 1000 + Math.floor(random() * 5000);
      for (let part = 1; part <= parts; part++) {
        const updatedDate = new Date(clock + part).toISOString().replace(/\.\d+Z$/, "Z");
        yield routeeReport({
          messageId,
          smsId: smsIds[part - 1],
          part,
          parts,
          label: n % 3 === 0 ? "otp" : null,
          to,
          country,
          operator,
          status: routeeStatus(name, updatedDate, detailed, description),
          message: MESSAGES[n % MESSAGES.length],
          latency: name === "Queued" ? 0 : 1 + Math.floor(random() * 30),
          // Routee sends numbers; its docs also show strings.
          price: n % 5 === 0 ? "0.0360" : 0.036,
        });
      }
    }
  }
}
