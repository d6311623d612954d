/**
 * The server's configuration: one table of flags, each with its environment variable, default and
 * check. Flags win over variables, variables over defaults. A bad value is a `UsageError` whose
 * message names the flag and what is allowed (the CLI prints it and exits 2).
 */
import { parseArgs } from "node:util";
import { LOG_FORMATS, type LogFormat } from "./entry.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_LOG, DEFAULT_PATH } from "./plugin.ts";
import { DEFAULT_DEDUPE_MAX_KEYS, DEFAULT_DEDUPE_WINDOW_MS } from "./dedupe.ts";

export class UsageError extends Error {}

export interface ServeConfig {
  port: number;
  host: string;
  path: string;
  log: string;
  format: LogFormat;
  fsync: boolean;
  bodyLimit: number;
  dedupeKeys: number;
  dedupeHours: number;
  docs: boolean;
}

interface FlagSpec {
  /** The long flag, without dashes. */
  flag: string;
  key: keyof ServeConfig;
  env: string[];
  boolean?: boolean;
  value?: string;
  default: string;
  help: string;
  parse(raw: string, name: string): ServeConfig[keyof ServeConfig];
}

function wholeNumber(min: number, max: number) {
  return (raw: string, name: string): number => {
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || n < min || n > max)
      throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return n;
  };
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (raw: string, name: string): T => {
    if (!allowed.includes(raw as T))
      throw new UsageError(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
    return raw as T;
  };
}

function nonEmpty(raw: string, name: string): string {
  if (raw.trim() === "") throw new UsageError(`${name} must not be empty`);
  return raw;
}

function boolean(raw: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  throw new UsageError(`${name} must be true or false (got ${JSON.stringify(raw)})`);
}

export const SERVE_FLAGS: FlagSpec[] = [
  { flag: "port", key: "port", env: ["SMS_STATUS_PORT", "PORT"], value: "N", default: "3000",
    help: "TCP port to listen on (0 picks a free one)", parse: wholeNumber(0, 65535) },
  { flag: "host", key: "host", env: ["SMS_STATUS_HOST"], value: "ADDR", default: "0.0.0.0",
    help: "address to listen on", parse: nonEmpty },
  { flag: "path", key: "path", env: ["SMS_STATUS_PATH"], value: "PATH", default: DEFAULT_PATH,
    help: "path of the callback route",
    parse: (raw, name) => {
      if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/-]*$/.test(raw))
        throw new UsageError(`${name} must be a URL path starting with "/" (got ${JSON.stringify(raw)})`);
      return raw;
    } },
  { flag: "log", key: "log", env: ["SMS_STATUS_LOG"], value: "FILE", default: DEFAULT_LOG,
    help: "log file to append to (parent directories are created)", parse: nonEmpty },
  { flag: "format", key: "format", env: ["SMS_STATUS_FORMAT"], value: LOG_FORMATS.join("|"), default: "jsonl",
    help: "log format: one JSON object per line, or the original PHP script's text",
    parse: oneOf(LOG_FORMATS) },
  { flag: "fsync", key: "fsync", env: ["SMS_STATUS_FSYNC"], boolean: true, default: "false",
    help: "fdatasync each batch before answering (survives power loss; slower)", parse: boolean },
  { flag: "body-limit", key: "bodyLimit", env: ["SMS_STATUS_BODY_LIMIT"], value: "BYTES",
    default: String(DEFAULT_BODY_LIMIT), help: "largest accepted body; larger ones get 413",
    parse: wholeNumber(256, 16 << 20) },
  { flag: "dedupe-keys", key: "dedupeKeys", env: ["SMS_STATUS_DEDUPE_KEYS"], value: "N",
    default: String(DEFAULT_DEDUPE_MAX_KEYS), help: "reports remembered to drop retries (0 turns it off; ~120 B each)",
    parse: wholeNumber(0, 10_000_000) },
  { flag: "dedupe-hours", key: "dedupeHours", env: ["SMS_STATUS_DEDUPE_HOURS"], value: "H",
    default: String(DEFAULT_DEDUPE_WINDOW_MS / 3600_000), help: "how long a report is remembered",
    parse: wholeNumber(1, 24 * 30) },
  { flag: "docs", key: "docs", env: ["SMS_STATUS_DOCS"], boolean: true, default: "false",
    help: "serve OpenAPI docs at /openapi (JSON at /openapi/json)", parse: boolean },
];

export type Env = Record<string, string | undefined>;

/** Parse the `serve` command's arguments (after the command word) and the environment. */
export function parseServeConfig(args: string[], env: Env): ServeConfig {
  const values = parseFlags(args, SERVE_FLAGS, false).values;
  const config: Partial<Record<keyof ServeConfig, unknown>> = {};
  for (const spec of SERVE_FLAGS) {
    const fromFlag = values[spec.flag];
    const fromEnvName = spec.env.find((name) => env[name] !== undefined && env[name] !== "");
    let raw: string;
    let name: string;
    if (fromFlag !== undefined) {
      raw = typeof fromFlag === "boolean" ? String(fromFlag) : String(fromFlag);
      name = `--${spec.flag}`;
    } else if (fromEnvName) {
      raw = env[fromEnvName]!;
      name = fromEnvName;
    } else {
      raw = spec.default;
      name = `--${spec.flag}`;
    }
    config[spec.key] = spec.parse(raw, name);
  }
  return config as ServeConfig;
}

/** node:util parseArgs with its errors turned into one-line usage errors. */
export function parseFlags(
  args: string[],
  specs: { flag: string; boolean?: boolean; short?: string; multiple?: boolean }[],
  allowPositionals: boolean,
) {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const spec of specs) {
    options[spec.flag] = { type: spec.boolean ? "boolean" : "string" };
    if (spec.short) options[spec.flag]!.short = spec.short;
    if (spec.multiple) options[spec.flag]!.multiple = true;
  }
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) throw error;
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message.replace(/^Unknown option/, "unknown flag"));
  }
}
