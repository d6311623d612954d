/**
 * Sinch SMS delivery reports turned into entries. A batch (`batch_id`) is the message and each of
 * its recipients a part (`smsId` = `<batch_id>/<recipient>`), so `lookup BATCH_ID` shows every
 * recipient and the batch is delivered when all are.
 *
 * - `recipient_delivery_report_sms`: one `dlr`; `updatedDate` is the report's `at` (milliseconds).
 * - `delivery_report_sms` with recipients (report type `full`): one `dlr` per recipient, without a
 *   date (Sinch gives none); a summary without recipients says only counts: one `other` entry.
 * - Anything else (MMS reports, unknown types): one `other` entry.
 *
 * `number_of_message_parts` counts segments; one report covers them all, so it is not `parts`.
 */
import { blankEntry, type LogEntry, type ReceivedEntry } from "../../core/entry.ts";
import { obj, str, text, type Json } from "../fields.ts";
import { classify } from "./classify.ts";

export const PROVIDER = "sinch";

function recipientEntry(report: unknown, batch: string | null, recipient: string | null, status: string | null, receivedAt?: Date): LogEntry {
  const entry = blankEntry(PROVIDER, "dlr", report, receivedAt, "sms");
  Object.assign(entry, classify(status));
  entry.status = status;
  entry.messageId = batch;
  entry.to = recipient;
  entry.smsId = batch !== null && recipient !== null ? `${batch}/${recipient}` : null;
  return entry;
}

export function sinchEntries(body: Json, raw: string, receivedAt?: Date): ReceivedEntry[] {
  const batch = str(body.batch_id);
  if (body.type === "recipient_delivery_report_sms") {
    const entry = recipientEntry(body, batch, str(body.recipient), str(body.status), receivedAt);
    entry.detailedStatus = text(body.code);
    entry.updatedDate = str(body.at);
    entry.operator = str(body.operator);
    entry.label = str(body.client_reference);
    return [{ entry, raw }];
  }
  const entries: ReceivedEntry[] = [];
  if (body.type === "delivery_report_sms" && Array.isArray(body.statuses)) {
    for (const item of body.statuses) {
      const group = obj(item);
      for (const recipient of Array.isArray(group?.recipients) ? group.recipients : []) {
        const entry = recipientEntry(entries.length === 0 ? body : { ...group, recipients: [recipient] }, batch, str(recipient), str(group?.status), receivedAt);
        entry.detailedStatus = text(group?.code);
        entry.label = str(body.client_reference);
        entries.push(entries.length === 0 ? { entry, raw } : { entry });
      }
    }
  }
  if (entries.length > 0) return entries;
  const entry = blankEntry(PROVIDER, "other", body, receivedAt);
  entry.trackingId = batch;
  entry.label = str(body.client_reference);
  return [{ entry, raw }];
}
