/**
 * The errors a user can meet at run time, in one place. Each message is safe to show (no stack, no
 * internal state) and says what to do; the original error travels as `cause`. How each becomes an
 * exit code is the CLI's table (cli/errors.ts); how a write failure becomes an HTTP answer is the
 * receiver's (always 503, never the message).
 */

/** A write to the log or database failed; the message is safe to show (no internal paths). */
export class JournalWriteError extends Error {
  constructor(
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(`log write failed (${code})`, options);
  }
}

/** The log cannot be opened at start; the message says which path and why. */
export class JournalOpenError extends Error {}

/** A log cannot be read at all (missing, unreadable, corrupt gzip); the message names the file. */
export class LogReadError extends Error {}

/** The file is a `--format text` log, which has no fields to analyse. */
export class TextFormatLogError extends LogReadError {
  constructor(readonly file: string) {
    super(`${file} looks like a text-format log; report/lookup/tail need --format jsonl`);
  }
}
