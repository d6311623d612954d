/**
 * The body Telnyx POSTs for a messaging event (`message.sent`, `message.finalized`, ...), as a
 * TypeBox schema: the fields we read must have the types Telnyx documents (else 422 naming the
 * field); everything else is kept. Source: developers.telnyx.com "Receiving Webhooks for
 * Messaging" and the `telnyx` SDK's OutboundMessagePayload.
 */
import { Type, type Static } from "@sinclair/typebox";
import { opt } from "../fields.ts";

const open = { additionalProperties: true };

const Recipient = Type.Object(
  {
    phone_number: opt(Type.String(), "a string"),
    status: opt(Type.String(), "a string"),
    carrier: opt(Type.String(), "a string"),
  },
  { ...open, description: "an object" },
);

const TelnyxError = Type.Object(
  { code: opt(Type.Union([Type.String(), Type.Number()]), "a string or a number"), title: opt(Type.String(), "a string"), detail: opt(Type.String(), "a string") },
  { ...open, description: "an object" },
);

export const TelnyxPayload = Type.Object(
  {
    id: opt(Type.String(), "a string"),
    direction: opt(Type.String(), "a string"),
    to: opt(Type.Array(Recipient), "an array of recipients"),
    // Outbound: an object; some older payloads carry the number itself.
    from: opt(Type.Union([Type.String(), Type.Object({ phone_number: opt(Type.String(), "a string") }, open)]), "an object"),
    cost: opt(Type.Object({ amount: opt(Type.Union([Type.String(), Type.Number()]), "a numeric string"), currency: opt(Type.String(), "a string") }, open), "an object"),
    parts: opt(Type.Number(), "a number"),
    errors: opt(Type.Array(TelnyxError), "an array of errors"),
    sent_at: opt(Type.String(), "a string (ISO 8601 date)"),
    completed_at: opt(Type.String(), "a string (ISO 8601 date)"),
  },
  { ...open, description: "an object" },
);

export const TelnyxEvent = Type.Object(
  {
    data: Type.Object(
      {
        event_type: opt(Type.String(), "a string"),
        id: opt(Type.String(), "a string"),
        occurred_at: opt(Type.String(), "a string (ISO 8601 date)"),
        payload: opt(TelnyxPayload, "an object"),
      },
      { ...open, description: "an object" },
    ),
  },
  { ...open, title: "TelnyxEvent", description: "A Telnyx messaging webhook event (message.sent, message.finalized, ...)." },
);
export type TelnyxEvent = Static<typeof TelnyxEvent>;
