/**
 * The receiver, its store, duplicate filter, allowlist and hooks, made from the plugin's options:
 * one assembly shared by the plugin and the standalone server. Framework-free.
 */
import { DEFAULT_BODY_LIMIT, DEFAULT_LOG, DEFAULT_MAX_MESSAGES, DEFAULT_PATH } from "../core/defaults.ts";
import type { Channel, LogEntry } from "../core/entry.ts";
import { DuplicateFilter } from "../journal/dedupe.ts";
import { FileJournal } from "../journal/file-journal.ts";
import type { Provider } from "../providers/provider.ts";
import { providerPath } from "../providers/registry.ts";
import { routee } from "../providers/routee/index.ts";
import { FileStore } from "../store/file-store.ts";
import type { Store } from "../store/store.ts";
import type { MessageOutcome } from "../status/rules.ts";
import { messageKey, MessageTracker, statusChange } from "../status/tracker.ts";
import { Allowlist } from "./access.ts";
import { Metrics } from "./metrics.ts";
import type { HookName, SmsStatusOptions } from "./options.ts";
import { createReceiver, type Receiver } from "./receiver.ts";

/** A provider's receiver and where it listens (Routee at the path, others at `<path>/<name>`). */
export interface ProviderRoute {
  provider: Provider;
  path: string;
  receiver: Receiver;
}

export interface ReceiverSetup {
  /** Routee's receiver, or the first provider's. */
  receiver: Receiver;
  /** One per provider, in the order given. */
  routes: ProviderRoute[];
  store: Store;
  metrics: Metrics;
  /** Stop the allowlist's refreshes and close the store if this setup opened it. */
  close(): Promise<void>;
}

/**
 * Open the store (throws `JournalOpenError`), remember recently stored reports for duplicate
 * detection and message status, and make the receiver. `lazy`: hold the log open only from the
 * first write (a plugin instance that `.use()` drops as a duplicate never keeps a file descriptor).
 */
export function setUpReceiver(options: SmsStatusOptions, lazy: boolean): ReceiverSetup {
  const providers = options.providers ?? [routee];
  if (providers.length === 0) throw new TypeError("elysia-sms-status: providers must name at least one provider");
  const byName = new Map(providers.map((p) => [p.name, p]));
  const log = options.log ?? DEFAULT_LOG;
  const ownsJournal = options.journal === undefined && options.store === undefined;
  const store: Store =
    options.store ??
    new FileStore(options.journal ?? new FileJournal(log, { fsync: options.fsync, lazy }), {
      format: options.format ?? "jsonl",
      path: ownsJournal ? log : undefined,
    });
  const duplicates = options.dedupe === false || store.decidesDuplicates ? null : new DuplicateFilter(options.dedupe ?? {});
  // Read once (up to 16 MiB of log), for the duplicate filter and the message tracker.
  const recent = [...store.recent()];
  duplicates?.rememberStored(recent, (entry) => byName.get(entry.provider)?.duplicateKey(entry) ?? null);
  const allow = Array.isArray(options.allow) ? new Allowlist({ allow: options.allow as string[] }) : (options.allow as Allowlist | undefined);
  // A list given as strings is resolved here; until then only its literal IPs and ranges match.
  if (Array.isArray(options.allow)) void allow!.start();
  const metrics = options.metrics ?? new Metrics();
  const onWritten = hookRunner(options, recent, metrics);
  const path = options.path ?? DEFAULT_PATH;
  const routes = providers.map((provider) => ({
    provider,
    path: providerPath(path, provider.name),
    receiver: createReceiver({
      provider,
      store,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      duplicates,
      token: options.token,
      allow,
      trustProxy: options.trustProxy,
      metrics,
      publicUrl: options.publicUrl,
      onWritten,
    }),
  }));
  return {
    receiver: routes[0]!.receiver,
    routes,
    store,
    metrics,
    async close() {
      allow?.stop();
      // A journal or store passed in is the caller's to close.
      if (ownsJournal) await store.close();
    },
  };
}

function defaultHookError(error: unknown, entry: LogEntry, hook: HookName): void {
  console.error(`elysia-sms-status: ${hook} hook failed for message ${entry.messageId ?? "(none)"}:`, error);
}

/** Starts the user's hooks for a written entry without waiting for them; reports their failures. */
function hookRunner(options: SmsStatusOptions, recent: readonly LogEntry[], metrics: Metrics): (entry: LogEntry) => void {
  const { onReport, onDelivered, onFailed, onMessageStatus } = options;
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
  const start = (hook: HookName, entry: LogEntry, call: () => unknown) => {
    // Started from a resolved promise, so even a hook that throws synchronously becomes a rejection.
    Promise.resolve()
      .then(call)
      .catch((error: unknown) => report(error, entry, hook));
  };
  // One bounded tracker for the hook and the message-level metrics (sms_status_messages_final_total),
  // kept only when one of them is wanted: it is the costliest thing a report does here.
  const countMessages = options.messageMetrics ?? options.metrics !== undefined;
  const tracker = countMessages || onMessageStatus ? new MessageTracker({ maxMessages: options.maxMessages ?? DEFAULT_MAX_MESSAGES }) : null;
  if (tracker) for (const entry of recent) tracker.add(entry);
  // Counted once per message, when it first leaves pending (a later correction is not a second message).
  const countFinal = (outcome: MessageOutcome, previous: MessageOutcome | undefined, channel: Channel) => {
    if (outcome !== "pending" && (previous === undefined || previous === "pending")) metrics.messageFinal(outcome, channel);
  };
  return function runHooks(entry) {
    if (onReport) start("onReport", entry, () => onReport(entry));
    if (onDelivered && entry.outcome === "delivered") start("onDelivered", entry, () => onDelivered(entry));
    if (onFailed && entry.outcome === "failed") start("onFailed", entry, () => onFailed(entry));
    if (!tracker) return;
    if (!onMessageStatus) {
      // The metrics alone need only outcomes: no message status is built on the hot path.
      // The same messages as statusChange's, so the counter does not depend on whether the hook is set.
      const id = messageKey(entry);
      if (id === null) return;
      const previous = tracker.outcome(id);
      if (!tracker.add(entry)) return;
      const now = tracker.outcome(id)!;
      countFinal(now.outcome, previous?.outcome, now.channel);
      return;
    }
    const change = statusChange(tracker, entry);
    if (!change) return;
    const { message, previous } = change;
    countFinal(message.outcome, previous?.outcome, message.channel);
    start("onMessageStatus", entry, () => onMessageStatus(message, previous, entry));
  };
}
