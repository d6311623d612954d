/**
 * A Twilio status callback turned into a log entry. `MessageSid` is the message (Twilio reports a
 * whole message, never its segments); `ErrorCode` goes to `detailedStatus`; a `To` of
 * `whatsapp:+…` is the WhatsApp channel. Twilio's callbacks carry no time of the status change
 * (`RawDlrDoneDate` is the carrier's, minute-precise and without a time zone), so `updatedDate`
 * stays empty: a final status outranks any other, and between two of the same rank the later in
 * Twilio's status order (`sequence`, classify.ts) wins, then the one received last (see
 * docs/providers.md).
 */
import { blankEntry, setSequence, type LogEntry } from "../../core/entry.ts";
import { str } from "../check.ts";
import { num } from "../fields.ts";
import { classify, TWILIO_INBOUND, TWILIO_SEQUENCE } from "./classify.ts";

export const PROVIDER = "twilio";

export function twilioEntry(body: Record<string, unknown>, receivedAt?: Date): LogEntry {
  const status = str(body.MessageStatus) ?? str(body.SmsStatus);
  const to = str(body.To);
  const whatsapp = to?.startsWith("whatsapp:") || str(body.From)?.startsWith("whatsapp:");
  const inbound = status !== null && TWILIO_INBOUND.has(status.toLowerCase());
  const entry = blankEntry(PROVIDER, inbound ? "inbound" : "dlr", body, receivedAt, whatsapp ? "whatsapp" : "sms");
  if (!inbound && status !== null) Object.assign(entry, classify(status));
  entry.status = inbound ? null : status;
  entry.messageId = str(body.MessageSid) ?? str(body.SmsSid);
  entry.to = to;
  entry.from = str(body.From);
  const errorCode = num(body.ErrorCode);
  entry.detailedStatus = errorCode === null || errorCode === 0 ? null : String(errorCode);
  entry.label = str(body.MessagingServiceSid);
  if (!inbound && status !== null) setSequence(entry, TWILIO_SEQUENCE[status.toLowerCase()] ?? null);
  return entry;
}
