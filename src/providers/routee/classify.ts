/**
 * Routee's status names mapped to provider-neutral outcomes, one table per channel. Names match
 * case-insensitively and without spaces, dashes or underscores (Routee sends `Delivered` and
 * `DELIVERED`, `NoAnswer` and `No Answer`); a name not in the table is `unknown` and not final.
 *
 * Sources: Routee's pages on SMS statuses, Viber callbacks, WhatsApp messaging statuses, the voice
 * call flow (call states) and two-step verification.
 */
import type { Channel } from "../../core/entry.ts";
import { DELIVERED, FAILED, PENDING, UNKNOWN, type Classification } from "../../core/outcome.ts";


/** Per channel: status name (normalised) to outcome. */
export const ROUTEE_STATUSES: Record<Channel, Record<string, Classification>> = {
  sms: {
    delivered: DELIVERED,
    undelivered: FAILED,
    failed: FAILED,
    unsent: FAILED,
    expired: FAILED,
    rejected: FAILED,
    networkerror: FAILED,
    queued: PENDING,
    sent: PENDING,
  },
  // Seen implies delivered; both are final.
  viber: {
    delivered: DELIVERED,
    seen: DELIVERED,
    failed: FAILED,
    expired: FAILED,
    undelivered: FAILED,
    rejected: FAILED,
    blocked: FAILED,
    unsent: FAILED,
    queued: PENDING,
    sent: PENDING,
  },
  // `deleted` (the user deleted the message) and `unknown` say nothing about delivery.
  whatsapp: {
    delivered: DELIVERED,
    seen: DELIVERED,
    read: DELIVERED,
    failed: FAILED,
    channelfailed: FAILED,
    accepted: PENDING,
    sent: PENDING,
  },
  voice: {
    completed: DELIVERED,
    busy: FAILED,
    noanswer: FAILED,
    failed: FAILED,
    rejected: FAILED,
    cancelled: FAILED,
    canceled: FAILED,
    queued: PENDING,
    initiated: PENDING,
    ringing: PENDING,
    answered: PENDING,
    inprogress: PENDING,
  },
  // A verification is "delivered" when the user proved they got the code.
  verification: {
    verified: DELIVERED,
    failed: FAILED,
    expired: FAILED,
    cancelled: FAILED,
    canceled: FAILED,
    pending: PENDING,
  },
  // A failover flow's own status (its messages are classified by their channels).
  failover: {
    succeeded: DELIVERED,
    failed: FAILED,
    queued: PENDING,
    inprogress: PENDING,
  },
};

/** Names as sent, already looked up, per channel: a sender uses a handful, so most skip normalising. */
const seen = new Map<string, Classification>();
const SEEN_MAX = 1024;

/**
 * Classify a Routee status name on a channel (SMS by default).
 * @example classify("DELIVERED") // { outcome: "delivered", final: true }
 * @example classify("No Answer", "voice") // { outcome: "failed", final: true }
 */
export function classify(statusName: string | null | undefined, channel: Channel = "sms"): Classification {
  if (typeof statusName !== "string") return UNKNOWN;
  const cacheKey = channel === "sms" ? statusName : `${channel}\u0000${statusName}`;
  const known = seen.get(cacheKey);
  if (known) return known;
  const key = statusName.toLowerCase().replace(/[\s_-]+/g, "");
  const table = ROUTEE_STATUSES[channel];
  const result = Object.hasOwn(table, key) ? table[key]! : UNKNOWN;
  if (seen.size < SEEN_MAX) seen.set(cacheKey, result);
  return result;
}
