/**
 * `sms-status report`: messages (not callbacks) by outcome, delivery rate, cost, failures and
 * latency, from one or more JSONL logs, streamed.
 */
import { parseFlags, type Env } from "./flags.ts";
import { UsageError } from "./errors.ts";
import type { EntryKind } from "../core/entry.ts";
import { eachLine, parseStatusFields, readBlocks, receivedAtOf } from "../log/reader.ts";
import { PRICE_SCALE, type MessageOutcome } from "../status/tracker.ts";
import { MessageTable, type MessageSummary } from "../status/table.ts";
import { fillFromFields, ScannedReport, scanStatusLine } from "../status/scan.ts";
import {
  count,
  JSON_OPTION,
  LOG_OPTION,
  logFiles,
  parseWhen,
  percent,
  table,
  type Command,
  type OptionSpec,
} from "./output.ts";

export const GROUP_BY = ["status", "country", "operator", "campaign", "label"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

const GROUP_KEY: Record<GroupBy, (m: MessageSummary) => string | null> = {
  status: (m) => m.status,
  country: (m) => m.country,
  operator: (m) => m.operator,
  campaign: (m) => m.campaignTrackingId,
  label: (m) => m.label,
};

export interface ReportOptions {
  files: string[];
  /** Only reports received at or after this instant (ISO, as `toISOString()`). */
  since?: string | null;
  /** Only reports received before this instant. */
  until?: string | null;
  by?: GroupBy | null;
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

class Tally {
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

/**
 * Read the logs once and compute the report. Memory grows with the number of messages (see
 * `MessageTable`, about 235 bytes each), never with the number of lines.
 * @example await buildReport({ files: ["sms-status.log", "sms-status.log.1.gz"], since: "2024-05-01T00:00:00.000Z" })
 */
export async function buildReport(options: ReportOptions): Promise<Report> {
  const since = options.since ?? null;
  const until = options.until ?? null;
  const windowed = since !== null || until !== null;
  const outside = (at: string) => (since !== null && at < since) || (until !== null && at >= until);
  const table = new MessageTable();
  const scanned = new ScannedReport();
  const callbacks: Record<EntryKind, number> = { dlr: 0, campaign: 0, other: 0, rejected: 0 };
  const lines = { read: 0, unparseable: 0, outsideWindow: 0 };

  /** The ordinary path, for lines the byte scanner leaves alone (other kinds, hand-written). */
  function parseLine(line: string): void {
    // The window is checked on the raw line's first field, so skipped lines cost no parse.
    if (windowed) {
      const at = receivedAtOf(line);
      if (at !== null && outside(at)) {
        lines.outsideWindow += 1;
        return;
      }
    }
    const entry = parseStatusFields(line);
    if (entry === null) {
      lines.unparseable += 1;
      return;
    }
    if (windowed && receivedAtOf(line) === null && outside(normalise(entry.receivedAt))) {
      lines.outsideWindow += 1;
      return;
    }
    if (entry.kind in callbacks) callbacks[entry.kind] += 1;
    if (fillFromFields(entry, scanned)) table.add(scanned);
  }

  await readBlocks(options.files, (block) => {
    eachLine(block, (start, end) => {
      lines.read += 1;
      if (windowed) {
        const at = receivedAtBytes(block, start, end);
        if (at < 0) return parseLine(block.toString("utf8", start, end));
        const iso = start + at;
        if ((since !== null && compareAscii(block, iso, since) < 0) || (until !== null && compareAscii(block, iso, until) >= 0)) {
          lines.outsideWindow += 1;
          return;
        }
      }
      // Lines the server wrote are read from their bytes: no string, no object per line.
      if (!scanStatusLine(block, start, end, scanned)) return parseLine(block.toString("utf8", start, end));
      callbacks.dlr += 1;
      table.add(scanned);
    });
  });

  const total = new Tally();
  const groups = new Map<string, Tally>();
  const failures = new Map<string, number>();
  const latencies = new Float64Array(table.size);
  let delivered = 0;
  table.forEach((message) => {
    total.add(message.outcome, message.cost);
    if (options.by) {
      const key = GROUP_KEY[options.by](message) ?? NONE;
      let tally = groups.get(key);
      if (!tally) groups.set(key, (tally = new Tally()));
      tally.add(message.outcome, message.cost);
    }
    if (message.outcome === "failed") {
      const reason = message.detailedStatus ?? message.status ?? NONE;
      failures.set(reason, (failures.get(reason) ?? 0) + 1);
    }
    if (message.outcome === "delivered" && message.latency !== null) latencies[delivered++] = message.latency;
  });
  const sorted = latencies.subarray(0, delivered).sort();

  return {
    files: options.files,
    since,
    until,
    lines,
    callbacks,
    ...total.counts(),
    failures: [...failures]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([detailedStatus, messages]) => ({ detailedStatus, messages })),
    latency: { messages: delivered, p50: percentile(sorted, 50), p95: percentile(sorted, 95) },
    by: options.by ?? null,
    groups: options.by
      ? [...groups]
          .map(([key, tally]) => ({ key, ...tally.counts() }))
          .sort((a, b) => b.messages - a.messages || a.key.localeCompare(b.key))
      : null,
  };
}

const RECEIVED_PREFIX = Buffer.from('{"receivedAt":"');
/** `toISOString()` length: the receivedAt that `receivedAtOf` reads without parsing. */
const ISO_LENGTH = 24;

/**
 * Where `receivedAtOf` would find the line's receivedAt, in bytes from `start`, when it is ASCII
 * (so its bytes compare as the string would); -1 otherwise, for the string path to decide.
 */
function receivedAtBytes(bytes: Uint8Array, start: number, end: number): number {
  const from = RECEIVED_PREFIX.length;
  if (end - start <= from + ISO_LENGTH || bytes[start + from + ISO_LENGTH] !== 0x22) return -1;
  for (let i = 0; i < from; i++) if (bytes[start + i] !== RECEIVED_PREFIX[i]) return -1;
  for (let i = from; i < from + ISO_LENGTH; i++) if (bytes[start + i]! >= 0x80) return -1;
  return from;
}

/** The ASCII receivedAt at `bytes[at..]` against a `--since`/`--until` bound, as the strings compare. */
function compareAscii(bytes: Uint8Array, at: number, bound: string): number {
  const length = Math.min(ISO_LENGTH, bound.length);
  for (let i = 0; i < length; i++) {
    const d = bytes[at + i]! - bound.charCodeAt(i);
    if (d !== 0) return d;
  }
  return ISO_LENGTH - bound.length;
}

/** A `receivedAt` not in `toISOString()` form (hand-edited logs), made comparable. */
function normalise(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at : new Date(ms).toISOString();
}

/** A cost with 2 to 4 decimals (the exact figure is in --json). */
function money(n: number): string {
  return n.toFixed(4).replace(/0{1,2}$/, "");
}

/** The report as a person reads it. */
export function renderReport(r: Report): string {
  const out: string[] = [];
  const skipped = [
    r.lines.unparseable > 0 ? `${count(r.lines.unparseable)} unparseable skipped` : "",
    r.lines.outsideWindow > 0 ? `${count(r.lines.outsideWindow)} outside the window` : "",
  ].filter(Boolean);
  out.push(
    `Read ${count(r.lines.read)} ${r.lines.read === 1 ? "line" : "lines"} from ${r.files.join(", ")}${skipped.length ? ` (${skipped.join(", ")})` : ""}`,
  );
  if (r.since || r.until) out.push(`Window: reports received from ${r.since ?? "the start"} until ${r.until ?? "now"}`);
  out.push(
    `Callbacks: ${count(r.callbacks.dlr)} delivery reports, ${count(r.callbacks.campaign)} campaign, ` +
      `${count(r.callbacks.other)} other, ${count(r.callbacks.rejected)} rejected`,
    "",
  );
  const share = (n: number) => percent(r.messages === 0 ? null : n / r.messages);
  out.push(
    table(
      [
        ["Messages", "count", "share"],
        ["delivered", count(r.delivered), share(r.delivered)],
        ["failed", count(r.failed), share(r.failed)],
        ["pending", count(r.pending), share(r.pending)],
        ["total", count(r.messages), ""],
      ],
      new Set([1, 2]),
    ),
  );
  const latency =
    r.latency.messages === 0
      ? "- (no delivered message reported a latency)"
      : `p50 ${r.latency.p50} s, p95 ${r.latency.p95} s (${count(r.latency.messages)} delivered messages)`;
  out.push(
    table([
      ["Delivery rate", percent(r.deliveryRate)],
      ["Total cost", money(r.cost)],
      ["Latency", latency],
    ]),
  );
  if (r.failures.length > 0) {
    out.push(
      table(
        [["Failures by detailed status", "messages"], ...r.failures.map((f) => [f.detailedStatus, count(f.messages)])],
        new Set([1]),
      ),
    );
  }
  if (r.groups && r.by) {
    out.push(
      table(
        [
          [`By ${r.by}`, "messages", "delivered", "failed", "pending", "rate", "cost"],
          ...r.groups.map((g) => [
          g.key,
          count(g.messages),
          count(g.delivered),
          count(g.failed),
          count(g.pending),
          percent(g.deliveryRate),
            money(g.cost),
          ]),
        ],
        new Set([1, 2, 3, 4, 5, 6]),
      ),
    );
  }
  return out.join("\n");
}

export const REPORT_FLAGS: OptionSpec[] = [
  LOG_OPTION,
  { flag: "since", value: "24h|ISO", help: "only reports received since then (a duration back from now, or a date)" },
  { flag: "until", value: "24h|ISO", help: "only reports received before then" },
  { flag: "by", value: GROUP_BY.join("|"), help: "also break the messages down by this field" },
  JSON_OPTION,
];

export const report: Command = {
  usage: "report [--log FILE]... [FILE...] [--since 24h|ISO] [--until 24h|ISO] [--by FIELD] [--json]",
  flags: REPORT_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values, positionals } = parseFlags(args, REPORT_FLAGS, true);
    const by = values.by as string | undefined;
    if (by !== undefined && !GROUP_BY.includes(by as GroupBy))
      throw new UsageError(`--by must be one of ${GROUP_BY.join(", ")} (got ${JSON.stringify(by)})`);
    const now = new Date();
    const since = values.since === undefined ? null : parseWhen(String(values.since), "--since", now);
    const until = values.until === undefined ? null : parseWhen(String(values.until), "--until", now);
    if (since !== null && until !== null && since >= until)
      throw new UsageError(`--since (${since}) must be before --until (${until})`);
    const result = await buildReport({
      files: logFiles(values.log as string[] | undefined, positionals, env),
      since,
      until,
      by: (by as GroupBy | undefined) ?? null,
    });
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + "\n" : renderReport(result));
  },
};
