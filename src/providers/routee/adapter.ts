/**
 * Routee's callback bodies turned into provider-neutral log entries. One callback URL receives
 * every kind of callback Routee sends, so a body is first recognised by its tell-tale fields, in
 * this order (the first that fits wins):
 *
 * | shape                          | tell-tale                                                  | kind, channel        |
 * | ------------------------------ | ---------------------------------------------------------- | -------------------- |
 * | failover                       | `trackingId`, `messages` array                             | other, failover + one dlr per message |
 * | campaign                       | `trackingId`, `campaignStatus`                             | campaign, sms        |
 * | two-step verification          | `applicationId`, `recipient`, string `status`              | dlr, verification    |
 * | WhatsApp                       | `channel: "whatsapp"` or `event: "MessageStatus::…"`       | dlr (MoMessage: inbound), whatsapp |
 * | voice message / conversation   | `originatingService: "Voice"` or `conversationTrackingId`  | dlr (no status: other), voice |
 * | Viber                          | `originatingService: "Viber"`, or `trackingId` + `body` object | dlr (Inbound: inbound), viber |
 * | inbound SMS (plain or pool)    | `direction: "Inbound"` without a status object             | inbound, sms         |
 * | SMS delivery report (or pool)  | `messageId`, status not a string                           | dlr, sms             |
 * | anything else                  |                                                            | other, null          |
 *
 * Only the SMS delivery report is checked against a schema (a known field of the wrong type is a
 * 422); every other object is recorded with what can be read from it.
 */
import { blankEntry, type Channel, type LogEntry } from "../../core/entry.ts";
import { num, obj, str } from "../fields.ts";
import { classify } from "./classify.ts";
import type { RouteeCallback } from "./schema.ts";

export const PROVIDER = "routee";

export type Body = Record<string, unknown>;

/** The shapes above, as recognised. */
export type Shape = "failover" | "campaign" | "verification" | "whatsapp" | "voice" | "viber" | "inbound" | "sms" | "other";

const same = (v: unknown, name: string) => typeof v === "string" && v.toLowerCase() === name;

/** Which kind of Routee callback a body is (see the table above). */
export function recognise(body: Body): Shape {
  if (typeof body.trackingId === "string" && Array.isArray(body.messages)) return "failover";
  if (typeof body.trackingId === "string" && typeof body.campaignStatus === "string") return "campaign";
  if (typeof body.applicationId === "string" && "recipient" in body && typeof body.status === "string") return "verification";
  if (same(body.channel, "whatsapp") || (typeof body.event === "string" && body.event.startsWith("MessageStatus::")))
    return "whatsapp";
  if (same(body.originatingService, "voice") || typeof body.conversationTrackingId === "string") return "voice";
  if (same(body.originatingService, "viber") || (typeof body.trackingId === "string" && obj(body.body) !== null)) return "viber";
  if (same(body.direction, "inbound") && obj(body.status) === null) return "inbound";
  if ("messageId" in body && typeof body.status !== "string") return "sms";
  return "other";
}

/** The fields a per-message status carries, wherever in the body they are. */
function fillStatus(entry: LogEntry, message: Body, channel: Channel): void {
  const status = obj(message.status);
  const name = str(status?.name) ?? str(status?.status) ?? str(message.status);
  const { outcome, final } = classify(name, channel);
  const reason = obj(status?.reason);
  entry.outcome = outcome;
  entry.final = final;
  entry.status = name;
  entry.detailedStatus = str(reason?.detailedStatus);
  entry.description = str(reason?.description);
  entry.updatedDate = str(status?.updatedDate) ?? str(status?.date) ?? null;
  entry.messageId = str(message.messageId);
  entry.smsId = str(message.smsId);
  entry.trackingId = str(message.trackingId);
  entry.part = num(message.part);
  entry.parts = num(message.parts);
  entry.to = str(message.to);
  entry.from = str(message.from);
  entry.price = num(message.price);
  entry.latency = num(message.latency);
  entry.country = str(message.country);
  entry.operator = str(message.operator);
  entry.campaignTrackingId = str(message.campaignTrackingId);
  entry.campaignName = str(message.campaignName);
  entry.label = str(message.label);
  entry.poolName = str(message.poolName);
}

const CHANNEL_OF_TYPE: Record<string, Channel> = { sms: "sms", viber: "viber", voice: "voice" };

/**
 * The entries for a callback body received at `receivedAt` (default: now). Every shape gives one
 * entry whose `report` is the whole body, but a failover callback, which also gives one `dlr`
 * entry per message of the flow (its `report` is that message).
 */
export function routeeEntries(body: Body, receivedAt?: Date, shape: Shape = recognise(body)): LogEntry[] {
  switch (shape) {
    case "sms": {
      const entry = blankEntry(PROVIDER, "dlr", body, receivedAt, "sms");
      fillStatus(entry, body, "sms");
      return [entry];
    }
    case "viber":
    case "voice": {
      const inbound = shape === "viber" && same(body.direction, "inbound") && obj(body.status) === null;
      // A voice dialplan request (a call waiting for instructions) carries no status.
      const kind = inbound ? "inbound" : shape === "voice" && body.status === undefined ? "other" : "dlr";
      const entry = blankEntry(PROVIDER, kind, body, receivedAt, shape);
      fillStatus(entry, body, shape);
      if (kind !== "dlr") Object.assign(entry, { outcome: "unknown", final: false });
      entry.trackingId ??= str(body.conversationTrackingId);
      if (inbound) entry.updatedDate = str(body.receivedDate);
      return [entry];
    }
    case "whatsapp": {
      const inbound = body.event === "MoMessage";
      const entry = blankEntry(PROVIDER, inbound ? "inbound" : "dlr", body, receivedAt, "whatsapp");
      fillStatus(entry, body, "whatsapp");
      if (inbound) Object.assign(entry, { outcome: "unknown", final: false });
      entry.from = str(body.from)?.trim() ?? str(obj(body.details)?.from)?.trim() ?? null;
      entry.updatedDate = str(body.timestamp);
      return [entry];
    }
    case "verification": {
      const entry = blankEntry(PROVIDER, "dlr", body, receivedAt, "verification");
      fillStatus(entry, body, "verification");
      entry.to = str(body.recipient);
      entry.updatedDate = str(body.updatedAt);
      entry.label = str(body.applicationId);
      return [entry];
    }
    case "inbound": {
      const entry = blankEntry(PROVIDER, "inbound", body, receivedAt, "sms");
      fillStatus(entry, body, "sms");
      Object.assign(entry, { outcome: "unknown", final: false, status: null });
      entry.updatedDate = str(body.receivedDate);
      return [entry];
    }
    case "campaign": {
      const entry = blankEntry(PROVIDER, "campaign", body, receivedAt, "sms");
      entry.trackingId = str(body.trackingId);
      entry.campaignTrackingId = str(body.trackingId);
      entry.status = str(body.campaignStatus);
      entry.campaignName = str(body.name) ?? str(body.campaignName);
      return [entry];
    }
    case "failover": {
      const flow = blankEntry(PROVIDER, "other", body, receivedAt, "failover");
      flow.trackingId = str(body.trackingId);
      flow.status = str(body.status);
      flow.updatedDate = str(body.updatedAt);
      flow.price = num(body.totalPrice);
      const entries = [flow];
      for (const item of body.messages as unknown[]) {
        const message = obj(item);
        const type = message?.type;
        const channel = typeof type === "string" ? CHANNEL_OF_TYPE[type.toLowerCase()] : undefined;
        if (!message || !channel) continue;
        const entry = blankEntry(PROVIDER, "dlr", message, receivedAt, channel);
        fillStatus(entry, message, channel);
        entries.push(entry);
      }
      return entries;
    }
    case "other":
      return [blankEntry(PROVIDER, "other", body, receivedAt)];
  }
}

/** What kind of callback a body is (`dlr`, `inbound`, `campaign`, `other`). */
export function callbackKind(body: RouteeCallback): LogEntry["kind"] {
  return routeeEntries(body as Body)[0]!.kind;
}

/** The (first) entry for a callback body received at `receivedAt` (default: now). */
export function routeeEntry(body: RouteeCallback, receivedAt?: Date): LogEntry {
  return routeeEntries(body as Body, receivedAt)[0]!;
}
