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

/** Statuses of an inbound message (a misrouted incoming-message webhook): recorded, not a report. */
export const TWILIO_INBOUND = new Set(["receiving", "received"]);

/** @example classify("undelivered") // { outcome: "failed", final: true } */
export function classify(status: string): Classification {
  return lookupStatus(TWILIO_STATUSES, status);
}
