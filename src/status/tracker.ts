/**
 * Message status semantics: what the log's reports say about each message, in one place.
 *
 * A message (`messageId`) has `parts` parts; each part (`smsId`, else `messageId` + `part`) gets its
 * own callbacks, in any order and possibly more than once. A part's current status is the most
 * final one seen (final > pending > unknown), then the one with the latest `updatedDate`, then the
 * one received last: a late `Sent` never overrides `Delivered`, and the result does not depend on
 * the order in which reports (or rotated log files) are fed in.
 *
 * A message is `failed` when any part's current status is a final failure, `delivered` when every
 * one of its parts is delivered, and `pending` otherwise. Its cost is the sum of its parts' prices,
 * each part counted once however many callbacks it got.
 *
 * Memory: `MessageTracker` keeps one small record per message and per part, never the reports.
 * Measured with `scripts/bench/report.ts`, about 430 bytes of heap per single-part message (the Map entry,
 * the `messageId` string, one message and one part record; repeated strings such as country,
 * operator and status are interned and shared).
 */
import type { LogEntry } from "../core/entry.ts";
import type { Outcome } from "../core/outcome.ts";

/** The fields of a log entry that status semantics read (what `parseStatusFields` returns). */
export type StatusFields = Pick<
  LogEntry,
  | "receivedAt"
  | "kind"
  | "outcome"
  | "final"
  | "messageId"
  | "smsId"
  | "part"
  | "parts"
  | "status"
  | "detailedStatus"
  | "updatedDate"
  | "price"
  | "latency"
  | "country"
  | "operator"
  | "campaignTrackingId"
  | "label"
>;

/** A message is never `unknown`: a message with no known status yet is still pending. */
export type MessageOutcome = Exclude<Outcome, "unknown">;

/** One part's current state. */
export interface PartStatus {
  /** The `smsId`, or `#N` for a report without one. */
  key: string;
  part: number | null;
  outcome: Outcome;
  final: boolean;
  /** The provider's status name of the current report (`Delivered`, `Sent`, ...). */
  status: string | null;
  detailedStatus: string | null;
  updatedDate: string | null;
  /** When the current report arrived (the log's `receivedAt`). */
  receivedAt: string;
  price: number | null;
  latency: number | null;
  /** How many callbacks this part got (duplicates included). */
  reports: number;
}

/** A message's current state, derived from its parts. */
export interface MessageStatus {
  messageId: string;
  outcome: MessageOutcome;
  /** How many parts the message has (the largest `parts` or `part` seen, at least 1). */
  parts: number;
  /** The parts seen so far, in part order. */
  partStatuses: PartStatus[];
  /** Sum of the parts' prices; null when no part carried a price. */
  cost: number | null;
  /** For a delivered message: the largest latency of its parts (when the last part arrived). */
  latency: number | null;
  /** The status that decides the outcome: a failed part's, else an undelivered part's, else Delivered. */
  status: string | null;
  detailedStatus: string | null;
  country: string | null;
  operator: string | null;
  campaignTrackingId: string | null;
  label: string | null;
  /** How many callbacks the message got. */
  reports: number;
}

/** Internal part record; `rank` is kept so each new report compares in O(1). */
interface PartState extends PartStatus {
  rank: number;
}

interface MessageState {
  messageId: string;
  parts: number;
  partStates: PartState[];
  country: string | null;
  operator: string | null;
  campaignTrackingId: string | null;
  label: string | null;
}

/** Final beats pending beats unknown, whatever the dates say. */
function rankOf(fields: Pick<StatusFields, "final" | "outcome">): number {
  if (fields.final) return 2;
  return fields.outcome === "unknown" ? 0 : 1;
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

/** Prices are summed in millionths so that a million additions of 0.036 stay exact. */
export const PRICE_SCALE = 1e6;

/**
 * Folds delivery reports into per-message status. Feed it every entry of a log (other kinds and
 * entries without a `messageId` are ignored) in any order, then read `messages()`.
 *
 * @example
 * const tracker = new MessageTracker();
 * for (const entry of entries) tracker.add(entry);
 * for (const m of tracker.messages()) console.log(m.messageId, m.outcome, m.cost);
 */
export class MessageTracker {
  readonly #messages = new Map<string, MessageState>();
  /** One copy of each repeated string (country, status, ...), instead of one per message. */
  readonly #interned = new Map<string, string>();

  /** How many messages were seen. */
  get size(): number {
    return this.#messages.size;
  }

  /** Take one log entry into account. Returns false when it is not a per-message report. */
  add(entry: StatusFields): boolean {
    if (entry.kind !== "dlr" || typeof entry.messageId !== "string") return false;
    let message = this.#messages.get(entry.messageId);
    if (!message) {
      message = {
        messageId: entry.messageId,
        parts: 1,
        partStates: [],
        country: null,
        operator: null,
        campaignTrackingId: null,
        label: null,
      };
      this.#messages.set(entry.messageId, message);
    }
    const declared = Math.max(entry.parts ?? 1, entry.part ?? 1);
    if (Number.isFinite(declared) && declared > message.parts) message.parts = declared;
    message.country ??= this.#intern(entry.country);
    message.operator ??= this.#intern(entry.operator);
    message.campaignTrackingId ??= this.#intern(entry.campaignTrackingId);
    message.label ??= this.#intern(entry.label);

    const key = entry.smsId ?? `#${entry.part ?? 1}`;
    const part = message.partStates.find((p) => p.key === key);
    const rank = rankOf(entry);
    if (!part) {
      message.partStates.push({
        key,
        part: entry.part,
        outcome: entry.outcome,
        final: entry.final,
        status: this.#intern(entry.status),
        detailedStatus: this.#intern(entry.detailedStatus),
        updatedDate: entry.updatedDate,
        receivedAt: entry.receivedAt,
        price: entry.price,
        latency: entry.latency,
        reports: 1,
        rank,
      });
      return true;
    }
    part.reports += 1;
    part.part ??= entry.part;
    if (supersedes(rank, entry, part)) {
      part.outcome = entry.outcome;
      part.final = entry.final;
      part.status = this.#intern(entry.status);
      part.detailedStatus = this.#intern(entry.detailedStatus);
      part.updatedDate = entry.updatedDate;
      part.receivedAt = entry.receivedAt;
      part.rank = rank;
      // A part is charged once: the current report's price, else the one an earlier report gave.
      if (entry.price !== null) part.price = entry.price;
      if (entry.latency !== null) part.latency = entry.latency;
    } else {
      part.price ??= entry.price;
      part.latency ??= entry.latency;
    }
    return true;
  }

  /** One message's status, or undefined if no report named it. */
  get(messageId: string): MessageStatus | undefined {
    const state = this.#messages.get(messageId);
    return state && derive(state);
  }

  /** Every message's status, in the order first seen. Derived on the fly: nothing more is kept. */
  *messages(): IterableIterator<MessageStatus> {
    for (const state of this.#messages.values()) yield derive(state);
  }

  #intern(value: string | null): string | null {
    if (value === null) return null;
    const known = this.#interned.get(value);
    if (known !== undefined) return known;
    // Free-text values (descriptions, odd labels) must not grow the table without bound.
    if (this.#interned.size < 10_000) this.#interned.set(value, value);
    return value;
  }
}

/** Does a report of this rank replace the part's current one? Most final, then latest, then last received. */
function supersedes(rank: number, entry: StatusFields, current: PartState): boolean {
  if (rank !== current.rank) return rank > current.rank;
  const updated = compareDates(entry.updatedDate, current.updatedDate);
  if (updated !== 0) return updated > 0;
  // receivedAt is always toISOString(): same length, so string order is time order.
  return entry.receivedAt > current.receivedAt;
}

function derive(state: MessageState): MessageStatus {
  const parts = [...state.partStates].sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
  const failed = parts.find((p) => p.final && p.outcome === "failed");
  const delivered = parts.filter((p) => p.outcome === "delivered").length;
  const outcome: MessageOutcome = failed ? "failed" : delivered >= state.parts ? "delivered" : "pending";
  // Which part speaks for the message: the failure, else the first part not yet delivered.
  const decisive = failed ?? parts.find((p) => p.outcome !== "delivered") ?? parts[parts.length - 1];

  let micros = 0;
  let priced = false;
  let latency: number | null = null;
  let reports = 0;
  for (const p of parts) {
    reports += p.reports;
    if (p.price !== null) {
      micros += Math.round(p.price * PRICE_SCALE);
      priced = true;
    }
    if (outcome === "delivered" && p.latency !== null) latency = Math.max(latency ?? p.latency, p.latency);
  }
  return {
    messageId: state.messageId,
    outcome,
    parts: state.parts,
    partStatuses: parts.map(({ rank: _rank, ...status }) => status),
    cost: priced ? micros / PRICE_SCALE : null,
    latency,
    // A message waiting for parts nobody reported on yet has no status name of its own.
    status: outcome === "pending" && decisive?.outcome === "delivered" ? "(parts missing)" : decisive?.status ?? null,
    detailedStatus: decisive?.detailedStatus ?? null,
    country: state.country,
    operator: state.operator,
    campaignTrackingId: state.campaignTrackingId,
    label: state.label,
    reports,
  };
}
