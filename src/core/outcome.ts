/** Provider-neutral status semantics shared by every provider adapter and every reader of the log. */

/** What a status means for the message part: every provider's names map onto these. */
export type Outcome = "delivered" | "failed" | "pending" | "unknown";

export const OUTCOMES: readonly Outcome[] = ["delivered", "failed", "pending", "unknown"];

export interface Classification {
  outcome: Outcome;
  /** A final status never changes again (Routee: Delivered, Undelivered, Failed, Unsent). */
  final: boolean;
}
