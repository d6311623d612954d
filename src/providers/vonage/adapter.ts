/**
 * A Vonage delivery receipt turned into a log entry. Vonage sends one receipt per part of a long
 * message, each with the part's own `messageId` (the send response lists them; the receipt names
 * no parent), so each part is its own message here. `msisdn` is the recipient (`to`), `to` is the
 * sender id (`from`); `err-code` goes to `detailedStatus` (0 is none), `network-code` to
 * `operator`, `client-ref` to `label`. `updatedDate` is `message-timestamp` (UTC, to the second,
 * when Vonage started sending the receipt); `scts`, the carrier's minute without a time zone, stays
 * in the report.
 */
import { blankEntry, type LogEntry } from "../../core/entry.ts";
import { str } from "../check.ts";
import { num } from "../fields.ts";
import { classify } from "./classify.ts";

export const PROVIDER = "vonage";

export function vonageEntry(body: Record<string, unknown>, receivedAt?: Date): LogEntry {
  const status = str(body.status)!;
  const entry = blankEntry(PROVIDER, "dlr", body, receivedAt, "sms");
  Object.assign(entry, classify(status));
  entry.status = status;
  entry.messageId = str(body.messageId);
  entry.to = str(body.msisdn);
  entry.from = str(body.to);
  const errorCode = num(body["err-code"]);
  entry.detailedStatus = errorCode === null || errorCode === 0 ? null : String(errorCode);
  entry.price = num(body.price);
  entry.operator = str(body["network-code"]);
  entry.label = str(body["client-ref"]);
  const stamp = str(body["message-timestamp"]);
  entry.updatedDate = stamp ? `${stamp.replace(" ", "T")}Z` : null;
  return entry;
}
