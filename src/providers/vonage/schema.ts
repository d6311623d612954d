/**
 * The delivery receipt (DLR) the Vonage SMS API sends to the account's delivery receipt URL, as a
 * TypeBox schema: the same fields as a GET's query, a POST's form or a POST's JSON object. Values
 * are strings (JSON may carry numbers for the numeric ones); the fields read must be there and have
 * their form. Other fields are kept.
 *
 * Source: Vonage's "Delivery receipts" guide and the SMS API reference (delivery receipt webhook).
 */
import { Type, type Static } from "@sinclair/typebox";
import { bodyCheck, DecimalText, maybe } from "../check.ts";

const text = (description: string) => Type.String({ description });
const numeric = Type.Union([DecimalText, Type.Number()], { description: "a decimal number" });

export const VonageDeliveryReceipt = Type.Object(
  {
    messageId: Type.String({ minLength: 1, description: "a message id" }),
    status: Type.String({ minLength: 1, description: "a status name" }),
    msisdn: maybe(text("the recipient's number")),
    to: maybe(text("the sender id the message was sent from")),
    "network-code": maybe(text("an MCCMNC")),
    price: maybe(numeric),
    scts: maybe(Type.String({ pattern: "^\\d{10}$", description: "YYMMDDHHMM" })),
    "err-code": maybe(Type.Union([Type.String({ pattern: "^\\d+$" }), Type.Number()], { description: "a number" })),
    "api-key": maybe(text("an API key")),
    "client-ref": maybe(text("a string")),
    "message-timestamp": maybe(Type.String({ pattern: "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$", description: "YYYY-MM-DD HH:MM:SS" })),
    timestamp: maybe(Type.Union([Type.String({ pattern: "^\\d+$" }), Type.Number()], { description: "a Unix time" })),
    nonce: maybe(text("a string")),
    sig: maybe(text("a hex signature")),
  },
  {
    additionalProperties: true,
    title: "VonageDeliveryReceipt",
    description: "A Vonage SMS API delivery receipt (GET query, POST form or POST JSON).",
  },
);
export type VonageDeliveryReceipt = Static<typeof VonageDeliveryReceipt>;

export const invalidField = bodyCheck(VonageDeliveryReceipt);
