/** Provider-neutral status semantics shared by every provider adapter and every reader of the log. */

/** What a status means for the message part: every provider's names map onto these. */
export type Outcome = "delivered" | "failed" | "pending" | "unknown";

export const OUTCOMES: readonly Outcome[] = ["delivered", "failed", "pending", "unknown"];

export interface Classification {
  outcome: Outcome;
  /** A final status never changes again (Routee: Delivered, Undelivered, Failed, Unsent). */
  final: boolean;
}

/** The four classifications every provider's status table is made of (frozen: shared by all). */
export const DELIVERED: Classification = Object.freeze({ outcome: "delivered", final: true });
export const FAILED: Classification = Object.freeze({ outcome: "failed", final: true });
export const PENDING: Classification = Object.freeze({ outcome: "pending", final: false });
export const UNKNOWN: Classification = Object.freeze({ outcome: "unknown", final: false });
