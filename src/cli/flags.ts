/**
 * The server's configuration: one table of flags, each with its environment variable, default and
 * check. Flags win over variables, variables over defaults. A bad value is a `UsageError` whose
 * message names the flag and what is allowed (the CLI prints it and exits 2).
 */
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { Allowlist, MIN_TOKEN_LENGTH, parseRanges } from "../http/access.ts";
import { LOG_FORMATS, type LogFormat } from "../core/entry.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_LOG, DEFAULT_PATH } from "../http/plugin.ts";
import { DEFAULT_DEDUPE_MAX_KEYS, DEFAULT_DEDUPE_WINDOW_MS } from "../journal/dedupe.ts";

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
  idleTimeout: number;
  /** The shared secret, from --token or read from --token-file. */
  token: string | null;
  tokenFile: string | null;
  allow: string[];
  trustProxy: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  metricsHost: string;
  /** null: no metrics listener. */
  metricsPort: number | null;
  docs: boolean;
}

interface FlagSpec {
  /** The long flag, without dashes. */
  flag: string;
  key: keyof ServeConfig;
  env: string[];
  boolean?: boolean;
  /** Repeatable flag; the variable holds a comma-separated list. `parse` gets the items joined by ",". */
  multiple?: boolean;
  value?: string;
  default: string;
  help: string;
  parse(raw: string, name: string): ServeConfig[keyof ServeConfig];
}

const optional = (raw: string): string | null => (raw === "" ? null : raw);

function list(check?: (item: string, name: string) => void) {
  return (raw: string, name: string): string[] => {
    const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
    for (const item of items) check?.(item, name);
    return items;
  };
}

function address(item: string, name: string): void {
  try {
    new Allowlist({ allow: [item] });
  } catch {
    throw new UsageError(`${name}: ${JSON.stringify(item)} is not an IP address, CIDR range or host name`);
  }
}

function ipRange(item: string, name: string): void {
  try {
    parseRanges([item]);
  } catch {
    throw new UsageError(`${name}: ${JSON.stringify(item)} is not an IP address or CIDR range`);
  }
}

function readableFile(raw: string, name: string): string | null {
  if (raw === "") return null;
  try {
    accessSync(raw, constants.R_OK);
  } catch {
    throw new UsageError(`${name}: cannot read ${raw}`);
  }
  if (!statSync(raw).isFile()) throw new UsageError(`${name}: ${raw} is not a file`);
  return raw;
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
    default: String(DEFAULT_DEDUPE_MAX_KEYS), help: "reports remembered to drop retries (0 turns it off; ~140 B each)",
    parse: wholeNumber(0, 10_000_000) },
  { flag: "dedupe-hours", key: "dedupeHours", env: ["SMS_STATUS_DEDUPE_HOURS"], value: "H",
    default: String(DEFAULT_DEDUPE_WINDOW_MS / 3600_000), help: "how long a report is remembered",
    parse: wholeNumber(1, 24 * 30) },
  { flag: "idle-timeout", key: "idleTimeout", env: ["SMS_STATUS_IDLE_TIMEOUT"], value: "S", default: "10",
    help: "close kept-alive connections idle this long between requests", parse: wholeNumber(1, 255) },
  { flag: "token", key: "token", env: ["SMS_STATUS_TOKEN"], value: "SECRET", default: "",
    help: "require ?token=SECRET or 'Authorization: Bearer SECRET' (16+ characters)",
    parse: (raw, name) => {
      if (raw !== "" && raw.length < MIN_TOKEN_LENGTH)
        throw new UsageError(`${name} must be at least ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 24)`);
      return optional(raw);
    } },
  { flag: "token-file", key: "tokenFile", env: ["SMS_STATUS_TOKEN_FILE"], value: "FILE", default: "",
    help: "read the token from a file (keeps it out of ps and shell history)", parse: readableFile },
  { flag: "allow", key: "allow", env: ["SMS_STATUS_ALLOW"], multiple: true, value: "ADDR", default: "",
    help: "allowed sources: IPs, CIDRs or host names like callbacksallow.routee.net (repeatable)",
    parse: list(address) },
  { flag: "trust-proxy", key: "trustProxy", env: ["SMS_STATUS_TRUST_PROXY"], multiple: true, value: "CIDR", default: "",
    help: "proxies whose X-Forwarded-For is believed for --allow (repeatable)", parse: list(ipRange) },
  { flag: "tls-cert", key: "tlsCert", env: ["SMS_STATUS_TLS_CERT"], value: "FILE", default: "",
    help: "serve HTTPS with this certificate (PEM, with --tls-key)", parse: readableFile },
  { flag: "tls-key", key: "tlsKey", env: ["SMS_STATUS_TLS_KEY"], value: "FILE", default: "",
    help: "private key for --tls-cert (PEM)", parse: readableFile },
  { flag: "metrics-host", key: "metricsHost", env: ["SMS_STATUS_METRICS_HOST"], value: "ADDR", default: "127.0.0.1",
    help: "address of the metrics listener", parse: nonEmpty },
  { flag: "metrics-port", key: "metricsPort", env: ["SMS_STATUS_METRICS_PORT"], value: "N", default: "",
    help: "serve Prometheus metrics at /metrics on this port (off when unset)",
    parse: (raw, name) => (raw === "" ? null : wholeNumber(0, 65535)(raw, name)) },
  { flag: "docs", key: "docs", env: ["SMS_STATUS_DOCS"], boolean: true, default: "false",
    help: "serve OpenAPI docs at /openapi (JSON at /openapi/json)", parse: boolean },
];

export type Env = Record<string, string | undefined>;

/** Parse the `serve` command's arguments (after the command word) and the environment. */
export function parseServeConfig(args: string[], env: Env): ServeConfig {
  const values = parseFlags(args, SERVE_FLAGS, false).values as Record<string, string | boolean | string[] | undefined>;
  const config: Partial<Record<keyof ServeConfig, unknown>> = {};
  for (const spec of SERVE_FLAGS) {
    const fromFlag = values[spec.flag];
    const fromEnvName = spec.env.find((name) => env[name] !== undefined && env[name] !== "");
    let raw: string;
    let name: string;
    if (fromFlag !== undefined) {
      raw = Array.isArray(fromFlag) ? fromFlag.join(",") : String(fromFlag);
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
  return checkCombinations(config as ServeConfig);
}

/** Rules that involve two flags. */
function checkCombinations(config: ServeConfig): ServeConfig {
  if (config.token !== null && config.tokenFile !== null)
    throw new UsageError("--token and --token-file are exclusive: give one");
  if (config.tokenFile !== null) {
    const token = readFileSync(config.tokenFile, "utf8").trim();
    if (token.length < MIN_TOKEN_LENGTH)
      throw new UsageError(`--token-file: the token in ${config.tokenFile} must be at least ${MIN_TOKEN_LENGTH} characters`);
    config.token = token;
  }
  if ((config.tlsCert === null) !== (config.tlsKey === null))
    throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
  if (config.trustProxy.length > 0 && config.allow.length === 0)
    throw new UsageError("--trust-proxy only matters with --allow");
  return config;
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
    const message = (error as Error).message.split("\n")[0]!.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message.replace(/^Unknown option/, "unknown flag"));
  }
}
