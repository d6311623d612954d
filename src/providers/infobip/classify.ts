/**
 * Infobip's SMS statuses mapped to outcomes: by the status `name` where the name decides, else by
 * its `groupName`. DELIVERED_TO_OPERATOR is in the DELIVERED group but not final (the handset has
 * not confirmed; a further report may follow); DELIVERED_TO_HANDSET is final. A DELIVERED name
 * not listed is kept pending: Infobip documents only these two as final or not.
 *
 * Source: infobip.com/docs, "Message status codes" (PENDING_* intermediate; DELIVERED_TO_OPERATOR
 * intermediate; DELIVERED_TO_HANDSET final; UNDELIVERABLE_*, EXPIRED_*, REJECTED_* final).
 */
import { FAILED, PENDING, type Classification } from "../../core/outcome.ts";
import { lookupStatus } from "../fields.ts";


/** Status names that decide by themselves (lower case). */
export const INFOBIP_NAMES: Record<string, Classification> = {
  delivered_to_operator: PENDING,
  delivered_to_handset: { outcome: "delivered", final: true },
};

/** Status groups, for every other name. */
export const INFOBIP_GROUPS: Record<string, Classification> = {
  pending: PENDING,
  delivered: PENDING,
  undeliverable: FAILED,
  expired: FAILED,
  rejected: FAILED,
};

/** @example classify("DELIVERED_TO_HANDSET", "DELIVERED") // { outcome: "delivered", final: true } */
export function classify(name: string | null, group: string | null): Classification {
  const byName = lookupStatus(INFOBIP_NAMES, name);
  return byName.outcome !== "unknown" ? byName : lookupStatus(INFOBIP_GROUPS, group);
}
