/**
 * Routee's status names mapped to provider-neutral outcomes. One table, matched case-insensitively
 * (Routee sends both `Delivered` and `DELIVERED`); a name not in it is `unknown` and not final.
 */
import type { Classification } from "../../outcome.ts";

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

/**
 * Classify a Routee status name.
 * @example classify("DELIVERED") // { outcome: "delivered", final: true }
 */
export function classify(statusName: string | null | undefined): Classification {
  if (typeof statusName !== "string") return UNKNOWN;
  const key = statusName.trim().replace(/\s+/g, " ").toLowerCase();
  return ROUTEE_STATUSES[key] ?? UNKNOWN;
}
