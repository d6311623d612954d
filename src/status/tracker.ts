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
 * operator and status are interned and shared). With `maxMessages` it keeps at most that many
 * messages, forgetting the one reported least recently; a forgotten message's next report starts it
 * afresh, with only the parts reported from then on.
 */
import type { Channel, LogEntry } from "../core/entry.ts";
import type { Outcome } from "../core/outcome.ts";
import {
  compareDates,
  compareSequence,
  compareReceived,
  declaredParts,
  MessageFold,
  rankOf,
  supersedes,
  type DateOrder,
  type MessageOutcome,
} from "./rules.ts";


/** The fields of a log entry that status semantics read (what `parseStatusFields` returns). */
export type StatusFields = Pick<
  LogEntry,
  | "receivedAt"
  | "kind"
  | "provider"
  | "channel"
  | "outcome"
  | "final"
  | "messageId"
  | "smsId"
  | "trackingId"
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
  | "sequence"
>;

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
  /** The message's id: its `messageId`, or its `trackingId` on channels without one (Viber, two-step). */
  messageId: string;
  /** Who reported it (`routee`, `twilio`, ...). */
  provider: string;
  channel: Channel;
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

/** A part record; `rank` and `sequence` are kept so each new report compares in O(1). */
export interface PartState extends PartStatus {
  rank: number;
  sequence: number | undefined;
}

/** A message's record: what `deriveMessage` turns into its status. */
export interface MessageState {
  messageId: string;
  provider: string;
  channel: Channel;
  parts: number;
  partStates: PartState[];
  country: string | null;
  operator: string | null;
  campaignTrackingId: string | null;
  label: string | null;
}

/** A tracked message, linked in the order last reported when the tracker is bounded. */
interface Tracked extends MessageState {
  older: Tracked | null;
  newer: Tracked | null;
}

export interface MessageTrackerOptions {
  /**
   * The most messages kept; a new one evicts the message reported least recently. A bounded tracker
   * lists `messages()` in the order last reported. @default no bound
   */
  maxMessages?: number;
}

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
  readonly #messages = new Map<string, Tracked>();
  /**
   * Bounded: the messages from least to most recently reported, as a linked list (moving one to
   * the end and evicting the first are O(1); deleting and re-adding Map keys left tombstones that
   * made finding the first key slow: 11 % of the server's CPU at full rate).
   */
  #oldest: Tracked | null = null;
  #newest: Tracked | null = null;
  /** One copy of each repeated string (country, status, ...), instead of one per message. */
  readonly #interned = new Map<string, string>();
  readonly #maxMessages: number;

  constructor(options: MessageTrackerOptions = {}) {
    const max = options.maxMessages ?? Infinity;
    if (max !== Infinity && !(Number.isInteger(max) && max > 0))
      throw new TypeError(`MessageTracker: maxMessages must be a positive whole number (got ${max})`);
    this.#maxMessages = max;
  }

  /** How many messages were seen. */
  get size(): number {
    return this.#messages.size;
  }

  /** Take one log entry into account. Returns false when it is not a per-message report. */
  add(entry: StatusFields): boolean {
    const id = messageKey(entry);
    if (id === null) return false;
    let message = this.#messages.get(id);
    if (!message) {
      message = {
        messageId: id,
        provider: entry.provider,
        channel: entry.channel ?? "sms",
        parts: 1,
        partStates: [],
        country: null,
        operator: null,
        campaignTrackingId: null,
        label: null,
        older: null,
        newer: null,
      };
      if (this.#messages.size >= this.#maxMessages) this.#evictOldest();
      this.#messages.set(id, message);
      if (this.#maxMessages !== Infinity) this.#link(message);
    } else if (this.#maxMessages !== Infinity && message !== this.#newest) {
      this.#unlink(message);
      this.#link(message);
    }
    const declared = declaredParts(entry.parts, entry.part);
    if (Number.isFinite(declared) && declared > message.parts) message.parts = declared;
    message.country ??= this.#intern(entry.country);
    message.operator ??= this.#intern(entry.operator);
    message.campaignTrackingId ??= this.#intern(entry.campaignTrackingId);
    message.label ??= this.#intern(entry.label);

    const key = entry.smsId ?? `#${entry.part ?? 1}`;
    const part = message.partStates.find((p) => p.key === key);
    const rank = rankOf(entry.final, entry.outcome);
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
        sequence: entry.sequence,
      });
      return true;
    }
    part.reports += 1;
    part.part ??= entry.part;
    if (supersedes(rank, part.rank, datesAgainst(entry, part))) {
      part.outcome = entry.outcome;
      part.final = entry.final;
      part.status = this.#intern(entry.status);
      part.detailedStatus = this.#intern(entry.detailedStatus);
      part.updatedDate = entry.updatedDate;
      part.receivedAt = entry.receivedAt;
      part.rank = rank;
      part.sequence = entry.sequence;
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
    return state && deriveMessage(state);
  }

  /**
   * A message's outcome and channel alone, without building its status (what the message-level
   * metrics need for every report: `get` allocates the parts' list twice per report).
   */
  outcome(messageId: string): { outcome: MessageOutcome; channel: Channel } | undefined {
    const state = this.#messages.get(messageId);
    if (!state) return undefined;
    fold.reset();
    state.partStates.forEach((p, i) => fold.part(i, p.outcome, p.final, null, null));
    return { outcome: fold.outcome(state.parts), channel: state.channel };
  }

  /** Every message's status, in the order first seen (last reported, when bounded). Derived on the fly. */
  *messages(): IterableIterator<MessageStatus> {
    if (this.#maxMessages === Infinity) for (const state of this.#messages.values()) yield deriveMessage(state);
    else for (let state = this.#oldest; state !== null; state = state.newer) yield deriveMessage(state);
  }

  #evictOldest(): void {
    const oldest = this.#oldest;
    if (oldest === null) return;
    this.#unlink(oldest);
    this.#messages.delete(oldest.messageId);
  }

  /** At the newest end. */
  #link(message: Tracked): void {
    message.older = this.#newest;
    message.newer = null;
    if (this.#newest) this.#newest.newer = message;
    else this.#oldest = message;
    this.#newest = message;
  }

  #unlink(message: Tracked): void {
    if (message.older) message.older.newer = message.newer;
    else this.#oldest = message.newer;
    if (message.newer) message.newer.older = message.older;
    else this.#newest = message.older;
    message.older = message.newer = null;
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

/** Which message a report is about: its `messageId`, else its `trackingId`; null for other kinds. */
export function messageKey(entry: Pick<StatusFields, "kind" | "messageId" | "trackingId">): string | null {
  if (entry.kind !== "dlr") return null;
  const id = entry.messageId ?? entry.trackingId;
  return typeof id === "string" ? id : null;
}

/** The report's dates against the part's current report's, compared only when asked. */
function datesAgainst(entry: StatusFields, current: PartState): DateOrder {
  return {
    updatedDate: () => compareDates(entry.updatedDate, current.updatedDate),
    sequence: () => compareSequence(entry.sequence, current.sequence),
    receivedAt: () => compareReceived(entry.receivedAt, current.receivedAt),
  };
}

const fold = new MessageFold();

/** A message's status from its record (the SQL stores build one from their part rows). */
export function deriveMessage(state: MessageState): MessageStatus {
  const parts = [...state.partStates].sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
  fold.reset();
  let reports = 0;
  parts.forEach((p, i) => {
    reports += p.reports;
    fold.part(i, p.outcome, p.final, p.price, p.latency);
  });
  const outcome = fold.outcome(state.parts);
  const decisive = parts[fold.decisive()];
  return {
    messageId: state.messageId,
    provider: state.provider,
    channel: state.channel,
    outcome,
    parts: state.parts,
    partStatuses: parts.map(({ rank: _rank, sequence: _sequence, ...status }) => status),
    cost: fold.cost(),
    latency: fold.latency(),
    status: fold.status(decisive?.outcome, decisive?.status ?? null),
    detailedStatus: decisive?.detailedStatus ?? null,
    country: state.country,
    operator: state.operator,
    campaignTrackingId: state.campaignTrackingId,
    label: state.label,
    reports,
  };
}

/**
 * The message's status after and before `entry`, when the entry changed it; else null. The message
 * is the tracker's (`messageKey`): a Viber or two-step report, without a `messageId`, has one too.
 */
export function statusChange(tracker: MessageTracker, entry: LogEntry): { message: MessageStatus; previous: MessageStatus | null } | null {
  const id = messageKey(entry);
  if (id === null) return null;
  const previous = tracker.get(id) ?? null;
  if (!tracker.add(entry)) return null;
  const message = tracker.get(id)!;
  return previous && sameStatus(previous, message) ? null : { message, previous };
}

/**
 * What a user acts on: outcome, status name, number of parts, parts delivered, cost. Not the
 * report count, dates or latency, which change with every retry or late report.
 */
function sameStatus(a: MessageStatus, b: MessageStatus): boolean {
  return (
    a.outcome === b.outcome &&
    a.status === b.status &&
    a.parts === b.parts &&
    a.cost === b.cost &&
    delivered(a) === delivered(b)
  );
}

function delivered(message: MessageStatus): number {
  return message.partStatuses.filter((p) => p.outcome === "delivered").length;
}
