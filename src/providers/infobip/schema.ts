/**
 * The body Infobip POSTs to an SMS delivery report URL (`notifyUrl` or a subscription), as a
 * TypeBox schema: `results`, up to 100 reports per request. The fields we read must have
 * Infobip's types (else 422 naming the field, e.g. `results.3.status.name`); the rest is kept.
 * Source: infobip.com/docs, SMS API "Receive outbound SMS message report" (webhook).
 */
import { Type, type Static } from "@sinclair/typebox";
import { opt } from "../fields.ts";

const open = { additionalProperties: true };
const a = (what: string) => ({ ...open, description: what });

const Status = Type.Object(
  {
    groupId: opt(Type.Number(), "a number"),
    groupName: opt(Type.String(), "a string"),
    id: opt(Type.Number(), "a number"),
    name: opt(Type.String(), "a string"),
    description: opt(Type.String(), "a string"),
  },
  a("an object"),
);

export const InfobipResult = Type.Object(
  {
    bulkId: opt(Type.String(), "a string"),
    messageId: opt(Type.String(), "a string"),
    to: opt(Type.String(), "a string"),
    sentAt: opt(Type.String(), "a string (date)"),
    doneAt: opt(Type.String(), "a string (date)"),
    smsCount: opt(Type.Number(), "a number"),
    mccMnc: opt(Type.String(), "a string"),
    callbackData: opt(Type.String(), "a string"),
    price: opt(Type.Object({ pricePerMessage: opt(Type.Number(), "a number"), currency: opt(Type.String(), "a string") }, open), "an object"),
    status: opt(Status, "an object"),
    error: opt(Status, "an object"),
  },
  a("an object"),
);

export const InfobipReports = Type.Object(
  { results: opt(Type.Array(InfobipResult), "an array of reports") },
  { ...open, title: "InfobipReports", description: "Infobip SMS delivery reports, up to 100 per request." },
);
export type InfobipReports = Static<typeof InfobipReports>;
