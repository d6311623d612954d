/**
 * The receiver, its store, duplicate filter, allowlist and hooks, made from the plugin's options:
 * one assembly shared by the plugin and the standalone server. Framework-free.
 */
import { DEFAULT_BODY_LIMIT, DEFAULT_LOG } from "../core/defaults.ts";
import type { LogEntry } from "../core/entry.ts";
import { DuplicateFilter } from "../journal/dedupe.ts";
import { FileJournal } from "../journal/file-journal.ts";
import type { Provider } from "../providers/provider.ts";
import { routee } from "../providers/routee/index.ts";
import { FileStore } from "../store/file-store.ts";
import type { Store } from "../store/store.ts";
import { Allowlist } from "./access.ts";
import { Metrics } from "./metrics.ts";
import type { HookName, ReportHook, SmsStatusOptions } from "./options.ts";
import { createReceiver, type Receiver } from "./receiver.ts";

export interface ReceiverSetup {
  receiver: Receiver;
  store: Store;
  metrics: Metrics;
  /** Stop the allowlist's refreshes and close the store if this setup opened it. */
  close(): Promise<void>;
}

/**
 * Open the store (throws `JournalOpenError`), remember recently stored reports for duplicate
 * detection, and make the receiver. `lazy`: hold the log open only from the first write (a plugin
 * instance that `.use()` drops as a duplicate never keeps a file descriptor).
 */
export function setUpReceiver(options: SmsStatusOptions, lazy: boolean, provider: Provider = routee): ReceiverSetup {
  const path = options.log ?? DEFAULT_LOG;
  const ownsJournal = options.journal === undefined;
  const journal = options.journal ?? new FileJournal(path, { fsync: options.fsync, lazy });
  const store = new FileStore(journal, { format: options.format ?? "jsonl", path: ownsJournal ? path : undefined });
  const duplicates = options.dedupe === false ? null : new DuplicateFilter(options.dedupe ?? {});
  duplicates?.rememberStored(store.recent(), provider.duplicateKey);
  const allow = Array.isArray(options.allow) ? new Allowlist({ allow: options.allow as string[] }) : (options.allow as Allowlist | undefined);
  // A list given as strings is resolved here; until then only its literal IPs and ranges match.
  if (Array.isArray(options.allow)) void allow!.start();
  const metrics = options.metrics ?? new Metrics();
  const receiver = createReceiver({
    provider,
    store,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    duplicates,
    token: options.token,
    allow,
    trustProxy: options.trustProxy,
    metrics,
    onWritten: hookRunner(options),
  });
  return {
    receiver,
    store,
    metrics,
    async close() {
      allow?.stop();
      // A journal passed in is the caller's to close.
      if (ownsJournal) await store.close();
    },
  };
}

function defaultHookError(error: unknown, entry: LogEntry, hook: HookName): void {
  console.error(`elysia-sms-status: ${hook} hook failed for message ${entry.messageId ?? "(none)"}:`, error);
}

/** Starts the user's hooks for a written entry without waiting for them; reports their failures. */
function hookRunner(options: SmsStatusOptions): ((entry: LogEntry) => void) | undefined {
  if (!options.onReport && !options.onDelivered && !options.onFailed) return undefined;
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
    start("onReport", options.onReport, entry);
    if (entry.outcome === "delivered") start("onDelivered", options.onDelivered, entry);
    if (entry.outcome === "failed") start("onFailed", options.onFailed, entry);
  };
}
