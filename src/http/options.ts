/** The plugin's options, with their defaults and the check that fails at once on a bad one. */
import { MIN_TOKEN_LENGTH } from "../core/defaults.ts";
import type { LogEntry } from "../core/entry.ts";
import { LOG_FORMATS, type LogFormat } from "../core/render.ts";
import type { DuplicateFilterOptions } from "../journal/dedupe.ts";
import type { Journal } from "../journal/file-journal.ts";
import type { Store } from "../store/store.ts";
import type { MessageStatus } from "../status/tracker.ts";
import type { Allowlist } from "./access.ts";
import type { Provider } from "../providers/provider.ts";
import type { Metrics } from "./metrics.ts";
import { parseForwardFilter } from "../forward/filter.ts";
import { redact } from "../forward/forwarder.ts";
import { webhookKey } from "../forward/signature.ts";
import { isHttpUrl, repeatedUrl } from "../forward/state.ts";

export interface SmsStatusOptions {
  /**
   * The providers whose callbacks to receive: Routee at `path`, every other at `<path>/<name>`
   * (make them with the provider specs' `create`, e.g. for Twilio with its auth token).
   * @default [routee]
   */
  providers?: readonly Provider[];
  /**
   * The scheme, host and port providers call (`https://sms.example.com`), when a proxy makes them
   * differ from what the app sees: the URL that Twilio's and Plivo's signatures cover. @default none
   */
  publicUrl?: string;
  /**
   * Mount the read API (`GET <prefix>/v1/messages/:id`, `/v1/messages`, `/v1/report`, `/v1/events`)
   * in the host app, answering from this plugin's log. It has no token of its own: put it behind
   * the host's auth. @default off
   */
  api?: { prefix?: string };
  /**
   * POST every entry written to the log to your application, signed as Standard Webhooks say, at
   * least once and in order per message, as the server's `--forward` does: the log is the outbox,
   * so a crash loses nothing the hooks would have lost. Needs the plugin's own JSONL log (not
   * `journal`, `store` or the text format). Runs on the app's event loop from the app's start or the
   * first report, whichever comes first; `app.stop()` stops it.
   * @default off
   */
  forward?: ForwardOptions;
  /** Path of the callback route. @default "/sms/status" */
  path?: string;
  /** Log file to append to (ignored when `journal` is given). @default "./sms-status.log" */
  log?: string;
  /** A journal of your own instead of the file at `log`. */
  journal?: Journal;
  /**
   * A ready store instead of the log (a database: `openSqlStore`); `log`, `journal` and `format`
   * are then ignored, and a store that decides duplicates replaces `dedupe`. The caller closes it.
   */
  store?: Store;
  /** How entries are written. @default "jsonl" */
  format?: LogFormat;
  /** fdatasync each batch of entries before answering. @default false */
  fsync?: boolean;
  /** Largest accepted body in bytes; larger bodies get 413. @default 65536 */
  bodyLimit?: number;
  /** Duplicate detection settings, or `false` to write every retry. @default 48 h, 50 000 keys */
  dedupe?: DuplicateFilterOptions | false;
  /** Path of the health check, or `false` for none. @default "/healthz" */
  healthPath?: string | false;
  /**
   * Shared secret the callback must carry as `?token=` or `Authorization: Bearer`; others get 401
   * and nothing is written. @default none
   */
  token?: string;
  /**
   * Source addresses allowed to post: IPs, CIDRs or host names such as `callbacksallow.routee.net`
   * (or an `Allowlist` you started yourself). Others get 403. @default everyone
   */
  allow?: readonly string[] | Allowlist;
  /** Proxies (IPs/CIDRs) whose `X-Forwarded-For` is believed when checking `allow`. @default none */
  trustProxy?: readonly string[];
  /** Counters to update (render them with `metrics.render()`). @default a private instance */
  metrics?: Metrics;
  /**
   * Count messages reaching a final outcome (`sms_status_messages_final_total`). It keeps the last
   * `maxMessages` messages' parts in memory and folds each report, which at full rate costs about
   * 40 % of the receiver's requests/s and some 120 MB (docs/performance.md).
   * @default true when `metrics` is given (someone renders them), else false
   */
  messageMetrics?: boolean;
  /**
   * Called with a message's status by the project's rules (all parts delivered, any part failed,
   * a late `Sent` never undoing `Delivered`), after a report is in the log, only when that report
   * changed the message's outcome, status name, number of parts, parts delivered or cost; `previous`
   * is null for a message not seen before (or forgotten, see `maxMessages`). Never for duplicates or
   * rejected bodies. Runs after the answer is decided, like every hook.
   * @example onMessageStatus: (message) => db.setStatus(message.messageId, message.outcome)
   */
  onMessageStatus?: MessageStatusHook;
  /**
   * How many messages `onMessageStatus` remembers (about 0.7 KB each: 35 MiB at the default); a new
   * one evicts the message reported least recently, whose next report then starts it afresh, as if
   * never seen. Seeded at start from the log's last 16 MiB. @default 50 000
   */
  maxMessages?: number;
  /**
   * Called with each report's entry once it is in the log (not for duplicates or rejected bodies).
   * Per report, so per part: for a message's status use `onMessageStatus`.
   * Runs after the answer is decided: a slow or failing hook never delays or changes the 200.
   * @example onReport: (entry) => audit.append(entry)
   */
  onReport?: ReportHook;
  /** Like `onReport`, for entries whose outcome is `delivered`: one part, not the whole message. */
  onDelivered?: ReportHook;
  /** Like `onReport`, for entries whose outcome is `failed` (Undelivered, Failed, Unsent, ...). */
  onFailed?: ReportHook;
  /**
   * Called when a hook throws or rejects, with the entry being handled.
   * @default console.error with an "elysia-sms-status:" prefix
   */
  onHookError?: (error: unknown, entry: LogEntry, hook: HookName) => void;
}

/** The plugin's forwarding: the server's `--forward-*` flags as options. */
export interface ForwardOptions {
  /** Your application's URL, or several, each once (each gets every entry). */
  url: string | readonly string[];
  /** The `whsec_` secret the webhooks are signed with (`echo whsec_$(openssl rand -base64 32)`). */
  secret: string;
  /** As `--forward-filter`: kinds, outcomes, channels, `final`, `changes` (e.g. `"dlr,failed"`). @default everything */
  filter?: string;
  /** Entries per webhook; above 1, `sms_status.batch` webhooks (your application must take them). @default 1 */
  batch?: number;
  /** One attempt's time limit in ms. @default 10000 */
  timeoutMs?: number;
  /** Where the positions are kept (made if missing). @default beside the log */
  stateDir?: string;
}

/** A user hook; its result is not awaited by the answer. */
export type ReportHook = (entry: LogEntry) => unknown;
/**
 * A message's new status, its status before (null when first seen) and the report that changed it;
 * its result is not awaited by the answer.
 */
export type MessageStatusHook = (message: MessageStatus, previous: MessageStatus | null, entry: LogEntry) => unknown;
export type HookName = "onReport" | "onDelivered" | "onFailed" | "onMessageStatus";



export function assertOptions(options: SmsStatusOptions): void {
  const fail = (what: string) => {
    throw new TypeError(`elysia-sms-status: ${what}`);
  };
  if (options.format !== undefined && !LOG_FORMATS.includes(options.format))
    fail(`format must be one of ${LOG_FORMATS.join(", ")} (got ${JSON.stringify(options.format)})`);
  if (options.path !== undefined && !options.path.startsWith("/"))
    fail(`path must start with "/" (got ${JSON.stringify(options.path)})`);
  if (options.bodyLimit !== undefined && !(Number.isInteger(options.bodyLimit) && options.bodyLimit > 0))
    fail(`bodyLimit must be a positive whole number of bytes (got ${options.bodyLimit})`);
  if (options.maxMessages !== undefined && !(Number.isInteger(options.maxMessages) && options.maxMessages > 0))
    fail(`maxMessages must be a positive whole number (got ${options.maxMessages})`);
  if (options.forward !== undefined) assertForward(options, fail);
  if (options.token !== undefined && options.token.length < MIN_TOKEN_LENGTH)
    fail(`token must be at least ${MIN_TOKEN_LENGTH} characters (use a long random string, e.g. \`openssl rand -hex 24\`)`);
}

const FORWARD_KEYS = ["url", "secret", "filter", "batch", "timeoutMs", "stateDir"];

function assertForward(options: SmsStatusOptions, fail: (what: string) => never): void {
  const forward = options.forward!;
  // Plain JavaScript callers too: a wrong type names the option, not a method it lacks.
  if (typeof forward !== "object" || forward === null) fail("forward must be an object: { url, secret }");
  const unknown = Object.keys(forward).find((key) => !FORWARD_KEYS.includes(key));
  if (unknown !== undefined) fail(`forward.${unknown} is not an option (${FORWARD_KEYS.join(", ")})`);
  if (typeof forward.secret !== "string") fail("forward.secret must be a whsec_ string");
  if (forward.filter !== undefined && typeof forward.filter !== "string") fail('forward.filter must be a string of terms, such as "dlr,failed"');
  if (options.journal !== undefined || options.store !== undefined || options.format === "text")
    fail("forward reads the plugin's own JSONL log back: it cannot go with journal, store or format: \"text\"");
  const urls = typeof forward.url === "string" ? [forward.url] : forward.url;
  if (!Array.isArray(urls) || urls.length === 0 || urls.some((url) => typeof url !== "string"))
    fail("forward.url must be an http or https URL, or a list of them");
  for (const url of urls)
    if (!isHttpUrl(url))
      fail(`forward.url: ${JSON.stringify(url.split("?")[0])} is not an http or https URL (such as https://app.example.com/hooks/sms)`);
  const twice = repeatedUrl(urls);
  if (twice !== null) fail(`forward.url: ${JSON.stringify(redact(twice))} is given twice`);
  try {
    webhookKey(forward.secret ?? "");
    parseForwardFilter(forward.filter ?? "");
  } catch (error) {
    fail(`forward: ${(error as Error).message}`);
  }
  if (forward.batch !== undefined && !(Number.isInteger(forward.batch) && forward.batch >= 1 && forward.batch <= 1000))
    fail(`forward.batch must be a whole number from 1 to 1000 (got ${JSON.stringify(forward.batch)})`);
  // As --forward-timeout: up to 5 minutes (a longer one would hold a request slot for as long).
  if (forward.timeoutMs !== undefined && !(Number.isFinite(forward.timeoutMs) && forward.timeoutMs > 0 && forward.timeoutMs <= 300_000))
    fail(`forward.timeoutMs must be a number of milliseconds from 1 to 300000 (got ${JSON.stringify(forward.timeoutMs)})`);
}
