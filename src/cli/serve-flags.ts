/**
 * The `serve` command's flags: one table, each flag with its environment variable, default and
 * check. Flags win over variables, variables over defaults. The same table drives `--help` and the
 * README test that every flag is documented.
 */
import { readFileSync } from "node:fs";
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_DEDUPE_MAX_KEYS,
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_LOG,
  DEFAULT_PATH,
  MIN_TOKEN_LENGTH,
} from "../core/defaults.ts";
import { LOG_FORMATS } from "../core/render.ts";
import { Allowlist, parseRanges } from "../http/access.ts";
import { DEFAULT_PROVIDER, PROVIDERS, secretEnv } from "../providers/registry.ts";
import { MAX_LINE_BYTES } from "../log/reader.ts";

/**
 * The largest --body-limit: every stored body must fit in a line the readers, the view and
 * forwarding read (MAX_LINE_BYTES), and a rejected body's control characters take 6 bytes each.
 */
const MAX_BODY_LIMIT = Math.floor(MAX_LINE_BYTES / 6) - 1024;
import type { ServeConfig } from "../server/config.ts";
import { filters, parseForwardFilter, type ForwardFilter } from "../forward/filter.ts";
import { redact } from "../forward/forwarder.ts";
import { isHttpUrl, makeStateDir, repeatedUrl } from "../forward/state.ts";
import { webhookKey } from "../forward/signature.ts";
import { UsageError } from "./errors.ts";
import { boolean, list, nonEmpty, oneOf, optional, parseFlags, readableFile, wholeNumber, type Env } from "./flags.ts";

export interface FlagSpec {
  /** The long flag, without dashes. */
  flag: string;
  /** Where the parsed value goes; null for a flag that `apply` puts somewhere of its own. */
  key: keyof ServeConfig | null;
  apply?(config: ServeConfig, value: unknown): void;
  env: string[];
  boolean?: boolean;
  /** Repeatable flag; the variable holds a comma-separated list. `parse` gets the items joined by ",". */
  multiple?: boolean;
  value?: string;
  default: string;
  help: string;
  parse(raw: string, name: string): ServeConfig[keyof ServeConfig];
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

/** PostgreSQL as the journal, for a fleet of replicas (docs/database.md). */
const DATABASE_FLAGS: FlagSpec[] = [
  { flag: "database-url", key: "databaseUrl", env: ["SMS_STATUS_DATABASE_URL"], value: "URL", default: "",
    help: "PostgreSQL is the journal: answer 200 after COMMIT; replicas share it (no log file unless --log)", parse: postgresUrl },
  { flag: "replica", key: "replica", env: ["SMS_STATUS_REPLICA"], value: "NAME", default: "",
    help: "this receiver's name in the replica column (default: host name:port)", parse: optional },
  { flag: "db-statement-timeout", key: "dbStatementTimeout", env: ["SMS_STATUS_DB_STATEMENT_TIMEOUT"], value: "MS", default: "1500",
    help: "longest a transaction may take before the report gets 503 (inside Routee's 2 s)", parse: wholeNumber(100, 60_000) },
  { flag: "db-max-connections", key: "dbMaxConnections", env: ["SMS_STATUS_DB_MAX_CONNECTIONS"], value: "N", default: "5",
    help: "connections this replica opens (N-1 transactions in flight, 1 for health checks)", parse: wholeNumber(2, 1000) },
  { flag: "db-no-prepare", key: "dbNoPrepare", env: ["SMS_STATUS_DB_NO_PREPARE"], boolean: true, default: "false",
    help: "no prepared statements (PgBouncer in transaction mode)", parse: boolean },
];

export const SERVE_FLAGS: FlagSpec[] = [
  { flag: "provider", key: "providers", env: ["SMS_STATUS_PROVIDER"], multiple: true, value: "NAME", default: DEFAULT_PROVIDER,
    help: `receive this provider's callbacks (repeatable): ${PROVIDERS.map((p) => p.name).join(", ")}; routee at --path, others at --path/NAME`,
    parse: list(providerName) },
  { flag: "public-url", key: "publicUrl", env: ["SMS_STATUS_PUBLIC_URL"], value: "URL", default: "",
    help: "the scheme, host and port providers call, when a proxy changes them (signatures cover it)", parse: origin },
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
    parse: wholeNumber(256, MAX_BODY_LIMIT) },
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
  { flag: "forward", key: "forward", env: ["SMS_STATUS_FORWARD"], multiple: true, value: "URL", default: "",
    help: "POST every entry to this URL, signed as Standard Webhooks say, at least once (repeatable)", parse: list(httpUrl) },
  { flag: "forward-secret-file", key: "forwardSecretFile", env: ["SMS_STATUS_FORWARD_SECRET_FILE"], value: "FILE", default: "",
    help: "the whsec_ secret that signs forwarded webhooks", parse: readableFile },
  { flag: "forward-filter", key: "forwardFilter", env: ["SMS_STATUS_FORWARD_FILTER"], value: "TERMS", default: "",
    help: "forward only these kinds, outcomes, channels, final statuses or message-status changes (e.g. dlr,failed,sms; changes)", parse: forwardFilter },
  { flag: "forward-timeout", key: "forwardTimeout", env: ["SMS_STATUS_FORWARD_TIMEOUT"], value: "S", default: "10",
    help: "seconds one forwarding attempt may take", parse: wholeNumber(1, 300) },
  { flag: "forward-batch", key: "forwardBatch", env: ["SMS_STATUS_FORWARD_BATCH"], value: "N", default: "1",
    help: "entries per webhook: above 1, sms_status.batch webhooks of up to N entries (your application must take them)", parse: wholeNumber(1, 1000) },
  { flag: "forward-state-dir", key: "forwardStateDir", env: ["SMS_STATUS_FORWARD_STATE_DIR"], value: "DIR", default: "",
    help: "where forwarders keep their positions (default: beside the log)", parse: (raw) => (raw === "" ? null : raw) },
  { flag: "api-host", key: "apiHost", env: ["SMS_STATUS_API_HOST"], value: "ADDR", default: "127.0.0.1",
    help: "address of the read API's listener (off loopback it needs --api-token)", parse: nonEmpty },
  { flag: "api-port", key: "apiPort", env: ["SMS_STATUS_API_PORT"], value: "N", default: "",
    help: "serve the read API (/v1/messages, /v1/report, /v1/events) on this port (off when unset)",
    parse: (raw, name) => (raw === "" ? null : wholeNumber(0, 65535)(raw, name)) },
  { flag: "api-token", key: "apiToken", env: ["SMS_STATUS_API_TOKEN"], value: "SECRET", default: "",
    help: "require 'Authorization: Bearer SECRET' on the read API (16+ characters)",
    parse: (raw, name) => {
      if (raw !== "" && raw.length < MIN_TOKEN_LENGTH)
        throw new UsageError(`${name} must be at least ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 24)`);
      return optional(raw);
    } },
  { flag: "api-token-file", key: "apiTokenFile", env: ["SMS_STATUS_API_TOKEN_FILE"], value: "FILE", default: "",
    help: "read the API token from a file", parse: readableFile },
  { flag: "db", key: "db", env: ["SMS_STATUS_DB"], value: "FILE", default: "",
    help: "keep a SQLite view of the log in FILE for lookup, report and your queries (default: <log>.db)",
    parse: (raw) => (raw === "" ? null : raw) },
  { flag: "no-db", key: "noDb", env: ["SMS_STATUS_NO_DB"], boolean: true, default: "false",
    help: "keep no SQLite view beside the log", parse: boolean },
  { flag: "docs", key: "docs", env: ["SMS_STATUS_DOCS"], boolean: true, default: "false",
    help: "serve the OpenAPI document at /openapi/json", parse: boolean },
  ...DATABASE_FLAGS,
];

/** Parse the `serve` command's arguments (after the command word) and the environment. */
export function parseServeConfig(args: string[], env: Env): ServeConfig {
  const values = parseFlags(args, SERVE_FLAGS, false).values as Record<string, string | boolean | string[] | undefined>;
  const config: Partial<Record<keyof ServeConfig, unknown>> = { providerSecrets: {}, unsigned: [] };
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
    const value = spec.parse(raw, name);
    if (spec.key !== null) config[spec.key] = value;
    else spec.apply?.(config as ServeConfig, value);
  }
  config.logGiven = values.log !== undefined || Boolean(env.SMS_STATUS_LOG);
  return checkProviders(checkDatabase(checkCombinations(config as ServeConfig)), env);
}

/** `postgres://…`, or "" for none. */
function postgresUrl(raw: string, name: string): string | null {
  if (raw === "") return null;
  if (!/^postgres(ql)?:\/\/./i.test(raw))
    throw new UsageError(`${name} must be a PostgreSQL URL such as postgres://sms:PASSWORD@db.example.com/sms`);
  return raw;
}

/** Flags that only mean something with a database, and what the database changes. */
function checkDatabase(config: ServeConfig): ServeConfig {
  if (config.databaseUrl === null) return config;
  if (config.forward.length > 0 && !config.logGiven)
    throw new UsageError("--forward reads the log: with --database-url, give --log FILE too (the copy written after the commit)");
  // The database is the journal and holds the statuses: no SQLite view of the copy.
  if (config.db !== null && !config.noDb && config.db !== `${config.log}.db`)
    throw new UsageError("--db keeps a view of the log; with --database-url the database already holds the statuses");
  config.db = null;
  return config;
}

/** Every signing provider enabled has its secrets (from the environment or a file), or is explicitly unsigned. */
function checkProviders(config: ServeConfig, env: Env): ServeConfig {
  for (const name of config.providers) {
    const spec = PROVIDERS.find((p) => p.name === name)!;
    const secrets = (config.providerSecrets[name] ??= {});
    for (const secret of spec.secrets) {
      const fromEnv = env[secretEnv(name, secret.name)]?.trim();
      if (secrets[secret.name] === undefined && fromEnv) secrets[secret.name] = fromEnv;
    }
    for (const secret of spec.secrets) {
      const why = secrets[secret.name] ? secret.check?.(secrets[secret.name]!) : null;
      if (why) throw new UsageError(`${secretEnv(name, secret.name)} (or --${name}-${secret.name}-file) ${why}`);
    }
    const missing = spec.secrets.filter((secret) => !secrets[secret.name]);
    if (missing.length > 0 && !config.unsigned.includes(name)) {
      const [first] = missing;
      throw new UsageError(
        `--provider ${name} checks signatures and needs its ${first!.name.replaceAll("-", " ")}: set ${secretEnv(name, first!.name)} ` +
          `or --${name}-${first!.name}-file FILE (or --${name}-unsigned to accept unsigned callbacks)`,
      );
    }
  }
  return config;
}

/** Per provider that signs: a file flag for each secret, and an explicit way to accept unsigned callbacks. */
function providerFlags(): FlagSpec[] {
  return PROVIDERS.flatMap((spec) =>
    spec.secrets.length === 0
      ? []
      : [
          ...spec.secrets.map(
            (secret): FlagSpec => ({
              flag: `${spec.name}-${secret.name}-file`,
              key: null,
              env: [`${secretEnv(spec.name, secret.name)}_FILE`],
              value: "FILE",
              default: "",
              help: `${secret.help}, read from FILE (or the value itself in ${secretEnv(spec.name, secret.name)})`,
              parse: readableFile,
              apply(config, file) {
                if (typeof file !== "string") return;
                ((config.providerSecrets ??= {})[spec.name] ??= {})[secret.name] = readFileSync(file, "utf8").trim();
              },
            }),
          ),
          {
            flag: `${spec.name}-unsigned`,
            key: null,
            env: [secretEnv(spec.name, "unsigned")],
            boolean: true,
            default: "false",
            help: `accept ${spec.name} callbacks without checking their signature (say so explicitly)`,
            parse: boolean,
            apply(config, unsigned) {
              if (unsigned === true) (config.unsigned ??= []).push(spec.name);
            },
          },
        ],
  );
}

/** 127.0.0.1, ::1, localhost: reachable from this machine only. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** An http(s) URL to forward to. */
function httpUrl(item: string, name: string): void {
  if (!isHttpUrl(item)) throw new UsageError(`${name}: ${JSON.stringify(item)} is not an http or https URL`);
}

/** `dlr,failed,sms,final`: see forward/filter.ts. */
function forwardFilter(raw: string, name: string): ForwardFilter {
  try {
    return parseForwardFilter(raw);
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
}

/** A provider name from the registry. */
function providerName(item: string, name: string): void {
  if (!PROVIDERS.some((p) => p.name === item))
    throw new UsageError(`${name}: unknown provider ${JSON.stringify(item)} (providers: ${PROVIDERS.map((p) => p.name).join(", ")})`);
}

/** The public URL's scheme, host and port: what a provider calls (no path, query or fragment). */
function origin(raw: string, name: string): string | null {
  if (raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${name} must be a URL such as https://sms.example.com (got ${JSON.stringify(raw)})`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash || (url.pathname !== "/" && url.pathname !== ""))
    throw new UsageError(`${name} must be a scheme, host and port only, such as https://sms.example.com (got ${JSON.stringify(raw)})`);
  return url.origin;
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
  if (config.apiToken !== null && config.apiTokenFile !== null)
    throw new UsageError("--api-token and --api-token-file are exclusive: give one");
  if (config.apiTokenFile !== null) {
    const token = readFileSync(config.apiTokenFile, "utf8").trim();
    if (token.length < MIN_TOKEN_LENGTH)
      throw new UsageError(`--api-token-file: the token in ${config.apiTokenFile} must be at least ${MIN_TOKEN_LENGTH} characters`);
    config.apiToken = token;
  }
  if (config.apiPort !== null && config.apiToken === null && !isLoopback(config.apiHost))
    throw new UsageError(`--api-host ${config.apiHost} is not loopback: give the read API a token (--api-token-file FILE)`);
  if (config.apiToken !== null && config.apiToken === config.token)
    throw new UsageError("--api-token must differ from --token: the callback token is in Routee's URLs");
  config.forwardSecret = null;
  if (config.forward.length === 0) {
    // Given without --forward, these would silently do nothing.
    const idle = [
      ["--forward-secret-file", config.forwardSecretFile !== null],
      ["--forward-filter", filters(config.forwardFilter)],
      ["--forward-batch", config.forwardBatch !== 1],
      ["--forward-state-dir", config.forwardStateDir !== null],
    ].find(([, given]) => given);
    if (idle) throw new UsageError(`${idle[0]} only matters with --forward URL`);
  }
  if (config.forward.length > 0) {
    const twice = repeatedUrl(config.forward);
    if (twice !== null) throw new UsageError(`--forward: ${redact(twice)} is given twice`);
    if (config.forwardStateDir !== null) {
      try {
        makeStateDir(config.forwardStateDir);
      } catch (error) {
        throw new UsageError(`--forward-state-dir: ${(error as Error).message}`);
      }
    }
    if (config.forwardSecretFile === null)
      throw new UsageError("--forward needs --forward-secret-file FILE holding a whsec_ secret (try: echo whsec_$(openssl rand -base64 32) > FILE)");
    if (config.format !== "jsonl") throw new UsageError("--forward reads the log back: it needs --format jsonl");
    config.forwardSecret = readFileSync(config.forwardSecretFile, "utf8").trim();
    try {
      webhookKey(config.forwardSecret);
    } catch (error) {
      throw new UsageError(`--forward-secret-file: ${(error as Error).message}`);
    }
  }
  checkView(config);
  return config;
}

/** The view follows a JSONL log: on by default beside it, off for text or with --no-db. */
function checkView(config: ServeConfig): void {
  if (config.noDb && config.db !== null) throw new UsageError("--db and --no-db are exclusive: give one");
  if (config.format !== "jsonl") {
    if (config.db !== null) throw new UsageError("--db reads the log back: it needs --format jsonl");
    return;
  }
  if (!config.noDb) config.db ??= `${config.log}.db`;
}

SERVE_FLAGS.push(...providerFlags());
