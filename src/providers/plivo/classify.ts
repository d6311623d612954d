/**
 * Plivo's message statuses mapped to outcomes. `undelivered` is final and failed: the carrier said
 * the handset did not get it (a gateway that maps it to "sent" reports lost messages as on their
 * way). A name not in the table is `unknown`, not final.
 *
 * Sources: Plivo's "Message Status Callbacks" and the Message object (`message_state`: queued,
 * sent, failed, delivered, undelivered, read for WhatsApp; received for inbound), and
 * plivo-node's message types; `rejected` is in Plivo's older callback docs.
 */
import { DELIVERED, FAILED, PENDING, type Classification } from "../../core/outcome.ts";
import { lookupStatus } from "../fields.ts";

export const PLIVO_STATUSES: Record<string, Classification> = {
  queued: PENDING,
  sent: PENDING, // handed to the carrier, not yet on the handset
  delivered: DELIVERED,
  read: DELIVERED, // WhatsApp: read implies delivered
  undelivered: FAILED,
  failed: FAILED,
  rejected: FAILED,
};

/** @example classify("undelivered") // { outcome: "failed", final: true } */
export function classify(status: string): Classification {
  return lookupStatus(PLIVO_STATUSES, status);
}
