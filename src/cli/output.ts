/** What the log-reading commands (report, lookup, tail) share: flags, file lists, times, tables. */
import { CHANNEL_FILTERS, type ChannelFilter } from "../status/report.ts";
import { escapeChar, escapeControls } from "../core/escape.ts";
import { type Env } from "./flags.ts";
import { UsageError } from "./errors.ts";
import { DEFAULT_LOG } from "../core/defaults.ts";

/** One flag of a command, for `parseFlags` and for the help text. */
export interface OptionSpec {
  flag: string;
  short?: string;
  boolean?: boolean;
  multiple?: boolean;
  /** The value's placeholder in the help (`FILE`); absent for a boolean flag. */
  value?: string;
  help: string;
}

/** A command of the CLI besides `serve`. */
export interface Command {
  usage: string;
  flags: OptionSpec[];
  /** Resolves when done; throws `UsageError` (exit 2) or `LogReadError` (exit 1). */
  run(args: string[], env: Env): Promise<void>;
}

export const LOG_OPTION: OptionSpec = {
  flag: "log",
  multiple: true,
  value: "FILE",
  help: `log file to read; repeatable, files may also be given as arguments (default $SMS_STATUS_LOG or ${DEFAULT_LOG})`,
};

export const CHANNEL_OPTION: OptionSpec = {
  flag: "channel",
  value: CHANNEL_FILTERS.join("|"),
  help: "only this channel's messages (default sms for report and tail, all for lookup)",
};

/** The `--channel` value, checked. */
export function channelFlag(raw: string | undefined, fallback: ChannelFilter): ChannelFilter {
  if (raw === undefined) return fallback;
  if (!CHANNEL_FILTERS.includes(raw as ChannelFilter))
    throw new UsageError(`--channel must be one of ${CHANNEL_FILTERS.join(", ")} (got ${JSON.stringify(raw)})`);
  return raw as ChannelFilter;
}

export const JSON_OPTION: OptionSpec = { flag: "json", boolean: true, help: "print JSON instead of a table" };

/** The files to read: `--log` flags and positional arguments in the order given, else serve's default. */
export function logFiles(flagged: string[] | undefined, positionals: string[], env: Env): string[] {
  const files = [...(flagged ?? []), ...positionals];
  if (files.length > 0) return files;
  return [env.SMS_STATUS_LOG || DEFAULT_LOG];
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time from `--since`/`--until`: a duration back from `now` (`90m`, `24h`, `7d`) or
 * an ISO 8601 date or date-time (a date alone is midnight UTC). Returns the `toISOString()` form,
 * which compares as a string with the log's `receivedAt`.
 * @example parseWhen("24h", "--since", new Date("2024-05-02T00:00:00Z")) // "2024-05-01T00:00:00.000Z"
 */
export function parseWhen(raw: string, name: string, now = new Date()): string {
  const relative = /^(\d+)([smhdw])$/.exec(raw.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!).toISOString();
  const ms = /^\d{4}-\d\d-\d\d/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms))
    throw new UsageError(`${name} must be a duration such as 30m, 24h or 7d, or an ISO date (got ${JSON.stringify(raw)})`);
  return new Date(ms).toISOString();
}

/** A whole number flag value. */
export function wholeNumberFlag(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** Colours only for a person at a terminal, and never when NO_COLOR is set (no-color.org). */
export function useColour(env: Env, isTTY = process.stdout.isTTY === true): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === "");
}

/** A log value made safe to print on a terminal: a hostile field cannot move the cursor or recolour. */
export function safe(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? value : String(value);
  return escapeControls(s);
}

// JSON.stringify escapes C0 controls but leaves C1 controls (NEL, CSI) and U+2028/U+2029 raw.
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;

/** `--json` output: indented JSON in which no value can drive a terminal or break a line reader. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_UNSAFE, escapeChar) + "\n";
}

/** Rows (a header is just the first) in columns padded to their widest cell; `right` marks number columns. */
export function table(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** A count with thousands separators, independent of the machine's locale. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** A fraction as a percentage with one decimal, or `-` when there is nothing to divide. */
export function percent(ratio: number | null): string {
  return ratio === null ? "-" : `${(ratio * 100).toFixed(1)}%`;
}
