/**
 * Durable forwarding: every log entry (or those the filter keeps) is POSTed to the application's
 * URL at least once, in log order per message, signed as Standard Webhooks say.
 *
 * The log is the outbox. Entries are read in order and chained by message, so one message's
 * entries go one after another while other messages go in parallel (up to `concurrency` requests
 * at once). An entry is retried with exponential backoff and jitter (for `retryForMs`, 25 hours by
 * default: longer than Routee retries to us) until a 2xx, holding up only its own message's later
 * entries; 410 Gone stops forwarding to that URL.
 * The position saved (state.ts) is the end of the longest run of entries all delivered, so a
 * restart, even after `kill -9`, resumes at or before the first undelivered entry: nothing is
 * skipped, some entries may be sent again, with the same `webhook-id` for the application to drop.
 *
 * With `batch` above 1 (opt-in: the body's shape changes), one webhook carries up to that many
 * entries, each with its own id. Messages are spread over `concurrency` lanes by a hash of their
 * key; a lane sends one batch at a time, in log order, so a message's entries still arrive in order.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import type { LogEntry } from "../core/entry.ts";
import { parseEntry } from "../log/reader.ts";
import { DEFAULT_MAX_MESSAGES } from "../core/defaults.ts";
import { messageKey, MessageTracker, statusChange } from "../status/tracker.ts";
import { readRecentEntries } from "../store/file-recent.ts";
import { FORWARD_EVERYTHING, type ForwardFilter } from "./filter.ts";
import { Outbox, type OutboxLine } from "../log/outbox.ts";
import { webhookHeaders, webhookKey } from "./signature.ts";
import { readPosition, writePosition, type Position } from "./state.ts";


export interface ForwarderOptions {
  /** The JSONL log to forward. */
  log: string;
  url: string;
  /** `whsec_…` */
  secret: string;
  /** Where the position is kept. */
  statePath: string;
  filter?: ForwardFilter;
  /** One attempt's time limit. @default 10_000 */
  timeoutMs?: number;
  /** Requests in flight at once. @default 16 */
  concurrency?: number;
  /** Entries read and not yet delivered, at most (one slow message holds up only its lane). @default 2_000 */
  window?: number;
  /** How long an entry is retried before it is given up (logged, counted). @default 25 hours */
  retryForMs?: number;
  /** First retry delay, doubled each time up to 10 minutes. @default 1_000 */
  backoffMs?: number;
  /** How often the log is polled when nothing new was there. @default 100 */
  pollMs?: number;
  /**
   * Entries per webhook: 1 sends each entry as a webhook of its own; more sends up to that many in
   * one (`sms_status.batch`), for an application that takes them. @default 1
   */
  batch?: number;
  /** Where warnings go. @default console.error */
  warn?: (message: string) => void;
}

/** Figures for metrics: how far behind, how many attempts, failures and deliveries. */
export interface ForwardStats {
  delivered: number;
  attempts: number;
  failures: number;
  givenUp: number;
  /** Entries read and not yet delivered. */
  pending: number;
  /** Seconds since the oldest undelivered entry was received; 0 when none. */
  lagSeconds: number;
  /** False after a 410: this URL gets nothing more. */
  active: boolean;
}

interface Pending {
  line: OutboxLine;
  done: boolean;
  receivedAt: number;
}

/** Batch mode: one lane's entries waiting to be sent, and the batch it is sending (null when idle). */
interface Lane {
  waiting: { item: Pending; entry: LogEntry }[];
  running: Promise<void> | null;
}

/** How an attempt series ended: a 2xx, given up after the retry period, a 410, or stopped. */
type Outcome = "delivered" | "given-up" | "gone" | "stopped";

const MAX_BACKOFF_MS = 10 * 60_000;
/** A batch's body, in bytes, stays within this (a batch holds at least one entry, whatever its size). */
const MAX_BATCH_BYTES = 1 << 20;

export class Forwarder {
  readonly url: string;
  readonly stats: ForwardStats = { delivered: 0, attempts: 0, failures: 0, givenUp: 0, pending: 0, lagSeconds: 0, active: true };
  readonly #options: Required<Omit<ForwarderOptions, "warn">> & { warn: (message: string) => void };
  readonly #key: Buffer;
  #outbox: Outbox | null = null;
  /** Entries in log order from `#head` on, delivered or not; the front is dropped as it is delivered. */
  #queue: Pending[] = [];
  #head = 0;
  /** Entries in the queue not yet done: what the window bounds. */
  #undone = 0;
  /** Per message, the delivery of its last entry read: the next one waits for it. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Free request slots, and who waits for one. */
  #slots = 0;
  readonly #waiting: (() => void)[] = [];
  #saved: Position | null = null;
  #position: Position | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #saveTimer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;
  /** The pump waits for room in the window. */
  #wantsRoom = false;
  readonly #abort = new AbortController();
  /** For the `changes` filter: each message's status so far, in log order (bounded). */
  readonly #tracker: MessageTracker | null;
  /**
   * Attempts are failing: said when it starts and when one succeeds again, not per retry, and at
   * most once a minute (an application failing every other request would fill the journal).
   */
  #failing = false;
  #saidFailing = false;
  #saidAt = -Infinity;
  /** Batch mode only: the lanes messages are spread over. */
  readonly #lanes: Lane[] | null;

  constructor(options: ForwarderOptions) {
    this.url = options.url;
    this.#key = webhookKey(options.secret);
    this.#options = {
      filter: FORWARD_EVERYTHING,
      timeoutMs: 10_000,
      concurrency: 16,
      window: 2_000,
      retryForMs: 25 * 3600_000,
      backoffMs: 1_000,
      pollMs: 100,
      batch: 1,
      warn: (message) => console.error(message),
      ...options,
    };
    this.#slots = this.#options.concurrency;
    this.#tracker = this.#options.filter.changes ? new MessageTracker({ maxMessages: DEFAULT_MAX_MESSAGES }) : null;
    this.#lanes = this.#options.batch > 1 ? Array.from({ length: this.#options.concurrency }, () => ({ waiting: [], running: null })) : null;
  }

  /** Resume from the saved position (or the log's end the first time) and forward from then on. */
  start(): void {
    this.#saved = readPosition(this.#options.statePath);
    this.#outbox = new Outbox(this.#options.log, this.#saved);
    this.#options.warn(`sms-status: forwarding to ${redact(this.url)}: ${this.#outbox.note}`);
    this.#seedTracker(this.#outbox.start);
    if (this.#saved === null) {
      // The first start's position, at once: a restart before anything is delivered resumes here.
      this.#position = this.#outbox.start;
      this.#save();
    }
    this.#saveTimer = setInterval(() => this.#save(), 1000);
    this.#saveTimer.unref?.();
    this.#pump();
  }

  /** Stop reading and retrying; entries in flight are abandoned (they are sent again after a restart). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#saveTimer) clearInterval(this.#saveTimer);
    for (const wake of this.#waiting.splice(0)) wake();
    await Promise.allSettled([...this.#chains.values(), ...(this.#lanes ?? []).map((lane) => lane.running)]);
    this.#save();
    this.#outbox?.close();
  }

  /** Read what the window allows, hand each entry to its message's lane, and come back soon. */
  #pump(): void {
    if (this.#stopped || !this.stats.active) return;
    let read = 0;
    const room = this.#room();
    // Reads in batches: each read takes a block of the file, so a few lines at a time cost a block each.
    const full = room < this.#readSize();
    try {
      if (!full) {
        for (const line of this.#outbox!.read(room)) {
          read++;
          this.#take(line);
        }
      }
    } catch (error) {
      this.#options.warn(`sms-status: forwarding cannot read ${this.#options.log}: ${(error as Error).message}`);
    }
    this.#updateLag();
    this.#timer = null;
    // A full window waits for deliveries to make room (#finish wakes it), not for the poll.
    if (full) this.#wantsRoom = true;
    else this.#timer = setTimeout(() => this.#pump(), read > 0 ? 0 : this.#options.pollMs);
  }

  /** Entries the window has room for; done entries behind an undelivered one keep only their position. */
  #room(): number {
    return Math.min(this.#options.window - this.#undone, 50 * this.#options.window - (this.#queue.length - this.#head));
  }

  #readSize(): number {
    return Math.max(1, Math.floor(this.#options.window / 4));
  }

  #take(line: OutboxLine): void {
    // Parsed whole, so a torn line is never sent as a body; the body is the line itself (#deliver).
    const entry = parseEntry(line.text);
    const item: Pending = { line, done: false, receivedAt: entry ? Date.parse(entry.receivedAt) : Date.now() };
    this.#queue.push(item);
    this.#undone += 1;
    if (entry === null || !this.#keeps(entry)) {
      this.#finish(item);
      return;
    }
    const key = messageKey(entry) ?? entry.trackingId ?? `${line.ino}:${line.end}`;
    if (this.#lanes !== null) {
      const lane = this.#lanes[laneOf(key, this.#lanes.length)]!;
      lane.waiting.push({ item, entry });
      // Started after this read's other entries are in the lanes, so the first batch is not one entry.
      lane.running ??= Promise.resolve().then(() => this.#runLane(lane));
      return;
    }
    const chain = (this.#chains.get(key) ?? Promise.resolve()).then(() => this.#deliver(item, entry));
    this.#chains.set(key, chain);
    void chain.then(() => {
      if (this.#chains.get(key) === chain) this.#chains.delete(key);
    });
  }

  /**
   * The `changes` filter knows what was forwarded before a restart from the log before the resume
   * position (its last 16 MiB, as the duplicate filter). Without that (a position in a rotated
   * file, or a message older than that), a report is taken as a change: sent again rather than lost.
   */
  #seedTracker(start: Position): void {
    if (this.#tracker === null || start.ino === 0) return;
    const file = statSync(this.#options.log, { throwIfNoEntry: false });
    // Shorter than the position: truncated in place, and the outbox reads it again from its start,
    // so what it holds now is to come, not known.
    if (file === undefined || file.ino !== start.ino || file.size < start.offset) return;
    for (const entry of readRecentEntries(this.#options.log, undefined, undefined, start.offset)) this.#tracker.add(entry);
  }

  #keeps(entry: LogEntry): boolean {
    const { kinds, outcomes, channels, final } = this.#options.filter;
    // Every entry goes through the tracker, whatever the other terms: a status is the sum of all its reports.
    const changed = this.#tracker === null || statusChange(this.#tracker, entry) !== null;
    return (
      changed &&
      (kinds.length === 0 || kinds.includes(entry.kind)) &&
      (outcomes.length === 0 || outcomes.includes(entry.outcome)) &&
      (channels.length === 0 || channels.includes(entry.channel ?? "")) &&
      (!final || entry.final)
    );
  }

  /** One entry as a webhook of its own. */
  async #deliver(item: Pending, entry: LogEntry): Promise<void> {
    const outcome = await this.#send(entryId(item.line), envelope(entry, item.line.text), 1);
    if (outcome === "delivered" || outcome === "given-up") this.#finish(item);
  }

  /** Batch mode: the lane's entries, a batch at a time in log order, until none is left. */
  async #runLane(lane: Lane): Promise<void> {
    try {
      while (lane.waiting.length > 0 && !this.#stopped && this.stats.active) {
        const ids: string[] = [];
        const data: string[] = [];
        // The body's UTF-8 bytes, counted exactly: a report's text may take 3 bytes a character.
        // The wrapper first (its timestamp is an ISO time: the same length whichever entry's).
        let bytes = Buffer.byteLength(batchBody(lane.waiting[0]!.entry.receivedAt, []));
        for (const { item, entry } of lane.waiting) {
          if (data.length === this.#options.batch) break;
          const id = entryId(item.line);
          const one = envelope(entry, item.line.text, id);
          bytes += Buffer.byteLength(one) + (data.length > 0 ? 1 : 0);
          if (data.length > 0 && bytes > MAX_BATCH_BYTES) break;
          ids.push(id);
          data.push(one);
        }
        const batch = lane.waiting.splice(0, data.length);
        // The id is the entries' ids': the same batch is the same webhook, in a retry or after a restart.
        const id = "msg_" + createHash("sha256").update(ids.join(",")).digest("base64url").slice(0, 32);
        const outcome = await this.#send(id, batchBody(batch.at(-1)!.entry.receivedAt, data), batch.length);
        if (outcome === "gone" || outcome === "stopped") break;
        for (const { item } of batch) this.#finish(item);
      }
    } catch (error) {
      this.#options.warn(`sms-status: forwarding to ${redact(this.url)} stopped a lane: ${(error as Error).message}`);
    } finally {
      // Whatever happened, the lane can be started again (a lane left "running" would stall unseen).
      lane.running = null;
    }
  }

  /** One webhook, attempted until a 2xx, a 410, the retry period's end, or stop. */
  async #send(id: string, body: string, entries: number): Promise<Outcome> {
    const started = Date.now();
    let delay = this.#options.backoffMs;
    while (!this.#stopped && this.stats.active) {
      this.stats.attempts += 1;
      await this.#acquire();
      let status: number | null;
      try {
        status = await this.#attempt(id, body);
      } finally {
        this.#release();
      }
      if (status !== null && status >= 200 && status < 300) {
        if (this.#saidFailing) this.#options.warn(`sms-status: forwarding to ${redact(this.url)} works again`);
        this.#failing = this.#saidFailing = false;
        this.stats.delivered += entries;
        return "delivered";
      }
      if (status === 410) {
        this.stats.active = false;
        this.#options.warn(`sms-status: ${redact(this.url)} answered 410 Gone: forwarding to it stops`);
        return "gone";
      }
      this.stats.failures += 1;
      if (!this.#failing && !this.#stopped && Date.now() - this.#saidAt > 60_000) {
        this.#saidFailing = true;
        this.#saidAt = Date.now();
        this.#options.warn(`sms-status: forwarding to ${redact(this.url)} fails (${status === null ? "no answer" : `answered ${status}`}); retrying with backoff`);
      }
      this.#failing = true;
      if (Date.now() - started > this.#options.retryForMs) {
        this.stats.givenUp += entries;
        this.#options.warn(`sms-status: gave up forwarding ${id} to ${redact(this.url)} after ${Math.round((Date.now() - started) / 3600_000)} h`);
        return "given-up";
      }
      // Full jitter: a crowd of retries after an outage does not arrive all at once.
      await sleep(delay * (0.5 + Math.random() / 2), this.#abort.signal);
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
    return "stopped";
  }

  async #acquire(): Promise<void> {
    if (this.#slots > 0) {
      this.#slots -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#slots += 1;
  }

  /** One POST: its status, or null when it did not complete (refused, reset, timed out). */
  async #attempt(id: string, body: string): Promise<number | null> {
    // The time limit or stop, whichever comes first, without AbortSignal.any: Node 20 has it only from
    // 20.3, and a TypeError here would be taken for a failed attempt, forever.
    if (this.#abort.signal.aborted) return null;
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    const timer = setTimeout(abort, this.#options.timeoutMs);
    this.#abort.signal.addEventListener("abort", abort, { once: true });
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...webhookHeaders(this.#key, id, Math.floor(Date.now() / 1000), body) },
        body,
        redirect: "manual",
        signal: attempt.signal,
      });
      await response.body?.cancel();
      return response.status;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
      this.#abort.signal.removeEventListener("abort", abort);
    }
  }

  /** Mark delivered (or not to be sent), move the position, and wake a pump waiting for room. */
  #finish(item: Pending): void {
    item.done = true;
    item.line.text = "";
    this.#undone -= 1;
    this.#advance();
    if (this.#wantsRoom && !this.#stopped && this.#room() >= this.#readSize()) {
      this.#wantsRoom = false;
      this.#timer = setTimeout(() => this.#pump(), 0);
    }
  }

  /** Move the position past every delivered entry at the front. */
  #advance(): void {
    const from = this.#head;
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.done) this.#head++;
    if (this.#head === from) return;
    const last = this.#queue[this.#head - 1]!.line;
    this.#position = { ino: last.ino, offset: last.end };
    // Compact now and then, not on every entry.
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#updateLag();
  }

  #updateLag(): void {
    this.stats.pending = this.#undone;
    const oldest = this.#queue[this.#head];
    this.stats.lagSeconds = oldest ? Math.max(0, (Date.now() - oldest.receivedAt) / 1000) : 0;
  }

  #save(): void {
    const position = this.#position;
    if (position === null || (this.#saved && this.#saved.ino === position.ino && this.#saved.offset === position.offset)) return;
    try {
      writePosition(this.#options.statePath, position);
      this.#saved = position;
    } catch (error) {
      this.#options.warn(`sms-status: cannot save the forwarding position to ${this.#options.statePath}: ${(error as Error).message}`);
    }
  }
}

/** Stable across retries and restarts: the same entry at the same place is the same message. */
function entryId(line: OutboxLine): string {
  return "msg_" + createHash("sha256").update(`${line.ino}:${line.end}:${line.text}`).digest("base64url").slice(0, 32);
}

/** An entry's webhook payload; the line is the entry's JSON, wrapped as it is. In a batch, with its id. */
function envelope(entry: LogEntry, line: string, id?: string): string {
  const head = id === undefined ? "" : `"id":"${id}",`;
  return `{${head}"type":${JSON.stringify(`sms_status.${entry.kind}`)},"timestamp":${JSON.stringify(entry.receivedAt)},"data":${line}}`;
}

/** A batch's body: its entries' payloads, stamped with the newest one's time. */
function batchBody(timestamp: string, data: string[]): string {
  return `{"type":"sms_status.batch","timestamp":${JSON.stringify(timestamp)},"data":[${data.join(",")}]}`;
}

/** A message's lane: FNV-1a of its key, so the same message always takes the same lane. */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // An abort that came first fires no event: stopping must not wait out a backoff.
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** A URL without credentials or query (which may hold a token), for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(the forwarding URL)";
  }
}
