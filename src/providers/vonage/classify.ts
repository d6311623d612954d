/**
 * Vonage SMS API delivery receipt statuses mapped to outcomes. A name not in the table is
 * `unknown`, not final.
 *
 * Sources: Vonage's "Delivery receipts" guide (DLR status values) and SMS API reference; the
 * Messages API's "SMS status callbacks" page, which maps DLR statuses (accepted → submitted;
 * delivered; expired, failed, rejected, unknown → rejected; buffered ignored).
 */
import { DELIVERED, FAILED, PENDING, UNKNOWN, type Classification } from "../../core/outcome.ts";
import { lookupStatus } from "../fields.ts";

export const VONAGE_STATUSES: Record<string, Classification> = {
  accepted: PENDING, // the carrier accepted it
  buffered: PENDING, // the carrier holds it (handset off), still trying
  delivered: DELIVERED,
  expired: FAILED, // Vonage or the carrier gave up (Vonage after 72 hours)
  failed: FAILED,
  rejected: FAILED,
  // The carrier's receipt said nothing usable: no outcome, and a later receipt may still say one.
  unknown: UNKNOWN,
};

/** @example classify("expired") // { outcome: "failed", final: true } */
export function classify(status: string): Classification {
  return lookupStatus(VONAGE_STATUSES, status);
}
