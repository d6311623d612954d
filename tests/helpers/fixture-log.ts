/** A small log with known figures, shared by the report, lookup and tail tests. */
import { writeFileSync } from "node:fs";
import { blankEntry } from "../../src/core/entry.ts";
import { renderJsonl } from "../../src/core/render.ts";
import { dlrLine, status } from "./utils.ts";

const at = (hour: number, minute = 0) => `2024-05-01T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00.000Z`;

function report(messageId: string, hour: number, minute: number, name: string, over: Record<string, unknown> = {}) {
  const detailed = (over.detailed as string | undefined) ?? name;
  delete over.detailed;
  return dlrLine(
    { messageId, smsId: `${messageId}-${over.part ?? 1}`, status: status(name, at(hour, minute).replace(".000", ""), detailed), ...over },
    at(hour, minute),
  );
}

const gr = { country: "GR", operator: "Cosmote", label: "otp" };
const cy = { country: "CY", operator: "Cyta", label: "promo", campaignTrackingId: "c1" };

/**
 * m1 delivered, m2 delivered (a duplicate and a late Sent), m3 delivered in two parts, m4 failed
 * (Unknown Number), m5 failed (Expired, price 0), m6 pending, m7 pending (one of two parts).
 * Messages: 7; delivered 3, failed 2, pending 2; cost 0.294; latencies 4, 10, 6.
 */
export const FIXTURE_LINES: string[] = [
  renderJsonl({ ...blankEntry("routee", "campaign", { trackingId: "c1" }, new Date(at(8))), campaignTrackingId: "c1", status: "Running" }),
  renderJsonl({
    ...blankEntry("routee", "rejected", "{oops", new Date(at(8, 5))),
    error: { reason: "malformed_json", message: "the body is not valid JSON" },
  }),
  "this line is not JSON\n",
  report("m1", 10, 0, "Sent", { ...gr, price: 0.036, latency: 0 }),
  report("m1", 10, 1, "Delivered", { ...gr, price: 0.036, latency: 4 }),
  report("m2", 11, 1, "Delivered", { ...gr, operator: "Vodafone", price: 0.036, latency: 10 }),
  report("m2", 11, 1, "Delivered", { ...gr, operator: "Vodafone", price: 0.036, latency: 10 }),
  report("m2", 11, 2, "Sent", { ...gr, operator: "Vodafone", price: 0.036, latency: 0 }),
  report("m3", 12, 0, "Delivered", { ...cy, part: 2, parts: 2, price: 0.05, latency: 6 }),
  report("m3", 12, 1, "Delivered", { ...cy, part: 1, parts: 2, price: 0.05, latency: 2 }),
  report("m4", 13, 0, "Sent", { ...gr, price: 0.036, latency: 0 }),
  report("m4", 13, 1, "Undelivered", { ...gr, price: 0.036, latency: 0, detailed: "Unknown Number" }),
  report("m5", 14, 0, "Failed", { ...cy, price: 0, latency: 0, detailed: "Expired" }),
  report("m6", 15, 0, "Sent", { ...gr, price: 0.036, latency: 0 }),
  report("m7", 16, 0, "Delivered", { country: "GB", operator: "EE", label: "otp", part: 1, parts: 2, price: 0.05, latency: 3 }),
];

/** Write the fixture log (or a part of it) to `path`. */
export function writeFixture(path: string, lines = FIXTURE_LINES): void {
  writeFileSync(path, lines.join(""));
}
