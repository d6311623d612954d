/**
 * Routee's status names mapped to provider-neutral outcomes. One table, matched case-insensitively
 * (Routee sends both `Delivered` and `DELIVERED`); a name not in it is `unknown` and not final.
 */
import type { Classification } from "../../core/outcome.ts";

const ROUTEE_STATUSES: Record<string, Classification> = {
  delivered: { outcome: "delivered", final: true },
  undelivered: { outcome: "failed", final: true },
  failed: { outcome: "failed", final: true },
  unsent: { outcome: "failed", final: true },
  expired: { outcome: "failed", final: true },
  rejected: { outcome: "failed", final: true },
  "network error": { outcome: "failed", final: true },
  queued: { outcome: "pending", final: false },
  sent: { outcome: "pending", final: false },
};

const UNKNOWN: Classification = { outcome: "unknown", final: false };

/** Names as sent, already looked up: a sender uses a handful, so most reports skip normalising. */
const seen = new Map<string, Classification>();
const SEEN_MAX = 256;

/**
 * Classify a Routee status name.
 * @example classify("DELIVERED") // { outcome: "delivered", final: true }
 */
export function classify(statusName: string | null | undefined): Classification {
  if (typeof statusName !== "string") return UNKNOWN;
  const known = seen.get(statusName);
  if (known) return known;
  const key = statusName.trim().replace(/\s+/g, " ").toLowerCase();
  const result = Object.hasOwn(ROUTEE_STATUSES, key) ? ROUTEE_STATUSES[key]! : UNKNOWN;
  if (seen.size < SEEN_MAX) seen.set(statusName, result);
  return result;
}
