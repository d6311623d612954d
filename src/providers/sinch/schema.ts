/**
 * The delivery reports Sinch's SMS REST API POSTs to a batch's callback URL, as a TypeBox schema:
 * a per-recipient report (`recipient_delivery_report_sms`) or a batch report
 * (`delivery_report_sms`, with `statuses[]` and, for `full` reports, their `recipients`). The
 * fields we read must have Sinch's types (else 422 naming the field); the rest is kept.
 * Source: developers.sinch.com, SMS API reference, "Delivery reports" (webhooks).
 */
import { Type, type Static } from "@sinclair/typebox";
import { opt } from "../fields.ts";

const open = { additionalProperties: true };

const StatusGroup = Type.Object(
  {
    code: opt(Type.Number(), "a number"),
    status: opt(Type.String(), "a string"),
    count: opt(Type.Number(), "a number"),
    recipients: opt(Type.Array(Type.String()), "an array of strings"),
  },
  { ...open, description: "an object" },
);

export const SinchReport = Type.Object(
  {
    type: opt(Type.String(), "a string"),
    batch_id: opt(Type.String(), "a string"),
    recipient: opt(Type.String(), "a string"),
    code: opt(Type.Number(), "a number"),
    status: opt(Type.String(), "a string"),
    at: opt(Type.String(), "a string (ISO 8601 date)"),
    operator_status_at: opt(Type.String(), "a string (ISO 8601 date)"),
    client_reference: opt(Type.String(), "a string"),
    number_of_message_parts: opt(Type.Number(), "a number"),
    operator: opt(Type.String(), "a string"),
    statuses: opt(Type.Array(StatusGroup), "an array of status objects"),
  },
  { ...open, title: "SinchReport", description: "A Sinch SMS delivery report (per recipient or per batch)." },
);
export type SinchReport = Static<typeof SinchReport>;
