/**
 * Telnyx messaging events turned into entries. An outbound message event (`message.sent`,
 * `message.finalized`) gives one `dlr` entry per recipient in `to` (usually one; a group MMS has
 * several, each its own part `smsId` = `<id>/<number>`); `message.received` is `inbound`; any other
 * event is `other`. The first entry records the whole body.
 *
 * - `updatedDate` is the event's `occurred_at` (milliseconds), so two events of one message order
 *   by when Telnyx saw them; the status ranks decide first (a late `sent` never undoes `delivered`).
 * - `parts` is not filled from Telnyx's `parts`: that counts segments, and one event covers them all.
 * - The message's `cost.amount` is the price of the first recipient's entry only (charged once).
 */
import { blankEntry, type LogEntry } from "../../core/entry.ts";
import type { ReceivedEntry } from "../../core/entry.ts";
import { num, obj, str, text, type Json } from "../fields.ts";
import { classify } from "./classify.ts";

export const PROVIDER = "telnyx";

export function telnyxEntries(body: Json, raw: string, receivedAt?: Date): ReceivedEntry[] {
  const data = obj(body.data) ?? {};
  const payload = obj(data.payload) ?? {};
  const event = str(data.event_type) ?? "";
  const inbound = event === "message.received" || str(payload.direction) === "inbound";
  const isStatus = !inbound && (event === "message.sent" || event === "message.finalized" || str(payload.record_type) === "message");
  const from = str(payload.from) ?? str(obj(payload.from)?.phone_number);
  const updatedDate = str(data.occurred_at) ?? str(payload.completed_at) ?? str(payload.sent_at);
  if (!isStatus) {
    const entry = blankEntry(PROVIDER, inbound ? "inbound" : "other", body, receivedAt, inbound ? "sms" : null);
    entry.messageId = str(payload.id);
    entry.from = from;
    entry.to = str(obj((payload.to as unknown[] | undefined)?.[0])?.phone_number);
    entry.updatedDate = updatedDate;
    return [{ entry, raw }];
  }
  const recipients = Array.isArray(payload.to) && payload.to.length > 0 ? payload.to.map(obj) : [null];
  const error = obj((payload.errors as unknown[] | undefined)?.[0]);
  return recipients.map((recipient, i): ReceivedEntry => {
    const entry: LogEntry = blankEntry(PROVIDER, "dlr", i === 0 ? body : recipient, receivedAt, "sms");
    const status = str(recipient?.status);
    Object.assign(entry, classify(status));
    entry.status = status;
    entry.messageId = str(payload.id);
    entry.to = str(recipient?.phone_number);
    if (recipients.length > 1) entry.smsId = `${entry.messageId}/${entry.to}`;
    entry.from = from;
    entry.operator = str(recipient?.carrier);
    entry.updatedDate = updatedDate;
    entry.detailedStatus = text(error?.code);
    entry.description = str(error?.detail) ?? str(error?.title);
    if (i === 0) entry.price = num(obj(payload.cost)?.amount);
    entry.label = event;
    return i === 0 ? { entry, raw } : { entry };
  });
}
