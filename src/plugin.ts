/**
 * The Elysia plugin: `POST /sms/status` for Routee's delivery reports and `GET /healthz`.
 *
 * request -> read (bounded) -> parse JSON -> validate (TypeBox, by Elysia) -> classify -> entry ->
 * journal -> 200. The answer waits for the journal, so a 200 means the entry is in the file.
 * This is the only module that knows about HTTP.
 */
import type { ValueError } from "@sinclair/typebox/errors";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Elysia } from "elysia";
import { HEALTH_RESPONSES, REPORT_RESPONSES } from "./answers.ts";
import { Allowlist, clientAddress, parseRanges, presentedToken, tokenMatches } from "./access.ts";
import { Metrics } from "./metrics.ts";
import { DuplicateFilter, duplicateKey, type DuplicateFilterOptions } from "./dedupe.ts";
import { blankEntry, RENDERERS, type LogEntry, type LogFormat, LOG_FORMATS } from "./entry.ts";
import { FileJournal, JournalWriteError, type Journal } from "./journal.ts";
import { readRecentEntries } from "./log-tail.ts";
import { PROVIDER, routeeEntry } from "./providers/routee/adapter.ts";
import { describeField, RouteeCallback } from "./providers/routee/schema.ts";

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
  /** Duplicate detection settings, or `false` to write every retry. @default 48 h, 100 000 keys */
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

export const DEFAULT_PATH = "/sms/status";
export const DEFAULT_LOG = "./sms-status.log";
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Thrown by the body parser; turned into a 400/413/422 answer and a `rejected` entry. */
class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 422,
    readonly reason: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/** A JSON answer; every answer of this project has this shape. */
export function answer(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

// The hot path's answers differ only by kind and outcome: serialise each once.
const ACCEPTED_BODIES = new Map<string, string>();
const DUPLICATE_BODY = JSON.stringify({ ok: true, duplicate: true });

function accepted(entry: LogEntry): Response {
  const key = `${entry.kind}/${entry.outcome}`;
  let body = ACCEPTED_BODIES.get(key);
  if (body === undefined) {
    body = JSON.stringify({ ok: true, kind: entry.kind, outcome: entry.outcome });
    ACCEPTED_BODIES.set(key, body);
  }
  return new Response(body, { headers: JSON_HEADERS });
}

/** One decoder for every body (it keeps no state between whole-buffer decodes). */
const UTF8 = new TextDecoder();

/** Thrown before the body is read; answered 401/403, nothing written. */
class AccessError extends Error {
  constructor(readonly reason: "unauthorized" | "forbidden") {
    super(reason);
  }
}

const UNAUTHORIZED = () =>
  answer(401, { error: "unauthorized", message: "a valid token is required" }, { "www-authenticate": "Bearer" });
const FORBIDDEN = () => answer(403, { error: "forbidden", message: "this address may not post reports" });

const LOG_UNAVAILABLE = () =>
  answer(503, { error: "log_unavailable", message: "the log cannot be written right now; retry later" }, {
    "retry-after": "30",
  });

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
  if (options.token !== undefined && options.token.length < 16)
    fail("token must be at least 16 characters (use a long random string, e.g. `openssl rand -hex 24`)");
}

/**
 * Receive Routee delivery reports in any Elysia app.
 * @example new Elysia().use(smsStatus({ path: "/hooks/routee", log: "/var/log/sms/status.log" }))
 */
export function smsStatus(options: SmsStatusOptions = {}) {
  assertOptions(options);
  const path = options.path ?? DEFAULT_PATH;
  const format = options.format ?? "jsonl";
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const healthPath = options.healthPath ?? "/healthz";
  const logPath = options.log ?? DEFAULT_LOG;
  // Checked now, held open from the first write: an instance that `.use()` drops as a duplicate
  // (same name + seed) never keeps a file descriptor.
  const journal = options.journal ?? new FileJournal(logPath, { fsync: options.fsync, lazy: true });
  const ownsJournal = options.journal === undefined;
  const runHooks = hookRunner(options);
  const render = RENDERERS[format];
  const duplicates = options.dedupe === false ? null : new DuplicateFilter(options.dedupe);
  if (duplicates && format === "jsonl" && journal instanceof FileJournal) recoverKeys(duplicates, journal.path);
  /** Reports being written right now: a retry arriving meanwhile waits for the same write. */
  const inFlight = new Map<string, Promise<void>>();
  const rawBodies = new WeakMap<Request, string>();
  /** When each request's body started being read, for the time-to-acknowledge histogram. */
  const startedAt = new WeakMap<Request, number>();
  const metrics = options.metrics ?? new Metrics();
  metrics.gauges ??= {
    logWritable: () => journal.healthy,
    logBytes: () => journal.stats.bytes,
    duplicateKeys: () => duplicates?.size ?? 0,
  };
  const token = options.token;
  const trustedProxies = parseRanges(options.trustProxy ?? []);
  const allowlist = Array.isArray(options.allow) ? new Allowlist({ allow: options.allow as string[] }) : (options.allow as Allowlist | undefined);
  // A list given as strings is resolved here; until then only its literal IPs and ranges match.
  if (Array.isArray(options.allow)) void allowlist!.start();

  /**
   * Why a request is refused, set by the body reader. The handler answers it, rather than a thrown
   * error, so that a host app's own onError hooks cannot intercept our answers.
   */
  const refusals = new WeakMap<Request, AccessError | BodyError>();

  /** Refuse before reading the body: bad token 401, address not allowed 403. */
  function checkAccess(request: Request, server: { requestIP(r: Request): { address: string } | null } | null) {
    if (token !== undefined && !tokenMatches(presentedToken(request), token)) return new AccessError("unauthorized");
    if (allowlist) {
      const socket = server?.requestIP(request)?.address ?? null;
      const client = clientAddress(socket, request.headers.get("x-forwarded-for"), trustedProxies);
      if (!allowlist.allows(client)) return new AccessError("forbidden");
    }
    return null;
  }

  /** Read, bound and check the body; on failure remember why and hand Elysia an empty object. */
  async function readJsonBody(request: Request, server: Parameters<typeof checkAccess>[1]): Promise<unknown> {
    const refused = checkAccess(request, server) ?? (await readReport(request));
    if (refused instanceof AccessError || refused instanceof BodyError) {
      refusals.set(request, refused);
      return {};
    }
    return refused;
  }

  async function readReport(request: Request): Promise<unknown> {
    startedAt.set(request, performance.now());
    const declared = Number(request.headers.get("content-length") ?? 0);
    if (declared > bodyLimit) return tooLarge(bodyLimit);
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > bodyLimit) return tooLarge(bodyLimit);
    const raw = UTF8.decode(bytes);
    rawBodies.set(request, raw);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return new BodyError(400, "invalid_json", "the body is not valid JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
      return new BodyError(422, "invalid_report", "the body must be a JSON object");
    // Checked here, strictly, before Elysia's body cleaner runs: with the host app's default
    // normalisation it would turn a string `status` into an object of its characters.
    if (!checkCallback.Check(value)) return invalidReport(checkCallback.Errors(value).First());
    return value;
  }

  async function answerRefusal(request: Request, refusal: AccessError | BodyError): Promise<Response> {
    if (refusal instanceof AccessError) {
      metrics.refuse(refusal.reason);
      return refusal.reason === "unauthorized" ? UNAUTHORIZED() : FORBIDDEN();
    }
    metrics.reject(refusal.reason);
    const body = { error: refusal.reason, message: refusal.message, ...(refusal.field ? { field: refusal.field } : {}) };
    // Bodies over the limit are not kept: logging them would defeat the limit.
    if (refusal.status === 413) return answer(413, body);
    const entry = blankEntry(PROVIDER, "rejected", rawBodies.get(request) ?? "");
    entry.error = { reason: refusal.reason, message: refusal.message, ...(refusal.field ? { field: refusal.field } : {}) };
    try {
      await record(entry);
    } catch {
      metrics.writeErrors += 1;
      return LOG_UNAVAILABLE(); // 503, so the sender retries and the body is not lost
    }
    return answer(refusal.status, body);
  }

  function acknowledge(request: Request, response: Response): Response {
    const start = startedAt.get(request);
    if (start !== undefined) metrics.acknowledged((performance.now() - start) / 1000);
    return response;
  }

  async function record(entry: LogEntry): Promise<void> {
    await journal.append(render(entry));
  }

  async function receiveReport(body: RouteeCallback, request: Request): Promise<Response> {
    const refusal = refusals.get(request);
    if (refusal) return answerRefusal(request, refusal);
    const entry = routeeEntry(body);
    const key = duplicates ? duplicateKey(entry) : null;
    if (key !== null) {
      const pending = inFlight.get(key);
      if (pending || duplicates!.has(key)) {
        try {
          await pending;
        } catch {
          return LOG_UNAVAILABLE();
        }
        metrics.duplicates += 1;
        return acknowledge(request, new Response(DUPLICATE_BODY, { headers: JSON_HEADERS }));
      }
    }
    const written = record(entry);
    if (key !== null) inFlight.set(key, written);
    try {
      await written;
    } catch (error) {
      if (!(error instanceof JournalWriteError)) throw error;
      metrics.writeErrors += 1;
      return LOG_UNAVAILABLE();
    } finally {
      if (key !== null) inFlight.delete(key);
    }
    if (key !== null) duplicates!.add(key);
    metrics.report(entry.kind, entry.outcome);
    runHooks(entry);
    return acknowledge(request, accepted(entry));
  }

  return new Elysia({ name: "elysia-sms-status", seed: seedOf(options) })
    .onError(function answerValidation({ code, error, request }) {
      // Unreachable while the body reader checks strictly first; kept so that a schema failure
      // Elysia finds by itself still gets our answer and a `rejected` entry.
      if (code === "VALIDATION") return answerRefusal(request, invalidReport(error.valueError));
    })
    .post(path, ({ body, request }) => receiveReport(body, request), {
      body: RouteeCallback,
      // Our parser always returns, so "application/json" after it never runs: it only tells
      // OpenAPI generators that the body is JSON (they skip function parsers).
      parse: [({ request, server }) => readJsonBody(request, server), "application/json"],
      detail: {
        summary: "Receive a Routee SMS delivery report",
        description: "Routee POSTs here each time an SMS changes status. Answered 200 once the report is in the log.",
        tags: ["sms-status"],
      },
      response: REPORT_RESPONSES,
    })
    .onStop(async function closeJournal() {
      allowlist?.stop();
      // A journal passed in is the caller's to close. Elysia's Bun adapter does not await this.
      if (ownsJournal) await journal.close();
    })
    .use((app) =>
      healthPath === false
        ? app
        : app.get(
            healthPath,
            function health() {
              return journal.probe()
                ? answer(200, { status: "ok" })
                : answer(503, { status: "unavailable", error: journal.lastError ?? "write failed" });
            },
            { detail: { summary: "Is the SMS status log writable?", tags: ["sms-status"] }, response: HEALTH_RESPONSES },
          ),
    );
}

/** The 422 for a schema failure, naming the innermost offending field (`status.name`). */
function invalidReport(valueError: ValueError | undefined): BodyError {
  const path = valueError ? innermostPath(valueError) : "";
  const field = path.replace(/^\//, "").replaceAll("/", ".");
  const message = field ? `${field} must be ${describeField(path)}` : "the body must be a JSON object";
  return new BodyError(422, "invalid_report", message, field || undefined);
}

/** A nullable field fails as a union at its own path; the branch errors say what inside it failed. */
function innermostPath(error: ValueError): string {
  let path = error.path;
  for (const branch of error.errors ?? []) {
    for (const inner of branch) {
      const candidate = innermostPath(inner);
      if (candidate.length > path.length) path = candidate;
    }
  }
  return path;
}

/** Compiled once, at import. */
const checkCallback = TypeCompiler.Compile(RouteeCallback);

function tooLarge(limit: number): BodyError {
  return new BodyError(413, "body_too_large", `the body is larger than ${limit} bytes`);
}

/** After a restart, remember the reports logged recently so their retries are not written twice. */
function recoverKeys(duplicates: DuplicateFilter, logPath: string): void {
  const now = Date.now();
  for (const entry of readRecentEntries(logPath)) {
    const key = duplicateKey(entry);
    const seenAt = Date.parse(entry.receivedAt);
    if (key !== null && Number.isFinite(seenAt) && now - seenAt < duplicates.windowMs) duplicates.add(key, seenAt);
  }
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
function hookRunner(options: SmsStatusOptions): (entry: LogEntry) => void {
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
    if (!options.onReport && !options.onDelivered && !options.onFailed) return;
    start("onReport", options.onReport, entry);
    if (entry.outcome === "delivered") start("onDelivered", options.onDelivered, entry);
    if (entry.outcome === "failed") start("onFailed", options.onFailed, entry);
  };
}
