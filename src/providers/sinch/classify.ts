/**
 * Sinch SMS delivery statuses mapped to outcomes; names match case-insensitively (the REST API
 * sends `Delivered`, the Python SDK's type says `DELIVERED`); a name not here is `unknown`, not final.
 *
 * Sources: developers.sinch.com, SMS API reference, "Delivery reports" (status table: Queued and
 * Dispatched intermediate, the rest final); the Node SDK's `DeliveryStatusEnum` (Queued, Dispatched,
 * Aborted, Cancelled, Rejected, Deleted, Delivered, Failed, Expired, Unknown).
 */
import { FAILED, PENDING, type Classification } from "../../core/outcome.ts";
import { lookupStatus } from "../fields.ts";


export const SINCH_STATUSES: Record<string, Classification> = {
  queued: PENDING,
  dispatched: PENDING,
  delivered: { outcome: "delivered", final: true },
  aborted: FAILED,
  cancelled: FAILED,
  rejected: FAILED,
  deleted: FAILED,
  failed: FAILED,
  expired: FAILED,
  // Reached the SMSC, and no receipt came (or none that could be read): final, delivery unknown.
  unknown: { outcome: "unknown", final: true },
};

/** @example classify("Dispatched") // { outcome: "pending", final: false } */
export function classify(status: string | null): Classification {
  return lookupStatus(SINCH_STATUSES, status);
}
