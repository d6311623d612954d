/**
 * The receiver: what happens to one callback, from the raw `Request` to the `Response`, with no
 * web framework involved. The Elysia plugin and the standalone server both hand requests to it.
 *
 * request -> access check -> read (bounded) -> parse JSON -> validate (TypeBox, compiled once) ->
 * classify -> entry -> journal -> answer. The answer waits for the journal, so a 200 means the
 * entry is in the file.
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/errors";
import { Allowlist, clientAddress, parseRanges, presentedToken, tokenMatches } from "./access.ts";
import { DuplicateFilter, duplicateKey, type DuplicateFilterOptions } from "../journal/dedupe.ts";
import { blankEntry, type LogEntry } from "../core/entry.ts";
import { RENDERERS, type LogFormat } from "../core/render.ts";
import { FileJournal, type Journal } from "../journal/file-journal.ts";
import { JournalWriteError } from "../core/errors.ts";
import { readRecentEntries } from "../store/recent.ts";
import { Metrics } from "./metrics.ts";
import { PROVIDER, routeeEntry } from "../providers/routee/adapter.ts";
import { describeField, RouteeCallback } from "../providers/routee/schema.ts";

export interface ReceiverOptions {
  journal: Journal;
  format: LogFormat;
  bodyLimit: number;
  dedupe: DuplicateFilterOptions | false;
  token?: string;
  allow?: Allowlist;
  trustProxy?: readonly string[];
  metrics: Metrics;
  /** Called (not awaited) with each report's entry once it is written. */
  onWritten?: (entry: LogEntry) => void;
}

/** Where the socket address comes from: Bun's server (`server.requestIP`). */
export interface PeerSource {
  requestIP(request: Request): { address: string } | null;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/** A JSON answer; every answer of this project has this shape. */
export function answer(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

// The hot path's answers differ only by kind and outcome: each is made once, as a Blob whose type
// becomes the Content-Type (a Response from a typed Blob is about 3x cheaper than with headers).
const jsonBlob = (body: unknown) => new Blob([JSON.stringify(body)], { type: JSON_HEADERS["content-type"] });
const ACCEPTED_BODIES = new Map<string, Blob>();
const DUPLICATE_BODY = jsonBlob({ ok: true, duplicate: true });

function accepted(entry: LogEntry): Response {
  const key = `${entry.kind}/${entry.outcome}`;
  let body = ACCEPTED_BODIES.get(key);
  if (body === undefined) {
    body = jsonBlob({ ok: true, kind: entry.kind, outcome: entry.outcome });
    ACCEPTED_BODIES.set(key, body);
  }
  return new Response(body);
}

const UNAUTHORIZED = () =>
  answer(401, { error: "unauthorized", message: "a valid token is required" }, { "www-authenticate": "Bearer" });
const FORBIDDEN = () => answer(403, { error: "forbidden", message: "this address may not post reports" });
export const LOG_UNAVAILABLE = () =>
  answer(503, { error: "log_unavailable", message: "the log cannot be written right now; retry later" }, {
    "retry-after": "30",
  });

/** A body refused as malformed (400), too large (413) or not a report (422). */
class Rejection {
  constructor(
    readonly status: 400 | 413 | 422,
    readonly reason: string,
    readonly message: string,
    readonly field?: string,
  ) {}

  get details() {
    return { reason: this.reason, message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

const NOT_JSON = new Rejection(400, "invalid_json", "the body is not valid JSON");
const NOT_AN_OBJECT = new Rejection(422, "invalid_report", "the body must be a JSON object");

/** Compiled once, at import. */
const checkCallback = TypeCompiler.Compile(RouteeCallback);

export interface Receiver {
  /** Answer one callback. Never throws for anything a client sends. */
  handle(request: Request, peer: PeerSource | null): Promise<Response>;
  /** 200 while the log is writable, 503 otherwise (re-checking an unhealthy log). */
  health(): Promise<Response>;
}

export function createReceiver(options: ReceiverOptions): Receiver {
  const { journal, bodyLimit, metrics, token, allow, onWritten } = options;
  const render = RENDERERS[options.format];
  const duplicates = options.dedupe === false ? null : new DuplicateFilter(options.dedupe);
  if (duplicates && options.format === "jsonl" && journal instanceof FileJournal) recoverKeys(duplicates, journal.path);
  const trustedProxies = parseRanges(options.trustProxy ?? []);
  metrics.gauges ??= {
    logWritable: () => journal.healthy,
    logBytes: () => journal.stats.bytes,
    duplicateKeys: () => duplicates?.size ?? 0,
  };

  /** Refuse before reading the body: bad token 401, address not allowed 403. */
  function refusal(request: Request, peer: PeerSource | null): Response | null {
    if (token !== undefined && !tokenMatches(presentedToken(request), token)) {
      metrics.refuse("unauthorized");
      return UNAUTHORIZED();
    }
    if (allow) {
      const socket = peer?.requestIP(request)?.address ?? null;
      if (!allow.allows(clientAddress(socket, request.headers.get("x-forwarded-for"), trustedProxies))) {
        metrics.refuse("forbidden");
        return FORBIDDEN();
      }
    }
    return null;
  }

  /**
   * Whatever a journal rejects with (a database's own error, say) is a failed write: 503, so that
   * the sender retries, and never the error's text in the answer. Errors other than the file
   * journal's own are told to the operator, once per message.
   */
  const told = new Set<string>();
  function writeFailed(error: unknown): Response {
    metrics.writeErrors += 1;
    if (!(error instanceof JournalWriteError)) {
      const message = error instanceof Error ? error.message : String(error);
      if (!told.has(message) && told.size < 100) {
        told.add(message);
        console.error(`elysia-sms-status: the journal could not write an entry: ${message}`);
      }
    }
    return LOG_UNAVAILABLE();
  }

  /** Log the raw body as `rejected`, then answer 400/422 (503 if it could not be logged). */
  async function reject(rejection: Rejection, raw: string): Promise<Response> {
    metrics.reject(rejection.reason);
    const { reason, ...rest } = rejection.details;
    const body = { error: reason, ...rest };
    // Bodies over the limit are not kept: logging them would defeat the limit.
    if (rejection.status === 413) return answer(413, body);
    const entry = blankEntry(PROVIDER, "rejected", raw);
    entry.error = rejection.details;
    try {
      await journal.append(render(entry));
    } catch (error) {
      return writeFailed(error); // 503, so the sender retries and the body is not lost
    }
    return answer(rejection.status, body);
  }

  async function handle(request: Request, peer: PeerSource | null): Promise<Response> {
    const started = performance.now();
    const refused = refusal(request, peer);
    if (refused) return refused;
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) > bodyLimit) return reject(tooLarge(bodyLimit), "");
    const raw = await request.text();
    // A Content-Length was checked above (and Bun read exactly that many bytes). A chunked body is
    // counted from its text, where an invalid byte counts as the 3-byte U+FFFD that replaced it;
    // characters never outnumber bytes, so only a long text is counted at all.
    if (declared === null && raw.length * 3 > bodyLimit && Buffer.byteLength(raw) > bodyLimit)
      return reject(tooLarge(bodyLimit), "");
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return reject(NOT_JSON, raw);
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return reject(NOT_AN_OBJECT, raw);
    if (!checkCallback.Check(body)) return reject(invalidReport(checkCallback.Errors(body).First()), raw);

    const entry = routeeEntry(body);
    const key = duplicates ? duplicateKey(entry) : null;
    if (key !== null) {
      const seen = duplicates!.lookup(key);
      if (seen >= 0) {
        // A retry that arrives while the first copy is being written waits for that write.
        try {
          await duplicates!.pendingWrite(seen);
        } catch {
          return LOG_UNAVAILABLE();
        }
        metrics.duplicates += 1;
        metrics.acknowledged((performance.now() - started) / 1000);
        return new Response(DUPLICATE_BODY);
      }
    }
    let written: Promise<void>;
    try {
      written = journal.append(render(entry, raw));
    } catch (error) {
      return writeFailed(error); // a journal of someone else's that throws instead of rejecting
    }
    const handle = key === null ? -1 : duplicates!.add(key, Date.now(), written);
    try {
      await written;
    } catch (error) {
      duplicates?.settle(handle, false);
      return writeFailed(error);
    }
    duplicates?.settle(handle, true);
    metrics.report(entry.kind, entry.outcome);
    onWritten?.(entry);
    metrics.acknowledged((performance.now() - started) / 1000);
    return accepted(entry);
  }

  async function health(): Promise<Response> {
    return (await journal.probe())
      ? answer(200, { status: "ok" })
      : answer(503, { status: "unavailable", error: journal.lastError ?? "write failed" });
  }

  return { handle, health };
}

/** The 422 for a schema failure, naming the innermost offending field (`status.name`). */
function invalidReport(valueError: ValueError | undefined): Rejection {
  const path = valueError ? innermostPath(valueError) : "";
  const field = path.replace(/^\//, "").replaceAll("/", ".");
  const message = field ? `${field} must be ${describeField(path)}` : "the body must be a JSON object";
  return new Rejection(422, "invalid_report", message, field || undefined);
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

function tooLarge(limit: number): Rejection {
  return new Rejection(413, "body_too_large", `the body is larger than ${limit} bytes`);
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
