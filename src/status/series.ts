/**
 * Delivery over time: status callbacks (`dlr`) per time bucket, by outcome, with failures by
 * detailed status. A bucket is the start of `receivedAt`'s minute, hour or day, cut from its ISO
 * text, so a log scan and a SQL `GROUP BY substr(received_at, …)` bucket alike; both feed this tally.
 */
import type { ChannelFilter } from "./report.ts";

export const STEPS = ["minute", "hour", "day"] as const;
export type Step = (typeof STEPS)[number];

/** Characters of a `toISOString()` that name the step's bucket (`2024-05-01T10:00`, `…T10`, `2024-05-01`). */
export const STEP_CHARS: Record<Step, number> = { minute: 16, hour: 13, day: 10 };
const STEP_SUFFIX: Record<Step, string> = { minute: ":00.000Z", hour: ":00:00.000Z", day: "T00:00:00.000Z" };

export interface SeriesQuery {
  since?: string | null;
  until?: string | null;
  /** @default "hour" */
  step?: Step;
  /** @default "sms" */
  channel?: ChannelFilter;
}

export interface SeriesBucket {
  /** The bucket's start, ISO. */
  at: string;
  /** Status callbacks received in the bucket. */
  reports: number;
  delivered: number;
  failed: number;
  pending: number;
  /** Failed callbacks by detailed status (or status). */
  failures: Record<string, number>;
}

/** What `GET /v1/series` answers: buckets in time order, only those with callbacks. */
export interface Series {
  step: Step;
  channel: ChannelFilter;
  since: string | null;
  until: string | null;
  buckets: SeriesBucket[];
}

const NONE = "(none)";

/** Counts callbacks into buckets; `add` takes the bucket key (the ISO prefix) and how many. */
export class SeriesTally {
  readonly #buckets = new Map<string, SeriesBucket>();
  constructor(readonly query: Required<SeriesQuery>) {}

  add(key: string, outcome: string, reason: string | null, n = 1): void {
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = { at: key + STEP_SUFFIX[this.query.step], reports: 0, delivered: 0, failed: 0, pending: 0, failures: {} }));
    bucket.reports += n;
    if (outcome === "delivered" || outcome === "failed" || outcome === "pending") bucket[outcome] += n;
    if (outcome === "failed") bucket.failures[reason ?? NONE] = (bucket.failures[reason ?? NONE] ?? 0) + n;
  }

  finish(): Series {
    const { step, channel, since, until } = this.query;
    const buckets = [...this.#buckets.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return { step, channel, since, until, buckets };
  }
}

/** The query with its defaults filled. */
export function seriesDefaults(query: SeriesQuery): Required<SeriesQuery> {
  return { since: query.since ?? null, until: query.until ?? null, step: query.step ?? "hour", channel: query.channel ?? "sms" };
}
