/**
 * The SQLite view in a worker thread (view-worker.ts), so that applying a batch never holds up the
 * receiver's answers. The main thread opens and migrates the database first and keeps that
 * connection for the read API (`store`); the thread opens its own to write. Its stats are copied
 * here as it sends them (every 200 ms), for /metrics; its warnings are written here.
 *
 * A thread that dies (it could not open the view, or threw) is reported on stderr, counted in
 * `restarts`, and started again after a backoff that doubles up to a minute: it resumes from the
 * position saved with its last commit, so nothing is applied twice or skipped.
 */
import { workerUrl } from "../../core/worker-url.ts";
import type { ViewOptions, ViewStats } from "./view.ts";
import { sqliteUrl } from "./view.ts";
import { openSqlStore, type SqlStore } from "./sql-store.ts";
import type { FromViewWorker, ToViewWorker } from "./view-worker.ts";

const WORKER = workerUrl(import.meta.url, "store/sql/view-worker");

/** The first wait before a restart; it doubles at each failure in a row, up to `MAX_RESTART_MS`. */
export const RESTART_MS = 1000;
const MAX_RESTART_MS = 60_000;
/** A thread that ran this long before dying starts the backoff over. */
const STABLE_MS = 60_000;

/** What the metrics read of the view's thread. */
export interface ViewThreadStats extends ViewStats {
  /** Times the thread died and was started again. */
  restarts: number;
  /** Whether a thread is applying the log now. */
  running: boolean;
}

export interface ViewThreadOptions extends ViewOptions {
  /** @default RESTART_MS */
  restartMs?: number;
}

export class ViewThread {
  readonly stats: ViewThreadStats = { applied: 0, pending: 0, lagSeconds: 0, failures: 0, restarts: 0, running: false };
  readonly #options: Omit<ViewOptions, "warn">;
  readonly #warn: (line: string) => void;
  readonly #restartMs: number;
  #store: SqlStore | null = null;
  #worker: Worker | null = null;
  /** What the threads before this one applied and failed (a new thread counts from 0). */
  #before = { applied: 0, failures: 0 };
  #startedAt = 0;
  #delay = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopping = false;

  constructor(options: ViewThreadOptions) {
    const { warn = (line: string) => process.stderr.write(line + "\n"), restartMs = RESTART_MS, ...rest } = options;
    this.#options = rest;
    this.#warn = warn;
    this.#restartMs = restartMs;
  }

  /** Open and migrate the database here, before the thread or a reader uses it. */
  async open(): Promise<void> {
    this.#store = await openSqlStore(sqliteUrl(this.#options.db));
  }

  /** The main thread's connection, for readers in this process. */
  get store(): SqlStore {
    return this.#store!;
  }

  /** Start the thread; resolves once it applies the log (or has failed and will be restarted). */
  start(): Promise<void> {
    const worker = new Worker(WORKER);
    this.#worker = worker;
    this.#startedAt = Date.now();
    const { promise, resolve } = Promise.withResolvers<void>();
    worker.onmessage = (event: MessageEvent<FromViewWorker>) => {
      const message = event.data;
      if (message.type === "stats") this.#copy(message.stats);
      else if (message.type === "warn") this.#warn(message.message);
      else if (message.type === "started") {
        this.stats.running = true;
        resolve();
      } else if (message.type === "failed") {
        this.#died(worker, `cannot open the view: ${message.message}`);
        resolve();
      }
    };
    worker.onerror = (event) => {
      this.#died(worker, event.message);
      resolve();
    };
    worker.addEventListener("close", () => {
      this.#died(worker, "the thread ended");
      resolve();
    });
    worker.postMessage({ type: "start", options: this.#options } satisfies ToViewWorker);
    return promise;
  }

  #copy(stats: ViewStats): void {
    this.stats.applied = this.#before.applied + stats.applied;
    this.stats.failures = this.#before.failures + stats.failures;
    this.stats.pending = stats.pending;
    this.stats.lagSeconds = stats.lagSeconds;
  }

  /** `worker` is gone (once per thread): say so, count it, start another, backed off. */
  #died(worker: Worker, reason: string): void {
    if (this.#worker !== worker || this.#stopping) return;
    this.#worker = null;
    worker.terminate();
    this.stats.running = false;
    this.stats.restarts += 1;
    this.#before = { applied: this.stats.applied, failures: this.stats.failures };
    this.#delay = Date.now() - this.#startedAt > STABLE_MS ? this.#restartMs : Math.min(MAX_RESTART_MS, this.#delay * 2 || this.#restartMs);
    this.#warn(`sms-status: error: the SQLite view ${this.#options.db} stopped (${reason}); it is not being updated; restarting in ${this.#delay / 1000} s`);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopping) void this.start();
    }, this.#delay);
  }

  /** Let the thread apply what is in the log and close, then close the main connection. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    const worker = this.#worker;
    this.#worker = null;
    if (worker) {
      await new Promise<void>((resolve) => {
        worker.onmessage = (event: MessageEvent<FromViewWorker>) => {
          const message = event.data;
          if (message.type === "stats") this.#copy(message.stats);
          else if (message.type === "warn") this.#warn(message.message);
          else if (message.type === "stopped" || message.type === "failed") resolve();
        };
        worker.onerror = () => resolve();
        worker.addEventListener("close", () => resolve());
        worker.postMessage({ type: "stop" } satisfies ToViewWorker);
      });
      worker.terminate();
      this.stats.running = false;
    }
    await this.#store?.close();
  }
}
