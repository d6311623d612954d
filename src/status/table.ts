/**
 * `MessageTracker`'s semantics (src/message-status.ts) in a compact form, for `report` over logs
 * with millions of messages: one row per message and per part in typed arrays (struct of arrays),
 * ids interned as bytes, statuses as small ints, dates as numbers. About 235 bytes per message
 * (measured: 165 MB for the benchmark's 700 000 messages and 770 000 parts, growth slack included)
 * instead of ~430, and nothing per message for the garbage collector to trace.
 *
 * It reads `ScannedReport`s (see status-scan.ts) and yields only what a report needs; `lookup` and
 * the library keep `MessageTracker`, which `tests/message-table.test.ts` holds this one equal to.
 */
import type { Outcome } from "../core/outcome.ts";
import { ByteInterner, grow } from "./byte-interner.ts";
import { compareDates, compareReceived, compareSequence, MessageFold, RANK_FINAL, rankOf, supersedes, type DateOrder } from "./rules.ts";
import type { MessageStatus } from "./tracker.ts";
import {
  CAMPAIGN,
  PROVIDER,
  COUNTRY,
  DELIVERED,
  DETAILED_STATUS,
  FAILED,
  OTHER,
  PENDING,
  LABEL,
  MESSAGE_ID,
  OPERATOR,
  PART_KEY,
  RECEIVED_AT,
  STATUS,
  UNKNOWN,
  UPDATED_DATE,
  ScannedReport,
} from "./scan.ts";

/** What `report` reads of one message; `forEach` reuses one object for all of them. */
export type MessageSummary = Pick<
  MessageStatus,
  "outcome" | "cost" | "latency" | "status" | "detailedStatus" | "country" | "operator" | "campaignTrackingId" | "label" | "provider"
>;

const NONE = -1;
/** Outcome codes (scan.ts) back to names, for the rules. */
const OUTCOME_NAMES: Outcome[] = [];
OUTCOME_NAMES[UNKNOWN] = "unknown";
OUTCOME_NAMES[PENDING] = "pending";
OUTCOME_NAMES[DELIVERED] = "delivered";
OUTCOME_NAMES[FAILED] = "failed";
OUTCOME_NAMES[OTHER] = "unknown"; // a hand-written outcome: neither delivered nor failed
const orNull = (n: number): number | null => (Number.isNaN(n) ? null : n);
/** The per-message fields, in `#about` order; the first non-null value seen is kept. */
const ABOUT = [COUNTRY, OPERATOR, CAMPAIGN, LABEL, PROVIDER];
const ABOUT_FIELDS = ABOUT.length;
const INITIAL = 1 << 12;

/**
 * A date as two numbers that order as `compareDates` (updatedDate) or as strings (receivedAt) do:
 * the digits of `YYYY-MM-DDTHH:MM:SS` as one integer (exact in a double), and the milliseconds, -1
 * when the date has none. Only the two forms the server writes are read this way; any other is
 * kept as text and compared the slow way.
 */
class DateColumn {
  seconds = new Float64Array(INITIAL);
  millis = new Int16Array(INITIAL);
  /** Rows whose date is in another form (or, for receivedAt, without milliseconds). */
  readonly other = new Map<number, string>();

  constructor(private readonly withoutMillis: boolean) {}

  /** Stores `bytes[start..end)` (start -1: null) in `row`. */
  set(row: number, bytes: Uint8Array, start: number, end: number): void {
    if (row >= this.seconds.length) {
      this.seconds = grow(this.seconds, row + 1);
      this.millis = grow(this.millis, row + 1);
    }
    if (this.other.size > 0) this.other.delete(row);
    if (start < 0) {
      this.seconds[row] = -Infinity;
      return;
    }
    const seconds = readDate(bytes, start, end, this.withoutMillis);
    this.seconds[row] = seconds;
    this.millis[row] = lastMillis;
    if (Number.isNaN(seconds)) this.other.set(row, decoder.decode(bytes.subarray(start, end)));
  }

  /** The date of `row` as it was written (null for null). */
  text(row: number): string | null {
    const seconds = this.seconds[row]!;
    if (seconds === -Infinity) return null;
    if (Number.isNaN(seconds)) return this.other.get(row)!;
    const d = String(seconds).padStart(14, "0");
    const millis = this.millis[row]!;
    const fraction = millis < 0 ? "" : "." + String(millis).padStart(3, "0");
    return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}${fraction}Z`;
  }
}

const decoder = new TextDecoder();
let lastMillis = -1;
/** Offsets of the digits in `YYYY-MM-DDTHH:MM:SS`, and of the separators with theirs. */
const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const SEPARATORS: [number, number][] = [[4, 0x2d], [7, 0x2d], [10, 0x54], [13, 0x3a], [16, 0x3a]];

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` (or, when allowed, `...:SSZ`) as seconds digits + `lastMillis`; NaN for any other form. */
function readDate(bytes: Uint8Array, start: number, end: number, withoutMillis: boolean): number {
  const length = end - start;
  if (length === 24) {
    if (bytes[start + 19] !== 0x2e || bytes[end - 1] !== 0x5a) return NaN;
    let millis = 0;
    for (let i = 20; i < 23; i++) {
      const digit = bytes[start + i]! - 0x30;
      if (digit < 0 || digit > 9) return NaN;
      millis = millis * 10 + digit;
    }
    lastMillis = millis;
  } else if (length === 20 && withoutMillis) {
    if (bytes[end - 1] !== 0x5a) return NaN;
    lastMillis = -1;
  } else return NaN;
  for (const [at, byte] of SEPARATORS) if (bytes[start + at] !== byte) return NaN;
  let seconds = 0;
  for (const at of DIGITS) {
    const digit = bytes[start + at]! - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    seconds = seconds * 10 + digit;
  }
  return seconds;
}

/** Folds reports into per-message state with `MessageTracker`'s rules, in typed arrays. */
export class MessageTable {
  readonly #ids = new ByteInterner();
  /** Part keys (smsId or `#N`); compared as ints within a message. */
  readonly #keys = new ByteInterner();
  /** Status names, countries, labels...: few distinct values, each stored once. */
  readonly #values = new ByteInterner();

  // Per message.
  #parts = new Float64Array(INITIAL);
  #firstPart = new Int32Array(INITIAL);
  /** country, operator, campaignTrackingId, label: value ids, 4 per message. */
  #about = new Int32Array(INITIAL * ABOUT_FIELDS);

  // Per part.
  #partCount = 0;
  #next = new Int32Array(INITIAL);
  #key = new Int32Array(INITIAL);
  #number = new Float64Array(INITIAL);
  /** rank (0-2) * 8 + outcome (0-4); a part is final exactly when its rank is 2. */
  #state = new Uint8Array(INITIAL);
  #status = new Int32Array(INITIAL);
  #detailed = new Int32Array(INITIAL);
  #price = new Float64Array(INITIAL);
  #latency = new Float64Array(INITIAL);
  /** The current report's `sequence`, NaN for none. */
  #sequence = new Float64Array(INITIAL);
  readonly #updated = new DateColumn(true);
  readonly #received = new DateColumn(false);
  readonly #fold = new MessageFold();
  /** The dates of the report being added against the part's, for `supersedes`; reused, no garbage. */
  readonly #against: DateOrder & { p: number; r: ScannedReport } = {
    p: 0,
    r: new ScannedReport(),
    updatedDate: () => this.#compare(this.#updated, this.#against.p, this.#against.r, UPDATED_DATE, true),
    sequence: () => compareSequence(this.#against.r.sequence, this.#sequence[this.#against.p]),
    receivedAt: () => this.#compare(this.#received, this.#against.p, this.#against.r, RECEIVED_AT, false),
  };

  /** How many messages were seen. */
  get size(): number {
    return this.#ids.size;
  }

  /** Take one per-message report into account. */
  add(r: ScannedReport): void {
    const { bytes, starts, ends } = r;
    const known = this.#ids.size;
    const m = this.#ids.id(bytes, starts[MESSAGE_ID]!, ends[MESSAGE_ID]!);
    if (m === known) this.#newMessage(m);
    if (Number.isFinite(r.declaredParts) && r.declaredParts > this.#parts[m]!) this.#parts[m] = r.declaredParts;
    const about = m * ABOUT_FIELDS;
    for (let i = 0; i < ABOUT_FIELDS; i++) {
      const field = ABOUT[i]!;
      if (this.#about[about + i] === NONE && starts[field]! >= 0)
        this.#about[about + i] = this.#values.id(bytes, starts[field]!, ends[field]!);
    }

    const key = this.#keys.id(bytes, starts[PART_KEY]!, ends[PART_KEY]!);
    let p = this.#firstPart[m]!;
    let last = NONE;
    while (p !== NONE && this.#key[p] !== key) {
      last = p;
      p = this.#next[p]!;
    }
    const rank = rankOf(r.final, r.outcome === UNKNOWN ? "unknown" : "pending");
    if (p === NONE) {
      p = this.#newPart(key, r.part);
      if (last === NONE) this.#firstPart[m] = p;
      else this.#next[last] = p;
      this.#take(p, r, rank);
      this.#price[p] = r.price;
      this.#latency[p] = r.latency;
      return;
    }
    if (Number.isNaN(this.#number[p]!)) this.#number[p] = r.part;
    if (this.#supersedes(p, r, rank)) {
      this.#take(p, r, rank);
      // A part is charged once: the current report's price, else the one an earlier report gave.
      if (!Number.isNaN(r.price)) this.#price[p] = r.price;
      if (!Number.isNaN(r.latency)) this.#latency[p] = r.latency;
    } else {
      if (Number.isNaN(this.#price[p]!)) this.#price[p] = r.price;
      if (Number.isNaN(this.#latency[p]!)) this.#latency[p] = r.latency;
    }
  }

  /**
   * Calls `visit` for every message, in the order first seen, with a summary object that is
   * reused: read it during the call.
   */
  forEach(visit: (message: MessageSummary) => void): void {
    const summary: MessageSummary = {
      outcome: "pending",
      cost: null,
      latency: null,
      status: null,
      detailedStatus: null,
      country: null,
      operator: null,
      campaignTrackingId: null,
      label: null,
      provider: "",
    };
    const order: number[] = [];
    const fold = this.#fold;
    for (let m = 0; m < this.#ids.size; m++) {
      this.#partsInOrder(m, order);
      fold.reset();
      for (const p of order) {
        const state = this.#state[p]!;
        fold.part(p, OUTCOME_NAMES[state & 7]!, state >> 3 === RANK_FINAL, orNull(this.#price[p]!), orNull(this.#latency[p]!));
      }
      summary.outcome = fold.outcome(this.#parts[m]!);
      const decisive = fold.decisive();
      summary.cost = fold.cost();
      summary.latency = fold.latency();
      summary.status = fold.status(OUTCOME_NAMES[this.#state[decisive]! & 7], this.#text(this.#status[decisive]!));
      summary.detailedStatus = this.#text(this.#detailed[decisive]!);
      const about = m * ABOUT_FIELDS;
      summary.country = this.#text(this.#about[about]!);
      summary.operator = this.#text(this.#about[about + 1]!);
      summary.campaignTrackingId = this.#text(this.#about[about + 2]!);
      summary.label = this.#text(this.#about[about + 3]!);
      summary.provider = this.#text(this.#about[about + 4]!) ?? "";
      visit(summary);
    }
  }

  /** The message's parts, stable-sorted by part number (null as 0), into `order`. */
  #partsInOrder(m: number, order: number[]): void {
    order.length = 0;
    for (let p = this.#firstPart[m]!; p !== NONE; p = this.#next[p]!) {
      // Insertion sort: messages have a handful of parts, and it is stable.
      const number = this.#sortNumber(p);
      let i = order.length;
      while (i > 0 && this.#sortNumber(order[i - 1]!) > number) i--;
      order.splice(i, 0, p);
    }
  }

  #sortNumber(p: number): number {
    const number = this.#number[p]!;
    return Number.isNaN(number) ? 0 : number;
  }

  #text(id: number): string | null {
    return id === NONE ? null : this.#values.text(id);
  }

  /** Does report `r` replace part `p`'s current one? The rule is `supersedes` (rules.ts). */
  #supersedes(p: number, r: ScannedReport, rank: number): boolean {
    this.#against.p = p;
    this.#against.r = r;
    return supersedes(rank, this.#state[p]! >> 3, this.#against);
  }

  /** The report's date against the part's: with compareDates, or as strings for receivedAt. */
  #compare(column: DateColumn, p: number, r: ScannedReport, field: number, asDates: boolean): number {
    const start = r.starts[field]!;
    const stored = column.seconds[p]!;
    if (start < 0 || stored === -Infinity) return start < 0 && stored === -Infinity ? 0 : start < 0 ? -1 : 1;
    const seconds = readDate(r.bytes, start, r.ends[field]!, asDates);
    if (!Number.isNaN(seconds) && !Number.isNaN(stored)) {
      if (seconds !== stored) return seconds < stored ? -1 : 1;
      return Math.sign(Math.max(lastMillis, 0) - Math.max(column.millis[p]!, 0));
    }
    const text = decoder.decode(r.bytes.subarray(start, r.ends[field]!));
    const current = column.text(p)!;
    return asDates ? compareDates(text, current) : compareReceived(text, current);
  }

  /** The report becomes the part's current one (price and latency apart). */
  #take(p: number, r: ScannedReport, rank: number): void {
    const { bytes, starts, ends } = r;
    this.#state[p] = (rank << 3) | r.outcome;
    this.#sequence[p] = r.sequence;
    this.#status[p] = starts[STATUS]! < 0 ? NONE : this.#values.id(bytes, starts[STATUS]!, ends[STATUS]!);
    this.#detailed[p] =
      starts[DETAILED_STATUS]! < 0 ? NONE : this.#values.id(bytes, starts[DETAILED_STATUS]!, ends[DETAILED_STATUS]!);
    this.#updated.set(p, bytes, starts[UPDATED_DATE]!, ends[UPDATED_DATE]!);
    this.#received.set(p, bytes, starts[RECEIVED_AT]!, ends[RECEIVED_AT]!);
  }

  #newMessage(m: number): void {
    if (m >= this.#parts.length) {
      this.#parts = grow(this.#parts, m + 1);
      this.#firstPart = grow(this.#firstPart, m + 1);
      this.#about = grow(this.#about, (m + 1) * ABOUT_FIELDS);
    }
    this.#parts[m] = 1;
    this.#firstPart[m] = NONE;
    this.#about.fill(NONE, m * ABOUT_FIELDS, (m + 1) * ABOUT_FIELDS);
  }

  #newPart(key: number, number: number): number {
    const p = this.#partCount++;
    if (p >= this.#next.length) {
      const need = p + 1;
      this.#next = grow(this.#next, need);
      this.#key = grow(this.#key, need);
      this.#number = grow(this.#number, need);
      this.#state = grow(this.#state, need);
      this.#status = grow(this.#status, need);
      this.#detailed = grow(this.#detailed, need);
      this.#price = grow(this.#price, need);
      this.#latency = grow(this.#latency, need);
      this.#sequence = grow(this.#sequence, need);
    }
    this.#next[p] = NONE;
    this.#key[p] = key;
    this.#number[p] = number;
    return p;
  }
}
