/**
 * The receiver: what happens to one callback, from the raw `Request` to the `Response`, with no
 * web framework involved. The Elysia plugin and the standalone server both hand requests to it.
 *
 * request -> access check -> read (bounded, in bytes) -> UTF-8 -> cost of parsing (bounded) ->
 * parse JSON -> provider (check, entries) -> duplicates -> store -> answer. The answer waits for
 * the store, so a 200 means the entries are stored. The receiver knows a `Provider` and a `Store`
 * only through their interfaces.
 */
import { blankEntry, type LogEntry, type ReceivedEntry } from "../core/entry.ts";
import { JournalWriteError } from "../core/errors.ts";
import type { DuplicateFilter } from "../journal/dedupe.ts";
import type { CallbackRequest, DecodedBody, InvalidBody, Provider } from "../providers/provider.ts";
import type { Store } from "../store/store.ts";
import { Allowlist, clientAddress, parseRanges, presentedToken, tokenMatches } from "./access.ts";
import { accepted, answer, duplicate, forbidden, logUnavailable, unauthorized } from "./answers.ts";
import { jsonCost } from "./json-cost.ts";
import { Metrics } from "./metrics.ts";

export interface ReceiverOptions {
  provider: Provider;
  store: Store;
  bodyLimit: number;
  /** Remembers stored reports so that retries are not stored twice; null stores every retry. */
  duplicates: DuplicateFilter | null;
  token?: string;
  allow?: Allowlist;
  trustProxy?: readonly string[];
  metrics: Metrics;
  /**
   * The scheme, host and port the provider calls (`https://sms.example.com`), when a proxy makes
   * them differ from what the server sees: signatures cover the URL the provider used.
   */
  publicUrl?: string;
  /** Called (not awaited) with each entry once it is stored. */
  onWritten?: (entry: LogEntry) => void;
}

/** Where the socket address comes from: Bun's server (`server.requestIP`). */
export interface PeerSource {
  requestIP(request: Request): { address: string } | null;
}

/** A body refused as malformed (400), too large (413), too costly or not a valid callback (422). */
interface Rejection {
  status: 400 | 413 | 422;
  reason: string;
  message: string;
  field?: string;
}

const NOT_JSON: Rejection = { status: 400, reason: "invalid_json", message: "the body is not valid JSON" };
const NOT_UTF8: Rejection = { status: 400, reason: "invalid_utf8", message: "the body is not valid UTF-8" };
const tooComplex = (message: string): Rejection => ({ status: 422, reason: "body_too_complex", message });
const NOT_AN_OBJECT: Rejection = { status: 422, reason: "invalid_report", message: "the body must be a JSON object" };
const tooLarge = (limit: number): Rejection => ({
  status: 413,
  reason: "body_too_large",
  message: `the body is larger than ${limit} bytes`,
});
const invalid = ({ field, message }: InvalidBody): Rejection => ({ status: 422, reason: "invalid_report", message, field });

/** Fatal: a body that is not UTF-8 is refused, never silently changed. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

export interface Receiver {
  /** Answer one callback. Never throws for anything a client sends. */
  handle(request: Request, peer: PeerSource | null): Promise<Response>;
  /** 200 while the store is writable, 503 otherwise (re-checking an unhealthy store). */
  health(): Promise<Response>;
}

/** A store's error for a public answer: an error code (`ENOSPC`) as it is, anything longer (a database's message) not. */
function publicReason(error: string | null): string {
  return error !== null && /^[A-Z][A-Z0-9_]{1,31}$/.test(error) ? error : "write failed";
}

export function createReceiver(options: ReceiverOptions): Receiver {
  const { provider, store, bodyLimit, metrics, token, allow, duplicates, onWritten } = options;
  const trustedProxies = parseRanges(options.trustProxy ?? []);
  metrics.watch({
    logWritable: () => store.healthy,
    logBytes: () => store.stats.bytes,
    duplicateKeys: () => duplicates?.size ?? 0,
  });

  /** Refuse before reading the body: bad token 401, address not allowed 403. */
  function refusal(request: Request, peer: PeerSource | null): Response | null {
    if (token !== undefined && !tokenMatches(presentedToken(request), token)) {
      metrics.refuse("unauthorized");
      return unauthorized();
    }
    if (allow) {
      const socket = peer?.requestIP(request)?.address ?? null;
      if (!allow.allows(clientAddress(socket, request.headers.get("x-forwarded-for"), trustedProxies))) {
        metrics.refuse("forbidden");
        return forbidden();
      }
    }
    return null;
  }

  /**
   * Whatever a store rejects with (a database's own error, say) is a failed write: 503, so that
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
    return logUnavailable();
  }

  /** Store a write, answering 503 for a store that throws instead of rejecting. */
  function stored(entries: readonly ReceivedEntry[]): Promise<void | readonly boolean[]> {
    try {
      return store.write(entries);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Store the raw body as `rejected`, then answer 400/422 (503 if it could not be stored). */
  async function reject(rejection: Rejection, raw: string): Promise<Response> {
    const { status, reason, ...details } = rejection;
    metrics.reject(reason);
    const body = { error: reason, ...details };
    // Bodies over the limit are not kept: storing them would defeat the limit.
    if (status === 413) return answer(413, body);
    const entry = blankEntry(provider.name, "rejected", raw);
    entry.error = { reason, ...details };
    try {
      await stored([{ entry }]);
    } catch (error) {
      return writeFailed(error); // 503, so the sender retries and the body is not lost
    }
    return answer(status, body);
  }

  /**
   * Store the entries not seen before, once. A retry that arrives while its first copy is being
   * written waits for that write; a failed write forgets its keys, so the sender's retry is stored.
   */
  async function storeOnce(entries: readonly ReceivedEntry[]): Promise<readonly ReceivedEntry[] | "duplicate" | Response> {
    if (store.decidesDuplicates) {
      // The store's own key decides (a database shared by replicas): keep what it says was new.
      return stored(entries).then((isNew) => {
        const fresh = isNew ? entries.filter((_, i) => isNew[i]) : entries;
        return fresh.length > 0 ? fresh : "duplicate";
      }, writeFailed);
    }
    if (!duplicates) return stored(entries).then(() => entries, writeFailed);
    const fresh: ReceivedEntry[] = [];
    const keys: string[] = [];
    const waits: Promise<void>[] = [];
    for (const received of entries) {
      const key = provider.duplicateKey(received.entry);
      if (key === null) {
        fresh.push(received);
        continue;
      }
      const seen = duplicates.lookup(key);
      if (seen >= 0) {
        const pending = duplicates.pendingWrite(seen);
        if (pending) waits.push(pending);
      } else if (!keys.includes(key)) {
        fresh.push(received);
        keys.push(key);
      }
    }
    if (fresh.length === 0) {
      try {
        await Promise.all(waits);
      } catch {
        return logUnavailable();
      }
      return "duplicate";
    }
    const written = stored(fresh).then(() => {});
    const now = Date.now();
    const handles = keys.map((key) => duplicates.add(key, now, written));
    try {
      await Promise.all([written, ...waits]);
    } catch (error) {
      for (const handle of handles) duplicates.settle(handle, false);
      return writeFailed(error);
    }
    for (const handle of handles) duplicates.settle(handle, true);
    return fresh;
  }

  /** The URL the provider called: what its signature covers. */
  function calledUrl(request: Request): string {
    if (!options.publicUrl) return request.url;
    const url = new URL(request.url);
    return options.publicUrl.replace(/\/+$/, "") + url.pathname + url.search;
  }

  /** The body as an object: the provider's own decoding (form, query), or JSON within the cost bounds. */
  function decode(callback: CallbackRequest, bytes: Uint8Array): DecodedBody | Rejection {
    if (provider.decode) return provider.decode(callback);
    const cost = jsonCost(bytes, { structure: provider.maxJsonStructure });
    if (cost !== null) return tooComplex(cost);
    let body: unknown;
    try {
      body = JSON.parse(callback.text);
    } catch {
      return NOT_JSON;
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return NOT_AN_OBJECT;
    return { body: body as Record<string, unknown>, raw: callback.text };
  }

  async function handle(request: Request, peer: PeerSource | null): Promise<Response> {
    const started = performance.now();
    const refused = refusal(request, peer);
    if (refused) return refused;
    if (request.method === "GET") return receive(request, new Uint8Array(0), "", started);
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) > bodyLimit) return reject(tooLarge(bodyLimit), "");
    const bytes = await request.bytes();
    // Counted after reading, always: a chunked body or a repeated Content-Length ("N, N") passes the
    // check above, and the transport lets through up to a MiB more.
    if (bytes.byteLength > bodyLimit) return reject(tooLarge(bodyLimit), "");
    let raw: string;
    try {
      raw = UTF8.decode(bytes);
    } catch {
      // Kept exactly, as base64: a text with U+FFFD for the bad bytes would not be what was sent.
      return reject(NOT_UTF8, Buffer.from(bytes).toString("base64"));
    }
    return receive(request, bytes, raw, started);
  }

  /** A callback whose bytes were read and are UTF-8: check its signature, decode it, store it. */
  async function receive(request: Request, bytes: Uint8Array, raw: string, started: number): Promise<Response> {
    const callback: CallbackRequest = { url: calledUrl(request), method: request.method, headers: request.headers, text: raw };
    if (provider.verify) {
      const why = await provider.verify(callback);
      if (why !== null) {
        metrics.refuse("signature");
        return answer(401, { error: "invalid_signature", message: why });
      }
    }
    const decoded = decode(callback, bytes);
    if ("status" in decoded) return reject(decoded, raw);
    if (decoded.invalid) return reject(invalid(decoded.invalid), raw);
    const reading = provider.read(decoded.body, decoded.raw ?? JSON.stringify(decoded.body));
    if (reading.invalid) return reject(invalid(reading.invalid), raw);

    const result = await storeOnce(reading.entries);
    if (result instanceof Response) return result;
    metrics.acknowledged((performance.now() - started) / 1000);
    if (result === "duplicate") {
      metrics.duplicates += 1;
      return duplicate();
    }
    // Only what was stored now: an entry of the body already stored before is a retry.
    for (const { entry } of result) {
      metrics.report(entry.kind, entry.outcome);
      onWritten?.(entry);
    }
    const first = reading.entries[0]!.entry;
    return accepted(first.kind, first.outcome);
  }

  async function health(): Promise<Response> {
    return (await store.probe())
      ? answer(200, { status: "ok" })
      : answer(503, { status: "unavailable", error: publicReason(store.lastError) });
  }

  return { handle, health };
}
