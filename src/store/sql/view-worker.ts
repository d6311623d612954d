/**
 * The SQLite view's own thread (started by view-thread.ts): reading the log and applying it run on
 * this event loop, so a batch's transaction never holds up the receiver's answers. Stats and
 * warnings go back as messages. A view that cannot open ends the thread with `failed`; the main
 * thread starts it again, backed off.
 */
import { SqlView, type ViewOptions, type ViewStats } from "./view.ts";

/** What the main thread sends: the options once, then a stop. */
export type ToViewWorker = { type: "start"; options: Omit<ViewOptions, "warn"> } | { type: "stop" };
/** What this thread sends back. */
export type FromViewWorker =
  | { type: "stats"; stats: ViewStats }
  | { type: "started" }
  | { type: "failed"; message: string }
  | { type: "warn"; message: string }
  | { type: "stopped" };

/** How often the figures are sent for /metrics. */
const STATS_MS = 200;

declare const self: Worker;
let view: SqlView | null = null;
/** Settles when the view is open (or failed to): a stop waits for it, then applies the rest. */
let opened: Promise<boolean> = Promise.resolve(false);
let ticker: ReturnType<typeof setInterval> | null = null;
const send = (message: FromViewWorker) => self.postMessage(message);

self.onmessage = async function onViewMessage(event: MessageEvent<ToViewWorker>) {
  const message = event.data;
  if (message.type === "start" && view === null) {
    view = new SqlView({ ...message.options, warn: (text) => send({ type: "warn", message: text }) });
    opened = view.open().then(
      () => true,
      (error) => {
        send({ type: "failed", message: (error as Error).message });
        return false;
      },
    );
    if (!(await opened)) return;
    view.start();
    send({ type: "started" });
    ticker = setInterval(() => send({ type: "stats", stats: view!.stats }), STATS_MS);
  } else if (message.type === "stop") {
    const open = await opened;
    if (ticker) clearInterval(ticker);
    if (open) await view!.stop().catch((error) => send({ type: "warn", message: `sms-status: view: stop: ${(error as Error).message}` }));
    if (view) send({ type: "stats", stats: view.stats });
    send({ type: "stopped" });
  }
};
