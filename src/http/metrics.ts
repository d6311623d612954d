/**
 * Prometheus metrics, kept in a few counters and one histogram (no dependency needed for this
 * little). `render()` gives the text exposition format, version 0.0.4.
 */
import { redact, type ForwardStats } from "../forward/forwarder.ts";
import { forwardId } from "../forward/state.ts";
import type { ViewThreadStats } from "../store/sql/view-thread.ts";

/** Seconds; dense near Routee's 2 s limit so the histogram shows how close answers come to it. */
export const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 5] as const;

/** Live figures the metrics read when rendered (the journal's and duplicate filter's own state). */
export interface MetricsGauges {
  logWritable(): boolean;
  logBytes(): number;
  duplicateKeys(): number;
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
  return body ? `{${body}}` : "";
}

/** What `Metrics.health()` gives. */
export interface Health {
  /** Whether the log (or database) can be written; null when no store reports to these metrics. */
  logWritable: boolean | null;
  duplicateKeys: number;
  /** Answers to reports since start: count, total seconds, cumulative counts per bucket (seconds). */
  ack: { count: number; sumSeconds: number; buckets: { le: number; count: number }[] };
  /** outcome -> channel -> messages. */
  messagesFinal: Record<string, Record<string, number>>;
  forwarders: { url: string; lagSeconds: number; pending: number; active: boolean; failures: number }[];
}

export class Metrics {
  readonly rejected = new Map<string, number>();
  readonly refused = new Map<string, number>();
  duplicates = 0;
  writeErrors = 0;
  readonly #ackCounts = new Array<number>(ACK_BUCKETS.length + 1).fill(0);
  #ackSum = 0;
  #ackCount = 0;
  /** One set per receiver that counts into this instance; rendered together. */
  readonly #gauges: MetricsGauges[] = [];

  /** kind -> outcome -> count; nested so that counting builds no string per report. */
  readonly #reports = new Map<string, Map<string, number>>();

  report(kind: string, outcome: string): void {
    let byOutcome = this.#reports.get(kind);
    if (!byOutcome) this.#reports.set(kind, (byOutcome = new Map()));
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  }

  /** outcome -> channel -> messages that reached it. */
  readonly #final = new Map<string, Map<string, number>>();

  /** A message reached a final outcome (counted once per message, see http/setup.ts). */
  messageFinal(outcome: string, channel: string): void {
    let byChannel = this.#final.get(outcome);
    if (!byChannel) this.#final.set(outcome, (byChannel = new Map()));
    byChannel.set(channel, (byChannel.get(channel) ?? 0) + 1);
  }

  readonly #forwarders: { url: string; id: string; stats: ForwardStats }[] = [];

  /**
   * A forwarder's figures, rendered per URL: without its query (which may hold a token), so with
   * the id of its state file too, or two URLs differing only there would be one series twice.
   */
  watchForwarder(url: string, stats: ForwardStats): void {
    this.#forwarders.push({ url: redact(url), id: forwardId(url), stats });
  }

  #view: ViewThreadStats | null = null;

  /** The SQLite view's figures: how far it is behind the log. */
  watchView(stats: ViewThreadStats): void {
    this.#view = stats;
  }

  /** Read these live figures at every render; several receivers sharing one `Metrics` add up. */
  watch(gauges: MetricsGauges): void {
    this.#gauges.push(gauges);
  }

  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  /** A request refused before its body was read: `unauthorized` (token) or `forbidden` (address). */
  refuse(reason: "unauthorized" | "forbidden" | "signature"): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  acknowledged(seconds: number): void {
    let i = 0;
    while (i < ACK_BUCKETS.length && seconds > ACK_BUCKETS[i]!) i++;
    this.#ackCounts[i]! += 1;
    this.#ackSum += seconds;
    this.#ackCount += 1;
  }

  /** The figures the dashboard shows (`GET /v1/health`): read-only, no URL secrets. */
  health(): Health {
    const gauges = this.#gauges;
    return {
      logWritable: gauges.length === 0 ? null : gauges.every((g) => g.logWritable()),
      duplicateKeys: gauges.reduce((total, g) => total + g.duplicateKeys(), 0),
      ack: {
        count: this.#ackCount,
        sumSeconds: this.#ackSum,
        buckets: ACK_BUCKETS.map((le, i) => ({ le, count: this.#ackCounts.slice(0, i + 1).reduce((a, b) => a + b, 0) })),
      },
      messagesFinal: Object.fromEntries([...this.#final].map(([outcome, byChannel]) => [outcome, Object.fromEntries(byChannel)])),
      forwarders: this.#forwarders.map(({ url, stats }) => ({ url, lagSeconds: stats.lagSeconds, pending: stats.pending, active: stats.active, failures: stats.failures })),
    };
  }

  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family("sms_status_reports_total", "counter", "Callbacks written to the log, by kind and outcome.");
    for (const [kind, byOutcome] of this.#reports)
      for (const [outcome, n] of byOutcome) out.push(`sms_status_reports_total${labels({ kind, outcome })} ${n}`);
    family("sms_status_messages_final_total", "counter", "Messages that reached a final outcome (delivered or failed), by channel.");
    for (const [outcome, byChannel] of this.#final)
      for (const [channel, n] of byChannel) out.push(`sms_status_messages_final_total${labels({ outcome, channel })} ${n}`);
    family("sms_status_duplicates_total", "counter", "Retried reports answered 200 and not written again.");
    out.push(`sms_status_duplicates_total ${this.duplicates}`);
    family("sms_status_rejected_total", "counter", "Bodies refused as malformed, invalid or too large, by reason.");
    for (const [reason, n] of this.rejected) out.push(`sms_status_rejected_total${labels({ reason })} ${n}`);
    family("sms_status_unauthorized_total", "counter", "Requests refused for a missing or wrong token (401).");
    out.push(`sms_status_unauthorized_total ${this.refused.get("unauthorized") ?? 0}`);
    family("sms_status_forbidden_total", "counter", "Requests refused for their source address (403).");
    out.push(`sms_status_forbidden_total ${this.refused.get("forbidden") ?? 0}`);
    family("sms_status_invalid_signature_total", "counter", "Callbacks refused for a missing or wrong provider signature (401).");
    out.push(`sms_status_invalid_signature_total ${this.refused.get("signature") ?? 0}`);
    family("sms_status_write_errors_total", "counter", "Log writes that failed (answered 503).");
    out.push(`sms_status_write_errors_total ${this.writeErrors}`);
    if (this.#gauges.length > 0) {
      const sum = (read: (g: MetricsGauges) => number) => this.#gauges.reduce((total, g) => total + read(g), 0);
      family("sms_status_log_bytes_written_total", "counter", "Bytes appended to the log since start.");
      out.push(`sms_status_log_bytes_written_total ${sum((g) => g.logBytes())}`);
      family("sms_status_log_writable", "gauge", "1 while the log can be written, 0 otherwise.");
      out.push(`sms_status_log_writable ${this.#gauges.every((g) => g.logWritable()) ? 1 : 0}`);
      family("sms_status_duplicate_keys", "gauge", "Reports remembered for duplicate detection.");
      out.push(`sms_status_duplicate_keys ${sum((g) => g.duplicateKeys())}`);
    }
    if (this.#forwarders.length > 0) {
      const each = (name: string, type: string, help: string, read: (s: ForwardStats) => number) => {
        family(name, type, help);
        for (const { url, id, stats } of this.#forwarders) out.push(`${name}${labels({ url, id })} ${read(stats)}`);
      };
      each("sms_status_forward_delivered_total", "counter", "Entries forwarded and answered 2xx.", (s) => s.delivered);
      each("sms_status_forward_attempts_total", "counter", "Forwarding attempts, retries included.", (s) => s.attempts);
      each("sms_status_forward_failures_total", "counter", "Forwarding attempts that failed (not 2xx, reset, timeout).", (s) => s.failures);
      each("sms_status_forward_given_up_total", "counter", "Entries given up after the retry period.", (s) => s.givenUp);
      each("sms_status_forward_lag_entries", "gauge", "Entries read from the log and not yet forwarded.", (s) => s.pending);
      each("sms_status_forward_lag_seconds", "gauge", "Age of the oldest entry not yet forwarded.", (s) => s.lagSeconds);
      each("sms_status_forward_active", "gauge", "1 while forwarding to the URL, 0 after it answered 410 Gone.", (s) => (s.active ? 1 : 0));
    }
    if (this.#view) {
      const v = this.#view;
      family("sms_status_view_applied_total", "counter", "Log entries applied to the SQLite view since start.");
      out.push(`sms_status_view_applied_total ${v.applied}`);
      family("sms_status_view_failures_total", "counter", "Batches the SQLite view failed to apply (retried).");
      out.push(`sms_status_view_failures_total ${v.failures}`);
      family("sms_status_view_restarts_total", "counter", "Times the SQLite view's thread died and was started again.");
      out.push(`sms_status_view_restarts_total ${v.restarts}`);
      family("sms_status_view_running", "gauge", "1 while a thread applies the log to the SQLite view, 0 while it waits for a restart.");
      out.push(`sms_status_view_running ${v.running ? 1 : 0}`);
      family("sms_status_view_lag_entries", "gauge", "Entries read from the log and not yet in the SQLite view.");
      out.push(`sms_status_view_lag_entries ${v.pending}`);
      family("sms_status_view_lag_seconds", "gauge", "Age of the oldest entry not yet in the SQLite view (0 when caught up).");
      out.push(`sms_status_view_lag_seconds ${v.lagSeconds}`);
    }
    family("sms_status_ack_seconds", "histogram", "Time from request to answer for reports; Routee retries past 2 s.");
    let cumulative = 0;
    ACK_BUCKETS.forEach((le, i) => {
      cumulative += this.#ackCounts[i]!;
      out.push(`sms_status_ack_seconds_bucket${labels({ le: String(le) })} ${cumulative}`);
    });
    out.push(`sms_status_ack_seconds_bucket{le="+Inf"} ${this.#ackCount}`);
    out.push(`sms_status_ack_seconds_sum ${this.#ackSum}`);
    out.push(`sms_status_ack_seconds_count ${this.#ackCount}`);
    return out.join("\n") + "\n";
  }
}
