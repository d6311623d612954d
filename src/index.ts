/**
 * elysia-sms-status as a library: the plugin for an existing Elysia app, and the parts for those
 * who build their own route (schemas, classification, log entry renderings, journal, duplicates).
 *
 * @example
 * import { Elysia } from "elysia";
 * import { smsStatus } from "elysia-sms-status";
 * new Elysia().use(smsStatus({ log: "/var/log/sms/status.log" })).listen(3000);
 */

// The plugin and its options.
export { smsStatus } from "./http/plugin.ts";
export {
  type ForwardOptions,
  type HookName,
  type MessageStatusHook,
  type ReportHook,
  type SmsStatusOptions,
} from "./http/options.ts";
export { DEFAULT_BODY_LIMIT, DEFAULT_LOG, DEFAULT_MAX_MESSAGES, DEFAULT_PATH } from "./core/defaults.ts";

// Routee's callback body: the TypeBox schema and its type (one name for both).
export { RouteeCallback, RouteeStatus, RouteeStatusReason } from "./providers/routee/schema.ts";
export { classify } from "./providers/routee/classify.ts";
export { routeeEntry, callbackKind } from "./providers/routee/adapter.ts";
export { routee } from "./providers/routee/index.ts";
export type { InvalidBody, Provider, ProviderReading } from "./providers/provider.ts";
export { OUTCOMES, type Classification, type Outcome } from "./core/outcome.ts";

// The log entry: schema + type, and its two renderings.
export { LogEntry, EntryKind, blankEntry, type ReceivedEntry } from "./core/entry.ts";
export { LOG_FORMATS, renderJsonl, renderText, type LogFormat } from "./core/render.ts";

// The answers of the routes (for hosts that document or test them).
export { DuplicateAccepted, ErrorAnswer, ReportAccepted } from "./http/answers.ts";

// Where entries go: the Store interface and the file store (a journal plus its format).
export type { Store, StoreStats } from "./store/store.ts";
export { FileStore, type FileStoreOptions } from "./store/file-store.ts";

// The journal the file store appends to.
export { FileJournal, type FileJournalOptions, type Journal } from "./journal/file-journal.ts";
export { JournalOpenError, JournalWriteError } from "./core/errors.ts";

// Retried reports.
export { DuplicateFilter, type DuplicateFilterOptions } from "./journal/dedupe.ts";
export { duplicateKey } from "./core/identity.ts";

// Message status from many reports: per part the most final, then the latest; per message all parts.
export {
  MessageTracker,
  type MessageStatus,
  type MessageTrackerOptions,
  type PartStatus,
  type StatusFields,
} from "./status/tracker.ts";
export { compareDates, type MessageOutcome } from "./status/rules.ts";
export { supersedes, rankOf, MessageFold, PRICE_SCALE } from "./status/rules.ts";

// Who may post: token comparison and the address allowlist.
export { Allowlist, clientAddress, presentedToken, tokenMatches, type AllowlistOptions } from "./http/access.ts";

// Prometheus counters the plugin updates (pass one in `metrics` and serve `metrics.render()`).
export { Metrics, ACK_BUCKETS } from "./http/metrics.ts";
