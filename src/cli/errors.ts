/**
 * The CLI's errors and the one table from an error to the process's exit code:
 * 0 ok, 1 runtime failure, 2 bad usage.
 */
import { JournalOpenError, LogReadError } from "../core/errors.ts";
import { PositionError } from "../forward/state.ts";

/** A bad flag, value or command: exit 2, with a hint to `--help`. */
export class UsageError extends Error {}

/** A failure the user can meet at run time (nothing found, nothing to follow): exit 1. */
export class CommandError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Errors whose message is for the user, by exit code; anything else is unexpected (exit 1 with its stack). */
const EXIT_CODES: [new (...args: never[]) => Error, number][] = [
  [UsageError, EXIT_USAGE],
  [CommandError, EXIT_FAILURE],
  [LogReadError, EXIT_FAILURE],
  [JournalOpenError, EXIT_FAILURE],
  [PositionError, EXIT_FAILURE],
];

/** The exit code for an error the user should see as one line, or null for an unexpected one. */
export function exitCodeOf(error: unknown): number | null {
  for (const [type, code] of EXIT_CODES) if (error instanceof type) return code;
  return null;
}
