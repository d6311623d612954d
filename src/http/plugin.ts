/**
 * The Elysia plugin: `POST /sms/status` for Routee's delivery reports and `GET /healthz`, in any
 * Elysia app with one `.use()`. The plugin is the only module that knows Elysia: it owns the
 * options, the routes and their OpenAPI description, and hands each request to the receiver
 * (src/receiver.ts), which validates it with TypeBox, classifies it and writes it to the journal.
 */
import { Elysia } from "elysia";
import { Allowlist } from "./access.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_LOG, DEFAULT_PATH, HEALTH_PATH, MIN_TOKEN_LENGTH } from "../core/defaults.ts";
import { HEALTH_RESPONSES, REPORT_RESPONSES } from "./answers.ts";
import type { DuplicateFilterOptions } from "../journal/dedupe.ts";
import { type LogEntry } from "../core/entry.ts";
import { LOG_FORMATS, type LogFormat } from "../core/render.ts";
import { FileJournal, type Journal } from "../journal/file-journal.ts";
import { Metrics } from "./metrics.ts";
import { RouteeCallback } from "../providers/routee/schema.ts";
import { createReceiver, type Receiver } from "./receiver.ts";

export { answer } from "./receiver.ts";

export interface SmsStatusOptions {
  /** Path of the callback route. @default "/sms/status" */
  path?: string;
  /** Log file to append to (ignored when `journal` is given). @default "./sms-status.log" */
  log?: string;
  /** A journal of your own instead of the file at `log`. */
  journal?: Journal;
  /** How entries are written. @default "jsonl" */
  format?: LogFormat;
  /** fdatasync each batch of entries before answering. @default false */
  fsync?: boolean;
  /** Largest accepted body in bytes; larger bodies get 413. @default 65536 */
  bodyLimit?: number;
  /** Duplicate detection settings, or `false` to write every retry. @default 48 h, 50 000 keys */
  dedupe?: DuplicateFilterOptions | false;
  /** Path of the health check, or `false` for none. @default "/healthz" */
  healthPath?: string | false;
  /**
   * Shared secret the callback must carry as `?token=` or `Authorization: Bearer`; others get 401
   * and nothing is written. @default none
   */
  token?: string;
  /**
   * Source addresses allowed to post: IPs, CIDRs or host names such as `callbacksallow.routee.net`
   * (or an `Allowlist` you started yourself). Others get 403. @default everyone
   */
  allow?: readonly string[] | Allowlist;
  /** Proxies (IPs/CIDRs) whose `X-Forwarded-For` is believed when checking `allow`. @default none */
  trustProxy?: readonly string[];
  /** Counters to update (render them with `metrics.render()`). @default a private instance */
  metrics?: Metrics;
  /**
   * Called with each report's entry once it is in the log (not for duplicates or rejected bodies).
   * Runs after the answer is decided: a slow or failing hook never delays or changes the 200.
   * @example onReport: (entry) => db.updateStatus(entry.messageId, entry.outcome)
   */
  onReport?: ReportHook;
  /** Like `onReport`, for entries whose outcome is `delivered`. */
  onDelivered?: ReportHook;
  /** Like `onReport`, for entries whose outcome is `failed` (Undelivered, Failed, Unsent, ...). */
  onFailed?: ReportHook;
  /**
   * Called when a hook throws or rejects. @default console.error with an "elysia-sms-status:" prefix
   */
  onHookError?: (error: unknown, entry: LogEntry, hook: HookName) => void;
}

/** A user hook; its result is not awaited by the answer. */
export type ReportHook = (entry: LogEntry) => unknown;
export type HookName = "onReport" | "onDelivered" | "onFailed";


function assertOptions(options: SmsStatusOptions): void {
  const fail = (what: string) => {
    throw new TypeError(`elysia-sms-status: ${what}`);
  };
  if (options.format !== undefined && !LOG_FORMATS.includes(options.format))
    fail(`format must be one of ${LOG_FORMATS.join(", ")} (got ${JSON.stringify(options.format)})`);
  if (options.path !== undefined && !options.path.startsWith("/"))
    fail(`path must start with "/" (got ${JSON.stringify(options.path)})`);
  if (options.bodyLimit !== undefined && !(Number.isInteger(options.bodyLimit) && options.bodyLimit > 0))
    fail(`bodyLimit must be a positive whole number of bytes (got ${options.bodyLimit})`);
  if (options.token !== undefined && options.token.length < MIN_TOKEN_LENGTH)
    fail(`token must be at least ${MIN_TOKEN_LENGTH} characters (use a long random string, e.g. \`openssl rand -hex 24\`)`);
}

/**
 * Receive Routee delivery reports in any Elysia app.
 * @example new Elysia().use(smsStatus({ path: "/hooks/routee", log: "/var/log/sms/status.log" }))
 */
export function smsStatus(options: SmsStatusOptions = {}) {
  assertOptions(options);
  const path = options.path ?? DEFAULT_PATH;
  const healthPath = options.healthPath ?? HEALTH_PATH;
  // Checked now, held open from the first write: an instance that `.use()` drops as a duplicate
  // (same name + seed) never keeps a file descriptor.
  const journal = options.journal ?? new FileJournal(options.log ?? DEFAULT_LOG, { fsync: options.fsync, lazy: true });
  const ownsJournal = options.journal === undefined;
  const allow = Array.isArray(options.allow) ? new Allowlist({ allow: options.allow as string[] }) : (options.allow as Allowlist | undefined);
  // A list given as strings is resolved here; until then only its literal IPs and ranges match.
  if (Array.isArray(options.allow)) void allow!.start();
  const receiver = createReceiver({
    journal,
    format: options.format ?? "jsonl",
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    dedupe: options.dedupe ?? {},
    token: options.token,
    allow,
    trustProxy: options.trustProxy,
    metrics: options.metrics ?? new Metrics(),
    onWritten: hookRunner(options),
  });
  return receiverRoutes(receiver, {
    path,
    healthPath,
    seed: seedOf(options),
    async close() {
      allow?.stop();
      // A journal passed in is the caller's to close. Elysia's Bun adapter does not await this.
      if (ownsJournal) await journal.close();
    },
  });
}

/**
 * The plugin's routes around a receiver. The standalone server uses this too, with a receiver it
 * also serves directly on its hot path.
 */
export function receiverRoutes(
  receiver: Receiver,
  options: { path: string; healthPath: string | false; seed?: unknown; close?: () => Promise<void> },
) {
  const { path, healthPath, close } = options;
  return new Elysia({ name: "elysia-sms-status", seed: options.seed })
    .post(path, ({ request, server }) => receiver.handle(request, server), {
      // The receiver reads and validates the raw body itself (TypeBox, compiled once), so that the
      // report is logged exactly as received; Elysia must not parse or reshape it first.
      parse: "none",
      detail: {
        summary: "Receive a Routee SMS delivery report",
        description: "Routee POSTs here each time an SMS changes status. Answered 200 once the report is in the log.",
        tags: ["sms-status"],
        requestBody: { required: true, content: { "application/json": { schema: RouteeCallback as never } } },
      },
      response: REPORT_RESPONSES,
    })
    .onStop(async function closeJournal() {
      await close?.();
    })
    .use((app) =>
      healthPath === false
        ? app
        : app.get(healthPath, () => receiver.health(), {
            detail: { summary: "Is the SMS status log writable?", tags: ["sms-status"] },
            response: HEALTH_RESPONSES,
          }),
    );
}

/**
 * Elysia registers a plugin once per name + JSON of its seed. Functions and journals do not survive
 * JSON, so each is replaced by an id of its identity: the same options register once, while two
 * instances with different hooks or journals are both kept.
 */
function seedOf(options: SmsStatusOptions): Record<string, unknown> {
  const seed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options))
    seed[key] = typeof value === "function" || value instanceof Metrics || value instanceof Allowlist || (key === "journal" && value)
      ? identity(value)
      : value;
  return seed;
}

const identities = new WeakMap<object, number>();
let lastIdentity = 0;
function identity(value: object): string {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = ++lastIdentity));
  return `identity#${id}`;
}

function defaultHookError(error: unknown, entry: LogEntry, hook: HookName): void {
  console.error(`elysia-sms-status: ${hook} hook failed for message ${entry.messageId ?? "(none)"}:`, error);
}

/** Starts the user's hooks for a written entry without waiting for them; reports their failures. */
function hookRunner(options: SmsStatusOptions): ((entry: LogEntry) => void) | undefined {
  if (!options.onReport && !options.onDelivered && !options.onFailed) return undefined;
  const onHookError = options.onHookError ?? defaultHookError;
  const report = (error: unknown, entry: LogEntry, hook: HookName) => {
    try {
      onHookError(error, entry, hook);
    } catch (secondary) {
      // Neither the hook's error nor the handler's may go unseen.
      defaultHookError(error, entry, hook);
      console.error("elysia-sms-status: onHookError failed too:", secondary);
    }
  };
  const start = (hook: HookName, fn: ReportHook | undefined, entry: LogEntry) => {
    if (!fn) return;
    // Started from a resolved promise, so even a hook that throws synchronously becomes a rejection.
    Promise.resolve(entry)
      .then(fn)
      .catch((error: unknown) => report(error, entry, hook));
  };
  return function runHooks(entry) {
    start("onReport", options.onReport, entry);
    if (entry.outcome === "delivered") start("onDelivered", options.onDelivered, entry);
    if (entry.outcome === "failed") start("onFailed", options.onFailed, entry);
  };
}
