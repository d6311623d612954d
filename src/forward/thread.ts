/**
 * A Forwarder in a worker thread, with the same face (`url`, `stats`, `start`, `stop`), so that
 * reading, signing and sending do not compete with the receiver for the main event loop. Its
 * stats are copied here as the worker sends them (every 200 ms), for /metrics; its warnings are
 * written here.
 */
import { workerUrl } from "../core/worker-url.ts";
import { webhookKey } from "./signature.ts";
import { readPosition } from "./state.ts";
import { redact, type ForwarderOptions, type ForwardStats } from "./forwarder.ts";
import type { FromWorker, ToWorker } from "./worker.ts";

const WORKER = workerUrl(import.meta.url, "forward/worker");

export class ForwarderThread {
  readonly url: string;
  readonly stats: ForwardStats = { delivered: 0, attempts: 0, failures: 0, givenUp: 0, pending: 0, lagSeconds: 0, active: true };
  readonly #options: Omit<ForwarderOptions, "warn">;
  readonly #warn: (message: string) => void;
  #worker: Worker | null = null;
  #stopped: Promise<void> | null = null;
  /** The thread threw: it may never answer a stop. */
  #failed = false;

  constructor(options: ForwarderOptions) {
    const { warn = (message: string) => console.error(message), ...rest } = options;
    webhookKey(options.secret); // a bad secret fails here, in the caller, not in the thread
    readPosition(options.statePath); // and so does a state file that holds no position
    this.url = options.url;
    this.#options = rest;
    this.#warn = warn;
  }

  /**
   * Resolves once the thread holds its start position: a report acknowledged after this is
   * forwarded even on the first start (which begins at the log's end).
   */
  start(): Promise<void> {
    const worker = new Worker(WORKER);
    this.#worker = worker;
    return new Promise<void>((resolve) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === "stats") Object.assign(this.stats, message.stats);
        else if (message.type === "warn") this.#warn(message.message);
        else if (message.type === "started") resolve();
      };
      worker.onerror = (event) => {
        this.#failed = true;
        this.#warn(`sms-status: forwarding to ${redact(this.url)} failed: ${event.message}`);
        resolve();
      };
      worker.postMessage({ type: "start", options: this.#options } satisfies ToWorker);
    });
  }

  /** Stop the thread after it has saved its position (entries in flight are sent again after a restart). */
  stop(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return Promise.resolve();
    if (this.#failed) {
      worker.terminate();
      return Promise.resolve();
    }
    this.#stopped ??= new Promise<void>((resolve) => {
      const done = () => {
        worker.terminate();
        resolve();
      };
      worker.addEventListener("message", (event: MessageEvent<FromWorker>) => event.data.type === "stopped" && done());
      worker.addEventListener("close", () => resolve());
      worker.postMessage({ type: "stop" } satisfies ToWorker);
    });
    return this.#stopped;
  }
}
