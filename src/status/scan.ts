/**
 * The status fields of a JSONL log line read straight from its bytes, with no string or object per
 * line: what `report` needs to fold millions of lines into per-message state.
 *
 * `renderJsonl` writes every entry's fields in one fixed order (`blankEntry`'s), so a line the
 * server wrote is matched against that layout key by key, and values are kept as byte ranges.
 * Anything else (another field order, escapes or non-ASCII in a kept value, an exponent, a kind
 * other than `dlr`) is not guessed at: `scanStatusLine` returns false and the caller parses the line
 * the ordinary way (`parseStatusFields`), then `fillFromFields` puts the result in the same form.
 */
import { BACKSLASH, COMMA, DOT, MINUS, QUOTE, ZERO } from "../core/bytes.ts";
import { declaredParts } from "./rules.ts";
import { messageKey, type StatusFields } from "./tracker.ts";

/** The string fields kept, as indexes into `ScannedReport.starts/ends`. */
export const MESSAGE_ID = 0;
/** The part's key: its `smsId`, else `#` and its part number (as `MessageTracker` keys parts). */
export const PART_KEY = 1;
export const RECEIVED_AT = 2;
export const UPDATED_DATE = 3;
export const STATUS = 4;
export const DETAILED_STATUS = 5;
export const COUNTRY = 6;
export const OPERATOR = 7;
export const CAMPAIGN = 8;
export const LABEL = 9;
/** The channel (`sms`, `viber`, ...); -1 in an entry written before channels existed: SMS. */
export const CHANNEL = 10;
export const PROVIDER = 11;
const STRING_FIELDS = 12;

/** `outcome` as a small int; OTHER is a hand-written value that is none of the four. */
export const UNKNOWN = 0;
export const PENDING = 1;
export const DELIVERED = 2;
export const FAILED = 3;
export const OTHER = 4;
const OUTCOME_CODES: Record<string, number> = { unknown: UNKNOWN, pending: PENDING, delivered: DELIVERED, failed: FAILED };

/** One delivery report's fields, reused from line to line. Byte ranges point into `bytes`. */
export class ScannedReport {
  bytes: Uint8Array = new Uint8Array(0);
  /** Start of each string field in `bytes`, or -1 for null. */
  readonly starts = new Int32Array(STRING_FIELDS);
  readonly ends = new Int32Array(STRING_FIELDS);
  outcome = UNKNOWN;
  final = false;
  /** `part`, NaN for null. */
  part = NaN;
  /** `max(parts ?? 1, part ?? 1)`: how many parts this report says the message has. */
  declaredParts = 1;
  /** NaN for null. */
  price = NaN;
  /** NaN for null. */
  latency = NaN;
  /** The provider's ordering hint (`sequence`), NaN when the entry has none. */
  sequence = NaN;
}

// Value kinds of the layout.
const SKIP = 0;
const KEEP = 1;
const KIND = 2;
const OUTCOME = 3;
const FINAL = 4;
const PART = 5;
const PARTS = 6;
const PRICE = 7;
const LATENCY = 8;

/** `blankEntry`'s field order up to `poolName`; `report` (and `error`) follow and are not read. */
const LAYOUT: [key: string, kind: number, field?: number][] = [
  ["receivedAt", KEEP, RECEIVED_AT],
  ["provider", KEEP, PROVIDER],
  ["kind", KIND],
  ["channel", KEEP, CHANNEL],
  ["outcome", OUTCOME],
  ["final", FINAL],
  ["messageId", KEEP, MESSAGE_ID],
  ["smsId", KEEP, PART_KEY],
  ["trackingId", SKIP],
  ["part", PART],
  ["parts", PARTS],
  ["to", SKIP],
  ["from", SKIP],
  ["status", KEEP, STATUS],
  ["detailedStatus", KEEP, DETAILED_STATUS],
  ["description", SKIP],
  ["updatedDate", KEEP, UPDATED_DATE],
  ["price", PRICE],
  ["latency", LATENCY],
  ["country", KEEP, COUNTRY],
  ["operator", KEEP, OPERATOR],
  ["campaignTrackingId", KEEP, CAMPAIGN],
  ["campaignName", SKIP],
  ["label", KEEP, LABEL],
  ["poolName", SKIP],
];
const encoder = new TextEncoder();
/** `{"receivedAt":`, `,"provider":`, ... and last `,"report":`, as bytes. */
const KEYS = [...LAYOUT.map(([key], i) => `${i === 0 ? "{" : ","}"${key}":`), ',"report":'].map((k) => encoder.encode(k));
const KINDS = LAYOUT.map(([, kind]) => kind);
const FIELDS = LAYOUT.map(([, , field]) => field ?? -1);

/** The optional field between `poolName` and `report` (core/entry.ts `setSequence`). */
const SEQUENCE_KEY = encoder.encode(',"sequence":');
const NULL = encoder.encode("null");
const TRUE = encoder.encode("true");
const FALSE = encoder.encode("false");
const DLR = encoder.encode('"dlr"');
const OUTCOMES = Object.entries(OUTCOME_CODES).map(([name, code]) => [encoder.encode(`"${name}"`), code] as const);
const POWERS = Array.from({ length: 16 }, (_, i) => 10 ** i);

function matches(bytes: Uint8Array, at: number, end: number, literal: Uint8Array): boolean {
  if (at + literal.length > end) return false;
  for (let i = 0; i < literal.length; i++) if (bytes[at + i] !== literal[i]) return false;
  return true;
}

/**
 * Reads `bytes[start..end)` (one line, no newline) into `out` when it is a `dlr` entry with a
 * `messageId` and an `smsId` in the server's layout; false otherwise (`out` is then garbage). A line
 * torn after `"report":` still reads, as it does with `parseStatusFields`.
 */
export function scanStatusLine(bytes: Uint8Array, start: number, end: number, out: ScannedReport): boolean {
  out.bytes = bytes;
  let at = start;
  let part = NaN;
  let parts = NaN;
  for (let step = 0; step < KINDS.length; step++) {
    const key = KEYS[step]!;
    if (!matches(bytes, at, end, key)) return false;
    at += key.length;
    const kind = KINDS[step]!;
    if (kind === KIND) {
      if (!matches(bytes, at, end, DLR)) return false;
      at += DLR.length;
    } else if (kind === OUTCOME) {
      const found = OUTCOMES.find(([name]) => matches(bytes, at, end, name));
      if (!found) return false;
      out.outcome = found[1];
      at += found[0].length;
    } else if (kind === FINAL) {
      out.final = matches(bytes, at, end, TRUE);
      if (!out.final && !matches(bytes, at, end, FALSE)) return false;
      at += out.final ? TRUE.length : FALSE.length;
    } else if (matches(bytes, at, end, NULL)) {
      if (kind === KEEP) out.starts[FIELDS[step]!] = -1;
      else if (kind === PART) part = NaN;
      else if (kind === PARTS) parts = NaN;
      else if (kind === PRICE) out.price = NaN;
      else if (kind === LATENCY) out.latency = NaN;
      at += NULL.length;
    } else if (kind === SKIP) {
      at = skipString(bytes, at, end);
      if (at < 0) return false;
    } else if (kind === KEEP) {
      at = keptString(bytes, at, end, out, FIELDS[step]!);
      if (at < 0) return false;
    } else {
      at = readNumber(bytes, at, end);
      if (at < 0) return false;
      if (kind === PART) part = lastNumber;
      else if (kind === PARTS) parts = lastNumber;
      else if (kind === PRICE) out.price = lastNumber;
      else out.latency = lastNumber;
    }
  }
  out.sequence = NaN;
  if (matches(bytes, at, end, SEQUENCE_KEY)) {
    at = readNumber(bytes, at + SEQUENCE_KEY.length, end);
    if (at < 0) return false;
    out.sequence = lastNumber;
  }
  if (!matches(bytes, at, end, KEYS[KINDS.length]!)) return false;
  // Without an id or an smsId the ordinary path builds the report (a rare, hand-made case).
  if (out.starts[MESSAGE_ID]! < 0 || out.starts[PART_KEY]! < 0) return false;
  out.part = part;
  out.declaredParts = declaredParts(Number.isNaN(parts) ? null : parts, Number.isNaN(part) ? null : part);
  return true;
}

/** A JSON string kept as a byte range: only when it needs no decoding (no escape, all ASCII). */
function keptString(bytes: Uint8Array, at: number, end: number, out: ScannedReport, field: number): number {
  if (bytes[at] !== QUOTE) return -1;
  for (let i = at + 1; i < end; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      out.starts[field] = at + 1;
      out.ends[field] = i;
      return i + 1;
    }
    if (c < 0x20 || c >= 0x80 || c === BACKSLASH) return -1;
  }
  return -1;
}

/** Past a JSON string at `at` (escapes allowed: its value is not read), or -1. */
function skipString(bytes: Uint8Array, at: number, end: number): number {
  if (bytes[at] !== QUOTE) return -1;
  for (let i = at + 1; i < end; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
    else if (c < 0x20) return -1; // JSON.parse would refuse the line
  }
  return -1;
}

let lastNumber = 0;

const isDigit = (c: number | undefined) => c !== undefined && c >= ZERO && c <= ZERO + 9;

/**
 * A JSON number followed by `,`, without an exponent and with at most 15 digits, into `lastNumber`;
 * -1 otherwise. digits / 10^k is exact, then rounded once: the double JSON.parse gives (Clinger's
 * fast path).
 */
function readNumber(bytes: Uint8Array, at: number, end: number): number {
  const negative = bytes[at] === MINUS;
  if (negative) at++;
  const first = at;
  let mantissa = 0;
  while (at < end && isDigit(bytes[at])) mantissa = mantissa * 10 + bytes[at++]! - ZERO;
  const whole = at - first;
  if (whole === 0 || (whole > 1 && bytes[first] === ZERO)) return -1;
  let decimals = 0;
  if (bytes[at] === DOT) {
    at++;
    while (at < end && isDigit(bytes[at])) {
      mantissa = mantissa * 10 + bytes[at++]! - ZERO;
      decimals++;
    }
    if (decimals === 0) return -1;
  }
  if (whole + decimals > 15 || bytes[at] !== COMMA) return -1;
  const value = decimals === 0 ? mantissa : mantissa / POWERS[decimals]!;
  lastNumber = negative ? -value : value;
  return at;
}

/** Scratch bytes for the string fields of reports that went through `fillFromFields`. */
let scratch = new Uint8Array(1024);

/**
 * Puts a parsed entry into `out`, for lines `scanStatusLine` left to the ordinary parser. False
 * when it is not a per-message report (what `MessageTracker.add` ignores). Numbers of the wrong
 * JSON type in a hand-written line are taken as `Number()` makes them.
 */
export function fillFromFields(fields: StatusFields, out: ScannedReport): boolean {
  const id = messageKey(fields);
  if (id === null) return false;
  const texts: (string | null)[] = [];
  texts[MESSAGE_ID] = id;
  texts[CHANNEL] = fields.channel;
  texts[PROVIDER] = (fields as { provider?: string }).provider ?? null;
  texts[PART_KEY] = fields.smsId ?? `#${fields.part ?? 1}`;
  texts[RECEIVED_AT] = fields.receivedAt;
  texts[UPDATED_DATE] = fields.updatedDate;
  texts[STATUS] = fields.status;
  texts[DETAILED_STATUS] = fields.detailedStatus;
  texts[COUNTRY] = fields.country;
  texts[OPERATOR] = fields.operator;
  texts[CAMPAIGN] = fields.campaignTrackingId;
  texts[LABEL] = fields.label;
  const room = texts.reduce((n, t) => n + (t === null ? 0 : String(t).length * 3), 0);
  if (room > scratch.length) scratch = new Uint8Array(room);
  let used = 0;
  for (let field = 0; field < STRING_FIELDS; field++) {
    const text = texts[field];
    if (text === null || text === undefined) {
      out.starts[field] = -1;
      continue;
    }
    out.starts[field] = used;
    used += encoder.encodeInto(String(text), scratch.subarray(used)).written;
    out.ends[field] = used;
  }
  out.bytes = scratch;
  out.outcome = OUTCOME_CODES[fields.outcome] ?? OTHER;
  out.final = Boolean(fields.final);
  out.part = fields.part === null ? NaN : Number(fields.part);
  out.declaredParts = declaredParts(fields.parts, fields.part);
  out.price = fields.price === null ? NaN : Number(fields.price);
  out.latency = fields.latency === null ? NaN : Number(fields.latency);
  out.sequence = typeof fields.sequence === "number" ? fields.sequence : NaN;
  return true;
}
