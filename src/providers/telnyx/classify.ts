/**
 * Telnyx's per-recipient message statuses (`data.payload.to[].status`) mapped to outcomes; a name
 * not here is `unknown` and not final.
 *
 * Sources: the `telnyx` SDK (7.24) type of `to[].status` (queued, sending, sent, delivered,
 * sending_failed, delivery_failed, delivery_unconfirmed); developers.telnyx.com "Receiving
 * Webhooks for Messaging" (message.finalized is sent once a message reaches a terminal state).
 * `expired` is not in the SDK's type but is listed among Telnyx's terminal statuses (issue 16): kept.
 */
import { FAILED, PENDING, type Classification } from "../../core/outcome.ts";
import { lookupStatus } from "../fields.ts";


export const TELNYX_STATUSES: Record<string, Classification> = {
  queued: PENDING,
  sending: PENDING,
  sent: PENDING,
  delivered: { outcome: "delivered", final: true },
  sending_failed: FAILED,
  delivery_failed: FAILED,
  expired: FAILED,
  // Sent, and the carrier never confirmed: nothing more will come, and nobody knows if it arrived.
  delivery_unconfirmed: { outcome: "unknown", final: true },
};

/** @example classify("delivery_failed") // { outcome: "failed", final: true } */
export function classify(status: string | null): Classification {
  return lookupStatus(TELNYX_STATUSES, status);
}
