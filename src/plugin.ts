/**
 * The Elysia plugin: `POST /sms/status` for Routee's delivery reports and `GET /healthz`.
 *
 * request -> read (bounded) -> parse JSON -> validate (TypeBox, by Elysia) -> classify -> entry ->
 * journal -> 200. The answer waits for the journal, so a 200 means the entry is in the file.
 * This is the only module that knows about HTTP.
 */
import type { ValueError } from "@sinclair/typebox/errors";
import { Elysia } from "elysia";
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
}

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
  const journal = options.journal ?? new FileJournal(logPath, { fsync: options.fsync });
  const render = RENDERERS[format];
  const duplicates = options.dedupe === false ? null : new DuplicateFilter(options.dedupe);
  if (duplicates && format === "jsonl" && journal instanceof FileJournal) recoverKeys(duplicates, journal.path);
  /** Reports being written right now: a retry arriving meanwhile waits for the same write. */
  const inFlight = new Map<string, Promise<void>>();
  const rawBodies = new WeakMap<Request, string>();

  async function record(entry: LogEntry): Promise<void> {
    await journal.append(render(entry));
  }

  async function recordRejected(request: Request, error: BodyError, response: Response): Promise<Response> {
    const entry = blankEntry(PROVIDER, "rejected", rawBodies.get(request) ?? "");
    entry.error = { reason: error.reason, message: error.message, ...(error.field ? { field: error.field } : {}) };
    try {
      await record(entry);
    } catch {
      return LOG_UNAVAILABLE(); // 503, so the sender retries and the body is not lost
    }
    return response;
  }

  return new Elysia({ name: "elysia-sms-status", seed: { ...options, journal: undefined } })
    .onError(async function answerError({ code, error, request }) {
      // Elysia wraps what the parser throws in a ParseError.
      const rejected =
        error instanceof BodyError
          ? error
          : (error as { cause?: unknown })?.cause instanceof BodyError
            ? ((error as { cause: BodyError }).cause)
            : code === "VALIDATION"
              ? invalidReport(error.valueError)
              : code === "PARSE"
                ? new BodyError(400, "invalid_json", "the body is not valid JSON")
                : null;
      if (!rejected) return;
      const body = { error: rejected.reason, message: rejected.message, ...(rejected.field ? { field: rejected.field } : {}) };
      // Bodies over the limit are not kept: logging them would defeat the limit.
      if (rejected.status === 413) return answer(413, body);
      return recordRejected(request, rejected, answer(rejected.status, body));
    })
    .post(
      path,
      async function receiveReport({ body }) {
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
            return new Response(DUPLICATE_BODY, { headers: JSON_HEADERS });
          }
        }
        const written = record(entry);
        if (key !== null) inFlight.set(key, written);
        try {
          await written;
        } catch (error) {
          if (error instanceof JournalWriteError) return LOG_UNAVAILABLE();
          throw error;
        } finally {
          if (key !== null) inFlight.delete(key);
        }
        if (key !== null) duplicates!.add(key);
        return accepted(entry);
      },
      {
        body: RouteeCallback,
        parse: async function readJsonBody({ request }) {
          const declared = Number(request.headers.get("content-length") ?? 0);
          if (declared > bodyLimit) throw tooLarge(bodyLimit);
          const bytes = await request.arrayBuffer();
          if (bytes.byteLength > bodyLimit) throw tooLarge(bodyLimit);
          const raw = UTF8.decode(bytes);
          rawBodies.set(request, raw);
          let value: unknown;
          try {
            value = JSON.parse(raw);
          } catch {
            throw new BodyError(400, "invalid_json", "the body is not valid JSON");
          }
          if (value === null || typeof value !== "object" || Array.isArray(value))
            throw new BodyError(422, "invalid_report", "the body must be a JSON object");
          return value;
        },
        detail: {
          summary: "Receive a Routee SMS delivery report",
          description:
            "Routee POSTs here each time an SMS changes status. Answered 200 once the report is in the log.",
          tags: ["sms-status"],
        },
      },
    )
    .onStop(async function closeJournal() {
      await journal.close();
    })
    .use((app) =>
      healthPath === false
        ? app
        : app.get(healthPath, function health() {
            return journal.probe()
              ? answer(200, { status: "ok" })
              : answer(503, { status: "unavailable", error: journal.lastError ?? "write failed" });
          }),
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
