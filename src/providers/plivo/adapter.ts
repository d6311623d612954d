/**
 * A Plivo status callback turned into a log entry. `MessageUUID` is the message (Plivo reports a
 * whole message: `Units` is how many segments it took, `ParentMessageUUID` and `PartInfo` are
 * reserved); `ErrorCode` goes to `detailedStatus`, `TotalAmount` to `price`, `Units` to `parts`.
 *
 * Ordering: Plivo numbers its callbacks for a message (`Sequence`) and stamps each stage
 * (`QueuedTime`, `SentTime`, `DeliveryReportTime`, to the microsecond). `updatedDate` is the latest
 * stage time the callback carries, which orders them as `Sequence` does; `Sequence` is also the
 * entry's `sequence`, which decides when those times are equal or missing, before the order received.
 */
import { blankEntry, setSequence, type LogEntry } from "../../core/entry.ts";
import { str } from "../check.ts";
import { num } from "../fields.ts";
import { classify } from "./classify.ts";

export const PROVIDER = "plivo";

/** `2025-03-04 15:30:12.123456` (UTC unless an offset follows) as ISO 8601. */
function isoTime(value: unknown): string | null {
  const text = str(value);
  if (text === null) return null;
  const iso = text.replace(" ", "T");
  return /([+-]\d\d:?\d\d|Z)$/.test(iso) ? iso : `${iso}Z`;
}

export function plivoEntry(body: Record<string, unknown>, receivedAt?: Date): LogEntry {
  const status = str(body.Status)!;
  const inbound = status.toLowerCase() === "received";
  const channel = str(body.Type)?.toLowerCase() === "whatsapp" ? "whatsapp" : "sms";
  const entry = blankEntry(PROVIDER, inbound ? "inbound" : "dlr", body, receivedAt, channel);
  if (!inbound) Object.assign(entry, classify(status));
  entry.status = inbound ? null : status;
  entry.messageId = str(body.MessageUUID);
  entry.to = str(body.To);
  entry.from = str(body.From);
  const errorCode = str(body.ErrorCode);
  entry.detailedStatus = errorCode === null || /^0+$/.test(errorCode) ? null : errorCode;
  entry.price = num(body.TotalAmount);
  entry.parts = num(body.Units);
  entry.operator = str(body.MCC) && str(body.MNC) ? `${body.MCC}${body.MNC}` : null;
  entry.updatedDate = isoTime(body.DeliveryReportTime) ?? isoTime(body.SentTime) ?? isoTime(body.QueuedTime) ?? isoTime(body.MessageTime);
  entry.label = str(body.PowerpackUUID);
  if (!inbound) setSequence(entry, num(body.Sequence));
  return entry;
}
