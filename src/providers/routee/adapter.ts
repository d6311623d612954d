/** Routee's callback bodies turned into provider-neutral log entries. */
import { blankEntry, type LogEntry } from "../../core/entry.ts";
import { classify } from "./classify.ts";
import type { RouteeCallback } from "./schema.ts";

export const PROVIDER = "routee";

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
};

/** A per-SMS report carries `messageId`; a campaign callback `trackingId` and `campaignStatus`. */
export function callbackKind(body: RouteeCallback): LogEntry["kind"] {
  if (typeof body.messageId === "string") return "dlr";
  if (typeof body.trackingId === "string" && typeof body.campaignStatus === "string") return "campaign";
  return "other";
}

/** The entry for a callback body received at `receivedAt` (default: now). */
export function routeeEntry(body: RouteeCallback, receivedAt?: Date): LogEntry {
  const kind = callbackKind(body);
  const entry = blankEntry(PROVIDER, kind, body, receivedAt);
  if (kind === "campaign") {
    entry.campaignTrackingId = str(body.trackingId);
    entry.status = str(body.campaignStatus);
    entry.label = str(body.campaignName);
    return entry;
  }
  if (kind === "other") return entry;

  const status = body.status ?? null;
  const { outcome, final } = classify(status?.name);
  entry.outcome = outcome;
  entry.final = final;
  entry.messageId = str(body.messageId);
  entry.smsId = str(body.smsId);
  entry.part = num(body.part);
  entry.parts = num(body.parts);
  entry.to = str(body.to);
  entry.from = str(body.from);
  entry.status = str(status?.name);
  entry.detailedStatus = str(status?.reason?.detailedStatus);
  entry.description = str(status?.reason?.description);
  entry.updatedDate = str(status?.updatedDate);
  entry.price = num(body.price);
  entry.latency = num(body.latency);
  entry.country = str(body.country);
  entry.operator = str(body.operator);
  entry.campaignTrackingId = str(body.campaignTrackingId);
  entry.label = str(body.label);
  return entry;
}
