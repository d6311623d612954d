/**
 * The form Twilio POSTs to a message's status callback URL, as a TypeBox schema. Form values are
 * strings; what is checked is that the fields read are there and have their form (a missing
 * `MessageStatus` or a non-numeric `ErrorCode` is a 422 naming it). Other fields are kept.
 *
 * Source: Twilio's "Track the Message Status of Outbound Messages" and the Message resource.
 */
import { Type, type Static } from "@sinclair/typebox";
import { bodyCheck, DecimalText, maybe } from "../check.ts";

const text = (description: string) => Type.String({ description });

export const TwilioCallback = Type.Object(
  {
    MessageSid: Type.String({ minLength: 1, description: "a message SID (SM…, MM…)" }),
    MessageStatus: Type.String({ minLength: 1, description: "a status name" }),
    SmsSid: maybe(text("a message SID")),
    SmsStatus: maybe(text("a status name")),
    AccountSid: maybe(text("an account SID (AC…)")),
    MessagingServiceSid: maybe(text("a messaging service SID (MG…)")),
    From: maybe(text("a phone number or sender id")),
    To: maybe(text("a phone number (whatsapp:+… for WhatsApp)")),
    ErrorCode: maybe(Type.Union([DecimalText, Type.Literal("")], { description: "a number" })),
    ApiVersion: maybe(text("a string")),
    RawDlrDoneDate: maybe(Type.String({ pattern: "^\\d{10}$", description: "YYMMDDhhmm" })),
  },
  {
    additionalProperties: true,
    title: "TwilioStatusCallback",
    description: "A Twilio message status callback (form-encoded POST).",
  },
);
export type TwilioCallback = Static<typeof TwilioCallback>;

export const invalidField = bodyCheck(TwilioCallback);
