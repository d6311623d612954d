/**
 * `sms-status report`: messages (not callbacks) by outcome, delivery rate, cost, failures and
 * latency, from one or more JSONL logs (store/log-report.ts does the reading).
 */
import { GROUP_BY, type GroupBy, type Report } from "../status/report.ts";
import { LogStatus } from "../store/log-status.ts";
import { databaseFrom, DATABASE_URL_OPTION, DB_OPTION, statusOf, using } from "./database.ts";
import { UsageError } from "./errors.ts";
import { parseFlags, type Env } from "./flags.ts";
import {
  CHANNEL_OPTION,
  channelFlag,
  count,
  JSON_OPTION,
  jsonText,
  LOG_OPTION,
  logFiles,
  parseWhen,
  percent,
  safe,
  table,
  type Command,
  type OptionSpec,
} from "./output.ts";

/** A cost with 2 to 4 decimals (the exact figure is in --json). */
function money(n: number): string {
  return n.toFixed(4).replace(/0{1,2}$/, "");
}

/** `1 line`, `2 lines`, `1,204 lines`. */
function counted(n: number, noun: string): string {
  return `${count(n)} ${n === 1 ? noun : `${noun}s`}`;
}

/** The report as a person reads it. */
export function renderReport(r: Report): string {
  const out: string[] = [];
  const skipped = [
    r.lines.unparseable > 0 ? `${count(r.lines.unparseable)} unparseable skipped` : "",
    r.lines.outsideWindow > 0 ? `${count(r.lines.outsideWindow)} outside the window` : "",
  ].filter(Boolean);
  out.push(
    `Read ${counted(r.lines.read, "line")} from ${r.files.map(safe).join(", ")}${skipped.length ? ` (${skipped.join(", ")})` : ""}`,
  );
  if (r.channel !== "sms") out.push(`Channel: ${r.channel}`);
  if (r.since || r.until) out.push(`Window: reports received from ${r.since ?? "the start"} until ${r.until ?? "now"}`);
  out.push(
    `Callbacks: ${counted(r.callbacks.dlr, "delivery report")}, ${counted(r.callbacks.inbound, "inbound message")}, ` +
      `${count(r.callbacks.campaign)} campaign, ${count(r.callbacks.other)} other, ${count(r.callbacks.rejected)} rejected`,
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
      : `p50 ${r.latency.p50} s, p95 ${r.latency.p95} s (${counted(r.latency.messages, "delivered message")})`;
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
        [["Failures by detailed status", "messages"], ...r.failures.map((f) => [safe(f.detailedStatus), count(f.messages)])],
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
          safe(g.key),
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
  CHANNEL_OPTION,
  JSON_OPTION,
  DB_OPTION,
  DATABASE_URL_OPTION,
];

export const report: Command = {
  usage: "report [--log FILE]... [FILE...] [--db FILE | --database-url URL] [--since 24h|ISO] [--until 24h|ISO] [--by FIELD] [--channel C] [--json]",
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
    const channel = channelFlag(values.channel as string | undefined, "sms");
    const query = { since, until, by: (by as GroupBy | undefined) ?? null, channel };
    const db = databaseFrom(values, env, values.log !== undefined || positionals.length > 0);
    const result = db
      ? await using(db, (d) => statusOf(d).report(query))
      : await new LogStatus(logFiles(values.log as string[] | undefined, positionals, env)).report(query);
    process.stdout.write(values.json ? jsonText(result) : renderReport(result));
  },
};
