/**
 * The status rules, written once. Every reader of reports (`MessageTracker` for lookups and the
 * library, `MessageTable` for reports over millions of messages, and the stores that follow)
 * decides with these functions, so the rules cannot drift apart.
 *
 * - A part's current report is the **most final** one (final > known > unknown), then the one with
 *   the **latest `updatedDate`**, then the **later in the provider's own order** (`sequence`, when
 *   both reports carry one: Plivo numbers its callbacks, Twilio's statuses come in a known order
 *   and carry no time), then the one **received last**: a late `Sent` never overrides
 *   `Delivered`, and the order in which reports (or rotated files) are read changes nothing.
 * - A message is `failed` when any part's current status is a final failure, `delivered` when
 *   every one of its parts is delivered, `pending` otherwise.
 * - A part is charged once: its price is the current report's, else the one an earlier report gave;
 *   a message costs the sum of its parts, summed in millionths so that sums stay exact.
 */
import type { Outcome } from "../core/outcome.ts";

/** A message is never `unknown`: a message with no known status yet is still pending. */
export type MessageOutcome = Exclude<Outcome, "unknown">;

/** Prices are summed in millionths so that a million additions of 0.036 stay exact. */
export const PRICE_SCALE = 1e6;

/** The status name of a pending message whose reported parts are all delivered. */
export const PARTS_MISSING = "(parts missing)";

/** Final beats known beats unknown, whatever the dates say. */
export const RANK_UNKNOWN = 0;
export const RANK_KNOWN = 1;
export const RANK_FINAL = 2;

/** A report's rank (see `supersedes`). */
export function rankOf(final: boolean, outcome: Outcome): number {
  if (final) return RANK_FINAL;
  return outcome === "unknown" ? RANK_UNKNOWN : RANK_KNOWN;
}

/**
 * How a new report's dates compare with the part's current report (-1, 0, 1 each). Asked only when
 * the ranks are equal, so a reader compares dates only when they decide.
 */
export interface DateOrder {
  updatedDate(): number;
  /** The providers' ordering hints (`compareSequence`); absent: they never decide. */
  sequence?(): number;
  receivedAt(): number;
}

/** Does a report of rank `rank` replace the part's current one, of rank `currentRank`? */
export function supersedes(rank: number, currentRank: number, dates: DateOrder): boolean {
  if (rank !== currentRank) return rank > currentRank;
  const updated = dates.updatedDate();
  if (updated !== 0) return updated > 0;
  const sequence = dates.sequence?.() ?? 0;
  if (sequence !== 0) return sequence > 0;
  return dates.receivedAt() > 0;
}

/** Which of two reports comes later in the provider's order (-1, 0, 1); 0 unless both have one. */
export function compareSequence(a: number | null | undefined, b: number | null | undefined): number {
  if (typeof a !== "number" || typeof b !== "number" || Number.isNaN(a) || Number.isNaN(b)) return 0;
  return Math.sign(a - b);
}

const UTC_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/**
 * Which of two `updatedDate`s is later (-1, 0, 1); a missing or unreadable date is earliest.
 * Dates come with and without milliseconds, so `...:49Z` and `...:49.500Z` cannot be compared as
 * strings; Date.parse can, but costs more than the rest of a report, so the usual UTC form is
 * compared by its parts and only other forms are parsed.
 */
export function compareDates(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (UTC_SECONDS.test(a) && UTC_SECONDS.test(b)) {
    const x = a.slice(0, 19);
    const y = b.slice(0, 19);
    if (x !== y) return x < y ? -1 : 1;
    return Math.sign(fraction(a) - fraction(b));
  }
  const x = Date.parse(a);
  const y = Date.parse(b);
  return Math.sign((Number.isNaN(x) ? -Infinity : x) - (Number.isNaN(y) ? -Infinity : y)) || 0;
}

/** The fractional seconds of `...:SS.fffZ` (0 without). */
function fraction(date: string): number {
  return date.length > 20 ? Number("0" + date.slice(19, -1)) : 0;
}

/** `receivedAt` is always `toISOString()`: the same length, so string order is time order. */
export function compareReceived(a: string, b: string): number {
  return a > b ? 1 : a < b ? -1 : 0;
}

/**
 * A message's parts, fed in part order, folded into its outcome, the part that speaks for it, its
 * cost and latency. One instance can be reused for message after message (`reset`).
 *
 * @example
 * const fold = new MessageFold();
 * fold.reset();
 * parts.forEach((p, i) => fold.part(i, p.outcome, p.final, p.price, p.latency));
 * fold.outcome(message.parts); // "delivered" | "failed" | "pending"
 */
export class MessageFold {
  #failed = -1;
  #undelivered = -1;
  #last = -1;
  #delivered = 0;
  #micros = 0;
  #priced = false;
  #latency: number | null = null;
  #outcome: MessageOutcome = "pending";

  reset(): void {
    this.#failed = this.#undelivered = this.#last = -1;
    this.#delivered = this.#micros = 0;
    this.#priced = false;
    this.#latency = null;
  }

  /** One part (`index` is the caller's handle for it); null price or latency: none reported. */
  part(index: number, outcome: Outcome, final: boolean, price: number | null, latency: number | null): void {
    if (this.#failed < 0 && final && outcome === "failed") this.#failed = index;
    if (outcome === "delivered") this.#delivered++;
    else if (this.#undelivered < 0) this.#undelivered = index;
    this.#last = index;
    if (price !== null) {
      this.#micros += Math.round(price * PRICE_SCALE);
      this.#priced = true;
    }
    if (latency !== null) this.#latency = Math.max(this.#latency ?? latency, latency);
  }

  /** The message's outcome, given how many parts it has; call once all parts are in. */
  outcome(parts: number): MessageOutcome {
    this.#outcome = this.#failed >= 0 ? "failed" : this.#delivered >= parts ? "delivered" : "pending";
    return this.#outcome;
  }

  /** Which part speaks for the message: the failure, else the first part not yet delivered, else the last. */
  decisive(): number {
    return this.#failed >= 0 ? this.#failed : this.#undelivered >= 0 ? this.#undelivered : this.#last;
  }

  /** The message's status name: the decisive part's, or PARTS_MISSING while only delivered parts are known. */
  status(decisiveOutcome: Outcome | undefined, decisiveStatus: string | null): string | null {
    return this.#outcome === "pending" && decisiveOutcome === "delivered" ? PARTS_MISSING : decisiveStatus;
  }

  /** Sum of the parts' prices; null when no part carried a price. */
  cost(): number | null {
    return this.#priced ? this.#micros / PRICE_SCALE : null;
  }

  /** For a delivered message, its slowest part's latency (when the last part arrived); else null. */
  latency(): number | null {
    return this.#outcome === "delivered" ? this.#latency : null;
  }
}

/** Whether a report says how many parts a message has: the larger of `parts` and `part` (at least 1). */
export function declaredParts(parts: number | null, part: number | null): number {
  return Math.max(parts ?? 1, part ?? 1);
}
