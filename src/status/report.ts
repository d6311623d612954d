/**
 * The report over many messages: counts by outcome, delivery rate, cost, failures by detailed
 * status, latency percentiles, and the same by a field. Whatever store the messages come from
 * (a scan of log files, a database), they are summed here, so every store reports alike.
 */
import { PRICE_SCALE, type MessageOutcome } from "./rules.ts";
import type { MessageSummary } from "./table.ts";
import { CHANNELS, type Channel, type EntryKind } from "../core/entry.ts";

export const GROUP_BY = ["status", "country", "operator", "campaign", "label", "provider"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

const GROUP_KEY: Record<GroupBy, (m: MessageSummary) => string | null> = {
  status: (m) => m.status,
  country: (m) => m.country,
  operator: (m) => m.operator,
  campaign: (m) => m.campaignTrackingId,
  label: (m) => m.label,
  provider: (m) => m.provider,
};

export interface ReportQuery {
  /** Only reports received at or after this instant (ISO, as `toISOString()`). */
  since?: string | null;
  /** Only reports received before this instant. */
  until?: string | null;
  by?: GroupBy | null;
  /** Only this channel's messages and callbacks (callbacks without a channel always count). @default "sms" */
  channel?: ChannelFilter;
}

/** A reader's channel choice: one channel, or every one. */
export type ChannelFilter = Channel | "all";
export const CHANNEL_FILTERS: readonly ChannelFilter[] = [...CHANNELS, "all"];

/** Whether an entry of `channel` (null: none) is counted under `filter`. */
export function inChannel(channel: Channel | null, filter: ChannelFilter): boolean {
  return filter === "all" || channel === null || channel === filter;
}

/** Messages per outcome, with their rate and cost. */
export interface OutcomeCounts {
  messages: number;
  delivered: number;
  failed: number;
  pending: number;
  /** delivered / messages; null without messages. */
  deliveryRate: number | null;
  /** Sum of the messages' costs (each part's price once). */
  cost: number;
}

/** What `report --json` prints. */
export interface Report extends OutcomeCounts {
  channel: ChannelFilter;
  /** Where the reports were read from (log files, or a database). */
  files: string[];
  since: string | null;
  until: string | null;
  lines: { read: number; unparseable: number; outsideWindow: number };
  callbacks: Record<EntryKind, number>;
  /** Failed messages by the detailed status of the part that failed, most frequent first. */
  failures: { detailedStatus: string; messages: number }[];
  /** Latency of delivered messages (their slowest part), exact nearest-rank percentiles. */
  latency: { messages: number; p50: number | null; p95: number | null };
  by: GroupBy | null;
  groups: ({ key: string } & OutcomeCounts)[] | null;
}

const NONE = "(none)";

export class Tally {
  delivered = 0;
  failed = 0;
  pending = 0;
  micros = 0;

  add(outcome: MessageOutcome, cost: number | null): void {
    this[outcome] += 1;
    if (cost !== null) this.micros += Math.round(cost * PRICE_SCALE);
  }

  counts(): OutcomeCounts {
    const messages = this.delivered + this.failed + this.pending;
    return {
      messages,
      delivered: this.delivered,
      failed: this.failed,
      pending: this.pending,
      deliveryRate: messages === 0 ? null : this.delivered / messages,
      cost: this.micros / PRICE_SCALE,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}


/** Sums message summaries into a report's figures; feed it every message, then `finish`. */
export class ReportTally {
  readonly #by: GroupBy | null;
  readonly #total = new Tally();
  readonly #groups = new Map<string, Tally>();
  readonly #failures = new Map<string, number>();
  #latencies = new Float64Array(1024);
  #delivered = 0;

  constructor(by: GroupBy | null) {
    this.#by = by;
  }

  /**
   * `count` messages summed already (a database's GROUP BY): of `outcome`, costing `micros`
   * millionths together, grouped under `key`, failed for `reason`, or delivered with `latency`.
   */
  addCounted(count: number, outcome: MessageOutcome, micros: number, key: string | null): void {
    this.#total[outcome] += count;
    this.#total.micros += micros;
    if (!this.#by) return;
    let tally = this.#groups.get(key ?? NONE);
    if (!tally) this.#groups.set(key ?? NONE, (tally = new Tally()));
    tally[outcome] += count;
    tally.micros += micros;
  }

  addFailures(reason: string, count: number): void {
    this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + count);
  }

  addLatency(latency: number, count: number): void {
    if (this.#delivered + count > this.#latencies.length) {
      const bigger = new Float64Array(Math.max(this.#latencies.length * 2, this.#delivered + count));
      bigger.set(this.#latencies);
      this.#latencies = bigger;
    }
    this.#latencies.fill(latency, this.#delivered, this.#delivered + count);
    this.#delivered += count;
  }

  add(message: MessageSummary): void {
    this.#total.add(message.outcome, message.cost);
    if (this.#by) {
      const key = GROUP_KEY[this.#by](message) ?? NONE;
      let tally = this.#groups.get(key);
      if (!tally) this.#groups.set(key, (tally = new Tally()));
      tally.add(message.outcome, message.cost);
    }
    if (message.outcome === "failed") {
      const reason = message.detailedStatus ?? message.status ?? NONE;
      this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + 1);
    }
    if (message.outcome === "delivered" && message.latency !== null) {
      if (this.#delivered === this.#latencies.length) {
        const bigger = new Float64Array(this.#latencies.length * 2);
        bigger.set(this.#latencies);
        this.#latencies = bigger;
      }
      this.#latencies[this.#delivered++] = message.latency;
    }
  }

  /** The figures of `Report` that come from messages. */
  finish(): Pick<Report, keyof OutcomeCounts | "failures" | "latency" | "by" | "groups"> {
    const sorted = this.#latencies.subarray(0, this.#delivered).sort();
    return {
      ...this.#total.counts(),
      failures: [...this.#failures]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([detailedStatus, messages]) => ({ detailedStatus, messages })),
      latency: { messages: this.#delivered, p50: percentile(sorted, 50), p95: percentile(sorted, 95) },
      by: this.#by,
      groups: this.#by
        ? [...this.#groups]
            .map(([key, tally]) => ({ key, ...tally.counts() }))
            .sort((a, b) => b.messages - a.messages || a.key.localeCompare(b.key))
        : null,
    };
  }
}
