/**
 * The parameters Plivo sends to a message's status callback URL (form fields for POST, query
 * parameters for GET), as a TypeBox schema. Values are strings; the fields read must be there and
 * have their form (a non-numeric `TotalAmount` is a 422 naming it). Other fields are kept.
 *
 * Source: Plivo's "Message Status Callbacks" (messaging API).
 */
import { Type, type Static } from "@sinclair/typebox";
import { bodyCheck, DecimalText, maybe } from "../check.ts";

const text = (description: string) => Type.String({ description });
const time = Type.String({
  pattern: "^\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?([+-]\\d\\d:?\\d\\d|Z)?$",
  description: "a time as YYYY-mm-dd HH:MM:SS.SSSSSS",
});
const whole = (description: string) => Type.String({ pattern: "^\\d+$", description });

export const PlivoCallback = Type.Object(
  {
    MessageUUID: Type.String({ minLength: 1, description: "a message UUID" }),
    Status: Type.String({ minLength: 1, description: "a status name" }),
    To: maybe(text("a phone number")),
    From: maybe(text("a phone number or sender id")),
    Type: maybe(text("sms, mms or whatsapp")),
    Units: maybe(whole("a whole number")),
    TotalRate: maybe(Type.Union([DecimalText, Type.Literal("")], { description: "a decimal number" })),
    TotalAmount: maybe(Type.Union([DecimalText, Type.Literal("")], { description: "a decimal number" })),
    MCC: maybe(text("a mobile country code")),
    MNC: maybe(text("a mobile network code")),
    ErrorCode: maybe(Type.Union([whole("a number"), Type.Literal("")], { description: "a number" })),
    Sequence: maybe(whole("a whole number")),
    ParentMessageUUID: maybe(text("a message UUID")),
    PartInfo: maybe(text("a string")),
    MessageTime: maybe(time),
    QueuedTime: maybe(Type.Union([time, Type.Literal("")], { description: time.description })),
    SentTime: maybe(Type.Union([time, Type.Literal("")], { description: time.description })),
    DeliveryReportTime: maybe(Type.Union([time, Type.Literal("")], { description: time.description })),
    PowerpackUUID: maybe(text("a powerpack UUID")),
  },
  {
    additionalProperties: true,
    title: "PlivoStatusCallback",
    description: "A Plivo message status callback (form-encoded POST, or query parameters of a GET).",
  },
);
export type PlivoCallback = Static<typeof PlivoCallback>;

export const invalidField = bodyCheck(PlivoCallback);
