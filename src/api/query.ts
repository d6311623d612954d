/**
 * The read API's query strings, checked: a bad value is a 400 naming the parameter, never a 500,
 * and never a query that scans without bound (limits are capped).
 */
import { OUTCOMES } from "../core/outcome.ts";
import { CHANNEL_FILTERS, GROUP_BY, type ChannelFilter, type GroupBy } from "../status/report.ts";
import { STEPS, type SeriesQuery, type Step } from "../status/series.ts";
import type { MessageListQuery } from "../store/store.ts";

/** A query string the API refuses: answered 400 with this message. */
export class QueryError extends Error {}

const MAX_TEXT = 256;
export const MAX_LIMIT = 500;

function text(params: URLSearchParams, name: string): string | null {
  const value = params.get(name);
  if (value === null || value === "") return null;
  if (value.length > MAX_TEXT) throw new QueryError(`${name} is longer than ${MAX_TEXT} characters`);
  return value;
}

function oneOf<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[], fallback: T | null): T | null {
  const value = text(params, name);
  if (value === null) return fallback;
  if (!allowed.includes(value as T)) throw new QueryError(`${name} must be one of ${allowed.join(", ")}`);
  return value as T;
}

/** An instant: ISO 8601, or a duration back from now (`30m`, `24h`, `7d`); as `toISOString()`. */
function instant(params: URLSearchParams, name: string, now: Date): string | null {
  const value = text(params, name);
  if (value === null) return null;
  const relative = /^(\d{1,6})([smhd])$/.exec(value);
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now.getTime() - Number(relative[1]) * unit).toISOString();
  }
  const ms = /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new QueryError(`${name} must be an ISO date or a duration such as 24h`);
  return new Date(ms).toISOString();
}

function window(params: URLSearchParams, now: Date): { since: string | null; until: string | null } {
  const since = instant(params, "since", now);
  const until = instant(params, "until", now);
  if (since !== null && until !== null && since >= until) throw new QueryError("since must be before until");
  return { since, until };
}

/** The cursor a page hands out: opaque to the client. */
export function encodeCursor(position: number): string {
  return Buffer.from(`c${position}`).toString("base64url");
}

function cursor(params: URLSearchParams): number | null {
  const value = text(params, "cursor");
  if (value === null) return null;
  const decoded = /^c(\d{1,18})$/.exec(Buffer.from(value, "base64url").toString());
  if (!decoded) throw new QueryError("cursor is not one this API handed out");
  return Number(decoded[1]);
}

export function messageListQuery(params: URLSearchParams, now = new Date()): MessageListQuery {
  const limitText = text(params, "limit");
  const limit = limitText === null ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new QueryError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return {
    outcome: oneOf(params, "outcome", ["delivered", "failed", "pending"] as const, null),
    channel: oneOf(params, "channel", CHANNEL_FILTERS, "sms") as ChannelFilter,
    ...window(params, now),
    to: text(params, "to"),
    label: text(params, "label"),
    campaign: text(params, "campaign"),
    limit,
    cursor: cursor(params),
  };
}

export function reportQuery(params: URLSearchParams, now = new Date()) {
  return {
    ...window(params, now),
    by: oneOf(params, "by", GROUP_BY, null) as GroupBy | null,
    channel: oneOf(params, "channel", CHANNEL_FILTERS, "sms") as ChannelFilter,
  };
}

/** Buckets a series may hold: a week by minute, about ten years by day. */
export const MAX_BUCKETS = 10_080;
const STEP_MS: Record<Step, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `/v1/series`: a window (since required, until defaults to now) cut into at most MAX_BUCKETS steps. */
export function seriesQuery(params: URLSearchParams, now = new Date()): Required<SeriesQuery> {
  const { since, until } = window(params, now);
  if (since === null) throw new QueryError("since is required (an ISO date or a duration such as 24h)");
  const step = oneOf(params, "step", STEPS, "hour") as Step;
  const end = until ?? now.toISOString();
  if ((Date.parse(end) - Date.parse(since)) / STEP_MS[step] > MAX_BUCKETS)
    throw new QueryError(`the window holds more than ${MAX_BUCKETS} ${step}s: choose a larger step`);
  return { since, until, step, channel: oneOf(params, "channel", CHANNEL_FILTERS, "sms") as ChannelFilter };
}

/** The live stream's filters: entries of these kinds, outcomes, channels (each any when absent). */
export function eventFilter(params: URLSearchParams) {
  return {
    outcome: oneOf(params, "outcome", OUTCOMES, null),
    channel: oneOf(params, "channel", CHANNEL_FILTERS, "all") as ChannelFilter,
    kind: oneOf(params, "kind", ["dlr", "inbound", "campaign", "other", "rejected"] as const, null),
  };
}
