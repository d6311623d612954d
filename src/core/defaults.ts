/**
 * Every default in one place: the plugin, the server's flags, the help text and the readers take
 * them from here, so that none of them has to import another layer for a number.
 */

/** Path of the callback route. */
export const DEFAULT_PATH = "/sms/status";
/** Path of the health check (the plugin's and the server's). */
export const HEALTH_PATH = "/healthz";
/** The log file, relative to the working directory. */
export const DEFAULT_LOG = "./sms-status.log";
/** Largest accepted body in bytes: Routee's reports are about 1 KB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Shorter secrets are refused: a token in a URL must resist guessing. */
export const MIN_TOKEN_LENGTH = 16;
/** How long a report is remembered for duplicate detection: Routee retries for 24 hours. */
export const DEFAULT_DEDUPE_WINDOW_MS = 48 * 3600_000;
/**
 * Enough for every retry window but the largest senders' (raise it for those): each key costs about
 * 140 bytes, and the process's peak memory grows by about three times what the filter holds,
 * because the garbage collector sizes its heap after what is live.
 */
export const DEFAULT_DEDUPE_MAX_KEYS = 50_000;
/**
 * How deep a body's JSON may nest: Routee's reports nest 3 deep (`status.reason.description`).
 * Deeper bodies are refused (422) before parsing, as each level costs the parser an object.
 */
export const MAX_JSON_DEPTH = 32;
/**
 * How many `{ [ , :` a body may hold outside strings, about twice its values: a Routee report has
 * under 100. Each value costs the parser an object or more, so 60 KB of `[{},{},…]` would take
 * ~20 000 objects; at this bound, 256 such bodies in flight stay within 256 MB (scripts/bench/hostile-memory.ts).
 */
export const MAX_JSON_STRUCTURE = 2048;
/**
 * Messages a tracker remembers (`onMessageStatus`, the forwarder's `changes` filter): as many as the duplicate filter has keys, and a message has
 * 3 reports or more, so it reaches further back; the 16 MiB read at start holds about 3 000.
 */
export const DEFAULT_MAX_MESSAGES = 50_000;
