/**
 * Twilio's message statuses mapped to outcomes. A name not in the table is `unknown`, not final.
 *
 * Sources: Twilio's Message resource ("Message Status values") and "Track the Message Status of
 * Outbound Messages"; the `MessageStatus` enum of Twilio's OpenAPI description (twilio-node's
 * `MessageStatus` type): queued, sending, sent, failed, delivered, undelivered, receiving, received,
 * accepted, scheduled, read, partially_delivered, canceled.
 */
import { DELIVERED, FAILED, PENDING, type Classification } from "../../core/outcome.ts";
import { lookupStatus } from "../fields.ts";

export const TWILIO_STATUSES: Record<string, Classification> = {
  accepted: PENDING, // a messaging service took it, no sender chosen yet
  scheduled: PENDING,
  queued: PENDING,
  sending: PENDING,
  sent: PENDING, // the carrier took it: not yet on the handset
  // Some recipients or parts have it: it may still become delivered, so not final.
  partially_delivered: PENDING,
  delivered: DELIVERED,
  read: DELIVERED, // WhatsApp, RCS: read implies delivered
  undelivered: FAILED,
  failed: FAILED,
  canceled: FAILED, // a scheduled message cancelled before it was sent
};

/**
 * The order Twilio's statuses come in (its status lifecycle: accepted or scheduled, queued,
 * sending, sent, then a final one; `read` after `delivered`). Its callbacks carry no time of the
 * change, so this is the entry's `sequence`: a `sending` that arrives after `sent` does not
 * replace it, nor a late `delivered` a `read`. Final statuses outrank the rest whatever this says.
 */
export const TWILIO_SEQUENCE: Record<string, number> = {
  accepted: 1,
  scheduled: 2,
  queued: 3,
  sending: 4,
  sent: 5,
  partially_delivered: 6,
  delivered: 7,
  undelivered: 7,
  failed: 7,
  canceled: 7,
  read: 8,
};

/** Statuses of an inbound message (a misrouted incoming-message webhook): recorded, not a report. */
export const TWILIO_INBOUND = new Set(["receiving", "received"]);

/** @example classify("undelivered") // { outcome: "failed", final: true } */
export function classify(status: string): Classification {
  return lookupStatus(TWILIO_STATUSES, status);
}
