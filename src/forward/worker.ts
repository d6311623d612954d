/**
 * The forwarder's own thread (started by thread.ts): reading the log, signing and fetching run on
 * this event loop, so forwarding does not compete with the receiver for the main one. Stats and
 * warnings go back as messages; the log and the state file are read and written here.
 */
import { Forwarder, type ForwarderOptions } from "./forwarder.ts";

/** What the main thread sends: the options once, then a stop. */
export type ToWorker = { type: "start"; options: Omit<ForwarderOptions, "warn"> } | { type: "stop" };
/** What this thread sends back. */
export type FromWorker =
  | { type: "stats"; stats: Forwarder["stats"] }
  | { type: "started" }
  | { type: "warn"; message: string }
  | { type: "stopped" };

/** How often the figures are sent for /metrics. */
const STATS_MS = 200;

declare const self: Worker;
let forwarder: Forwarder | null = null;
let ticker: ReturnType<typeof setInterval> | null = null;
const send = (message: FromWorker) => self.postMessage(message);

self.onmessage = async function onForwardMessage(event: MessageEvent<ToWorker>) {
  const message = event.data;
  if (message.type === "start" && forwarder === null) {
    forwarder = new Forwarder({ ...message.options, warn: (text) => send({ type: "warn", message: text }) });
    forwarder.start();
    send({ type: "started" });
    ticker = setInterval(() => send({ type: "stats", stats: forwarder!.stats }), STATS_MS);
  } else if (message.type === "stop") {
    if (ticker) clearInterval(ticker);
    await forwarder?.stop();
    if (forwarder) send({ type: "stats", stats: forwarder.stats });
    send({ type: "stopped" });
  }
};
