/** `sms-status tail`: the log for people, one line per entry, optionally following it. */
import { statSync } from "node:fs";
import { parseFlags, type Env } from "./flags.ts";
import { UsageError } from "./errors.ts";
import { EntryKind, type LogEntry } from "../core/entry.ts";
import { LogFollower } from "../log/follow.ts";
import { isGzip, lastLines, parseEntry, TextFormatDetector } from "../log/reader.ts";
import { TextFormatLogError } from "../core/errors.ts";
import { OUTCOMES, type Outcome } from "../core/outcome.ts";
import { inChannel, type ChannelFilter } from "../status/report.ts";
import { CHANNEL_OPTION, channelFlag, LOG_OPTION, logFiles, safe, useColour, wholeNumberFlag, type Command, type OptionSpec } from "./output.ts";
import { CommandError } from "./errors.ts";
import { databaseFrom, DATABASE_URL_OPTION, DB_OPTION, statusOf, using, type Database } from "./database.ts";

const KINDS = EntryKind.anyOf.map((k) => k.const) as EntryKind[];

const COLOURS: Record<string, string> = {
  delivered: "32", // green
  failed: "31", // red
  pending: "33", // yellow
  unknown: "2", // dim
  rejected: "35", // magenta
};

export interface TailFilter {
  outcome?: Outcome;
  kind?: EntryKind;
  /** Entries without a channel (rejected bodies, unknown objects) always pass. @default "all" */
  channel?: ChannelFilter;
}

/** Does the entry pass the filter? */
export function matches(entry: LogEntry, filter: TailFilter): boolean {
  return (
    (!filter.outcome || entry.outcome === filter.outcome) &&
    (!filter.kind || entry.kind === filter.kind) &&
    inChannel(entry.channel, filter.channel ?? "all")
  );
}

/**
 * One entry as one line for people: time, outcome, recipient, message and part, status, price,
 * network and label. Every value is escaped, so a hostile field cannot forge a line or colour.
 * @example renderTailLine(entry, false) // "2024-05-01T10:28:49.123Z  delivered  +306948530920  msg-1  Delivered  0.036  GR/Cosmote  otp"
 */
export function renderTailLine(entry: LogEntry, colour: boolean): string {
  const paint = (code: string | undefined, text: string) => (colour && code ? `\x1b[${code}m${text}\x1b[0m` : text);
  const label = entry.kind === "dlr" ? entry.outcome : entry.kind;
  const fields: string[] = [paint("2", safe(entry.receivedAt)), paint(COLOURS[label], label.padEnd(9))];
  // Other channels say which they are; SMS, the mission, goes without.
  if (entry.channel && entry.channel !== "sms") fields.push(safe(entry.channel));
  if (entry.kind === "dlr") {
    const part = entry.parts !== null && entry.parts > 1 ? ` part ${entry.part ?? "?"}/${entry.parts}` : "";
    const status = entry.detailedStatus && entry.detailedStatus !== entry.status
      ? `${safe(entry.status)}: ${safe(entry.detailedStatus)}`
      : safe(entry.status ?? "(no status)");
    fields.push(safe(entry.to ?? "-"), safe(entry.messageId ?? entry.trackingId) + part, status);
    if (entry.price !== null) fields.push(String(entry.price));
    const network = [entry.country, entry.operator].filter(Boolean).map(safe).join("/");
    if (network) fields.push(network);
    if (entry.label) fields.push(safe(entry.label));
  } else if (entry.kind === "inbound") {
    fields.push(`from ${safe(entry.from ?? "-")} to ${safe(entry.to ?? "-")}`, safe(entry.messageId ?? ""));
  } else if (entry.kind === "campaign") {
    fields.push(`campaign ${safe(entry.campaignTrackingId)}`, safe(entry.campaignName ?? ""), safe(entry.status ?? ""));
  } else if (entry.kind === "rejected") {
    fields.push(entry.error ? `${safe(entry.error.reason)}: ${safe(entry.error.message)}` : "rejected");
  } else if (entry.channel === "failover") {
    fields.push(`flow ${safe(entry.trackingId ?? "-")}`, safe(entry.status ?? ""));
  } else {
    fields.push("not a delivery report");
  }
  return fields.filter((f) => f !== "").join("  ");
}

export const TAIL_FLAGS: OptionSpec[] = [
  LOG_OPTION,
  { flag: "follow", short: "f", boolean: true, help: "keep printing new entries, across log rotations" },
  { flag: "lines", short: "n", value: "N", help: "how many of the last entries to print first (default 10)" },
  { flag: "outcome", value: OUTCOMES.join("|"), help: "only entries with this outcome" },
  { flag: "kind", value: KINDS.join("|"), help: "only entries of this kind" },
  CHANNEL_OPTION,
  DB_OPTION,
  DATABASE_URL_OPTION,
];

/** How often `tail -f` on a database asks for new rows. */
const POLL_MS = 200;

function oneOf<T extends string>(raw: unknown, allowed: readonly T[], name: string): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T))
    throw new UsageError(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
  return raw as T;
}

export const tail: Command = {
  usage: "tail [-f] [-n N] [--outcome OUTCOME] [--kind KIND] [--channel C] [--log FILE]... [FILE...] [--db FILE | --database-url URL]",
  flags: TAIL_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values, positionals } = parseFlags(args, TAIL_FLAGS, true);
    const filter: TailFilter = {
      outcome: oneOf(values.outcome, OUTCOMES, "--outcome"),
      kind: oneOf(values.kind, KINDS, "--kind"),
      channel: channelFlag(values.channel as string | undefined, "sms"),
    };
    const n = wholeNumberFlag(values.lines as string | undefined, "--lines", 10);
    const db = databaseFrom(values, env, values.log !== undefined || positionals.length > 0);
    if (db) return tailDatabase(db, n, filter, values.follow === true, useColour(env));
    const files = logFiles(values.log as string[] | undefined, positionals, env);
    const follow = values.follow === true;
    const followed = files[files.length - 1]!;
    const colour = useColour(env);
    const print = (entries: LogEntry[]) => {
      if (entries.length > 0) process.stdout.write(entries.map((e) => renderTailLine(e, colour)).join("\n") + "\n");
    };
    const keep = (line: string) => {
      const entry = parseEntry(line);
      return entry !== null && matches(entry, filter);
    };

    // With -f, remember where the followed file ends now, so nothing written meanwhile is missed.
    let end: number | undefined;
    if (follow) {
      try {
        if (isGzip(followed)) throw new UsageError(`-f follows a plain log file, and ${followed} is gzip-compressed`);
        end = statSync(followed).size;
      } catch (error) {
        if (error instanceof UsageError) throw error;
        end = undefined; // not there yet: wait for it
      }
    }

    const chosen: string[][] = [];
    let need = n;
    for (let i = files.length - 1; i >= 0 && need > 0; i--) {
      const file = files[i]!;
      if (follow && file === followed && end === undefined) continue;
      const lines = await lastLines(file, need, keep, file === followed ? end : undefined);
      chosen.unshift(lines);
      need -= lines.length;
    }
    print(chosen.flat().map((line) => parseEntry(line)!));
    if (!follow) return;

    await new Promise<void>((_resolve, reject) => {
      let detector: TextFormatDetector | null = end === undefined || end === 0 ? new TextFormatDetector() : null;
      const follower = new LogFollower(
        followed,
        (lines) => {
          // A file created after we started may be a text-format log too.
          if (detector && lines.some((line) => detector!.see(line))) throw new TextFormatLogError(followed);
          if (detector?.done) detector = null;
          const entries: LogEntry[] = [];
          for (const line of lines) {
            const entry = parseEntry(line);
            if (entry && matches(entry, filter)) entries.push(entry);
          }
          print(entries);
        },
        (error) => reject(error instanceof TextFormatLogError ? error : new CommandError(`cannot follow ${followed}: ${(error as Error).message}`)),
        end === undefined ? {} : { from: end },
      );
      // SIGINT/SIGTERM end the process as for any tail; nothing to flush.
      void follower;
    });
  },
};

/** `tail` on a database: the last N rows, then (-f) new rows by id, polled. */
async function tailDatabase(db: Database, n: number, filter: TailFilter, follow: boolean, colour: boolean): Promise<void> {
  await using(db, async (d) => {
    const status = statusOf(d);
    // The highest id before the last rows are read: rows committed meanwhile are printed by -f.
    let last = follow ? await status.lastId() : 0;
    const first = n === 0 ? [] : await status.last(n, filter);
    const shown = first.filter((row) => !follow || row.id <= last);
    if (shown.length > 0) process.stdout.write(shown.map((r) => renderTailLine(r.entry, colour)).join("\n") + "\n");
    if (!follow) return;
    for (;;) {
      const rows = await status.after(last);
      if (rows.length > 0) {
        last = rows[rows.length - 1]!.id;
        const lines = rows.filter((r) => matches(r.entry, filter)).map((r) => renderTailLine(r.entry, colour));
        if (lines.length > 0) process.stdout.write(lines.join("\n") + "\n");
      }
      if (rows.length < 1000) await Bun.sleep(POLL_MS);
    }
  });
}
