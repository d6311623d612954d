/**
 * Log entries as rows and back: the columns of `sms_status_reports`, the part rows of
 * `sms_status_messages`, and `updatedMs`, the number that orders `updatedDate`s as the status
 * rules' `compareDates` does, so the database can apply the rules in its upsert.
 */
import { setSequence, type Channel, type EntryKind, type LogEntry, type ReceivedEntry } from "../../core/entry.ts";
import type { Outcome } from "../../core/outcome.ts";
import { duplicateKey } from "../../core/identity.ts";
import { declaredParts, rankOf } from "../../status/rules.ts";
import { messageKey } from "../../status/tracker.ts";

/** A row of `sms_status_reports` without its id. */
export interface ReportRow {
  received_at: string;
  provider: string;
  kind: string;
  channel: string | null;
  outcome: string;
  final: boolean;
  message_id: string | null;
  sms_id: string | null;
  tracking_id: string | null;
  part: number | null;
  parts: number | null;
  to_number: string | null;
  from_number: string | null;
  status: string | null;
  detailed_status: string | null;
  description: string | null;
  updated_date: string | null;
  price: number | null;
  latency: number | null;
  country: string | null;
  operator: string | null;
  campaign_tracking_id: string | null;
  campaign_name: string | null;
  label: string | null;
  pool_name: string | null;
  report: string;
  error: string | null;
  replica: string | null;
  duplicate_key: string | null;
  sequence: number | null;
}

/**
 * Every column a report row writes, with its PostgreSQL type (the one-statement write reads the
 * rows as JSON with these; the view's writer binds them in this order).
 */
export const REPORT_TYPES: Record<keyof ReportRow, string> = {
  received_at: "text", provider: "text", kind: "text", channel: "text", outcome: "text", final: "boolean",
  message_id: "text", sms_id: "text", tracking_id: "text", part: "integer", parts: "integer", to_number: "text",
  from_number: "text", status: "text", detailed_status: "text", description: "text", updated_date: "text",
  price: "float8", latency: "float8", country: "text", operator: "text", campaign_tracking_id: "text",
  campaign_name: "text", label: "text", pool_name: "text", report: "text", error: "text", replica: "text",
  duplicate_key: "text", sequence: "float8",
};
export const REPORT_KEYS = Object.keys(REPORT_TYPES) as (keyof ReportRow)[];
/** Columns per report row: what sizes a statement under PostgreSQL's 65,535 parameters. */
export const REPORT_COLUMNS = REPORT_KEYS.length;

/** A row of `sms_status_messages` as inserted (the upsert decides what it changes). */
export interface PartRow {
  message_id: string;
  part_key: string;
  channel: string;
  part: number | null;
  parts: number;
  outcome: string;
  final: boolean;
  rank: number;
  status: string | null;
  detailed_status: string | null;
  updated_date: string | null;
  updated_ms: number;
  received_at: string;
  price: number | null;
  latency: number | null;
  country: string | null;
  operator: string | null;
  campaign_tracking_id: string | null;
  label: string | null;
  reports: number;
  first_report: number;
  sequence: number | null;
  /** The part's first report's provider and time (never updated). */
  provider: string;
  first_received_at: string;
  /** The latest report's time while the part's reports came in time order; null once one did not. */
  last_received_at: string | null;
}

/** Every column a part row writes but `first_report` (the id of a report the write inserts), with its PostgreSQL type. */
export const PART_TYPES: Record<Exclude<keyof PartRow, "first_report">, string> = {
  message_id: "text", part_key: "text", channel: "text", part: "integer", parts: "integer", outcome: "text",
  final: "boolean", rank: "integer", status: "text", detailed_status: "text", updated_date: "text",
  updated_ms: "float8", received_at: "text", price: "float8", latency: "float8", country: "text", operator: "text",
  campaign_tracking_id: "text", label: "text", reports: "integer", sequence: "float8", provider: "text",
  first_received_at: "text", last_received_at: "text",
};
/** The part row's columns, the key (`message_id`, `part_key`) first. */
export const PART_KEYS = [...Object.keys(PART_TYPES), "first_report"] as (keyof PartRow)[];
export const PART_COLUMNS = PART_KEYS.length;

/** The part row's columns a superseding report replaces (the rest: first non-null, or counted). */
export const CURRENT_COLUMNS: readonly (keyof PartRow)[] = [
  "outcome", "final", "rank", "status", "detailed_status", "updated_date", "updated_ms", "received_at", "sequence",
];

/** One string per part (message and part key, length-prefixed so that no two parts share it). */
export function partIdentity(part: Pick<PartRow, "message_id" | "part_key">): string {
  return `${part.message_id.length}:${part.message_id}${part.part_key}`;
}

/** PostgreSQL's text refuses U+0000; the column gets U+FFFD (the `report` JSON keeps it escaped). */
function text(value: string | null): string | null {
  return value !== null && value.includes("\u0000") ? value.replaceAll("\u0000", "\uFFFD") : value;
}

/** The duplicate key as stored: its NUL separators (PostgreSQL refuses them) become U+001F. */
export function storedKey(entry: LogEntry): string | null {
  const key = duplicateKey(entry);
  return key === null ? null : key.replaceAll("\u0000", "\u001f");
}

const integer = (n: number | null): number | null => (n !== null && Number.isSafeInteger(n) ? n : null);

export function reportRow({ entry, raw }: ReceivedEntry, replica: string | null): ReportRow {
  return {
    received_at: entry.receivedAt,
    provider: entry.provider,
    kind: entry.kind,
    channel: entry.channel,
    outcome: entry.outcome,
    final: entry.final,
    message_id: text(entry.messageId),
    sms_id: text(entry.smsId),
    tracking_id: text(entry.trackingId),
    part: integer(entry.part),
    parts: integer(entry.parts),
    to_number: text(entry.to),
    from_number: text(entry.from),
    status: text(entry.status),
    detailed_status: text(entry.detailedStatus),
    description: text(entry.description),
    updated_date: text(entry.updatedDate),
    price: entry.price,
    latency: entry.latency,
    country: text(entry.country),
    operator: text(entry.operator),
    campaign_tracking_id: text(entry.campaignTrackingId),
    campaign_name: text(entry.campaignName),
    label: text(entry.label),
    pool_name: text(entry.poolName),
    // The body as received when the provider kept its text, so the database holds what the log holds.
    report: raw ?? JSON.stringify(entry.report) ?? "null",
    error: entry.error === undefined ? null : JSON.stringify(entry.error),
    replica,
    duplicate_key: storedKey(entry),
    sequence: entry.sequence ?? null,
  };
}

/** The part row a report makes, or null when it is not a per-message report (as `MessageTracker.add`). */
export function partRow(entry: LogEntry, reportId: number): PartRow | null {
  const id = messageKey(entry);
  if (id === null) return null;
  const declared = declaredParts(entry.parts, entry.part);
  return {
    message_id: text(id)!,
    part_key: text(entry.smsId) ?? `#${entry.part ?? 1}`,
    channel: entry.channel ?? "sms",
    part: integer(entry.part),
    parts: Number.isSafeInteger(declared) ? declared : 1,
    outcome: entry.outcome,
    final: entry.final,
    rank: rankOf(entry.final, entry.outcome),
    status: text(entry.status),
    detailed_status: text(entry.detailedStatus),
    updated_date: text(entry.updatedDate),
    updated_ms: updatedMs(entry.updatedDate),
    received_at: entry.receivedAt,
    price: entry.price,
    latency: entry.latency,
    country: text(entry.country),
    operator: text(entry.operator),
    campaign_tracking_id: text(entry.campaignTrackingId),
    label: text(entry.label),
    reports: 1,
    first_report: reportId,
    sequence: entry.sequence ?? null,
    provider: entry.provider,
    first_received_at: entry.receivedAt,
    last_received_at: entry.receivedAt,
  };
}

/** A missing date is earliest; an unreadable one next (as `compareDates`: null < unreadable = unreadable). */
export const NO_DATE = -2;
export const BAD_DATE = -1;
const UTC_SECONDS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/;

/**
 * `updatedDate` as epoch milliseconds (with its fraction), ordering as `compareDates` does for
 * every date a provider sends: `...:49Z` before `...:49.500Z`, offsets by their instant.
 */
export function updatedMs(date: string | null): number {
  if (date === null) return NO_DATE;
  const utc = UTC_SECONDS.exec(date);
  if (utc) {
    const seconds = Date.parse(utc[1]! + "Z");
    if (Number.isNaN(seconds)) return BAD_DATE;
    return seconds + (utc[2] ? Number("0" + utc[2]) * 1000 : 0);
  }
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? BAD_DATE : ms;
}

/** A row of `sms_status_reports` read back as the log entry it came from. */
export function entryOf(row: Record<string, unknown>): LogEntry {
  const entry: LogEntry = {
    receivedAt: row.received_at as string,
    provider: row.provider as string,
    kind: row.kind as EntryKind,
    channel: (row.channel as Channel | null) ?? null,
    outcome: row.outcome as Outcome,
    final: Boolean(row.final),
    messageId: str(row.message_id),
    smsId: str(row.sms_id),
    trackingId: str(row.tracking_id),
    part: num(row.part),
    parts: num(row.parts),
    to: str(row.to_number),
    from: str(row.from_number),
    status: str(row.status),
    detailedStatus: str(row.detailed_status),
    description: str(row.description),
    updatedDate: str(row.updated_date),
    price: num(row.price),
    latency: num(row.latency),
    country: str(row.country),
    operator: str(row.operator),
    campaignTrackingId: str(row.campaign_tracking_id),
    campaignName: str(row.campaign_name),
    label: str(row.label),
    poolName: str(row.pool_name),
    report: JSON.parse(row.report as string),
  };
  if (row.error !== null && row.error !== undefined) entry.error = JSON.parse(row.error as string);
  setSequence(entry, num(row.sequence));
  return entry;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
