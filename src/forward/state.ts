/**
 * Where a forwarder is in the log, kept in a small file written atomically (a temporary file,
 * fsync, rename), so that `kill -9` leaves either the old position or the new one, never half.
 */
import { createHash } from "node:crypto";
import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Position } from "../log/outbox.ts";

export type { Position };

/** A state file that is there but holds no position: forwarding from a guess could skip entries. */
export class PositionError extends Error {}

/**
 * The saved position, or null when there is none yet (no file). A file that cannot be read or
 * holds something else throws: starting at the log's end instead would skip every entry not yet
 * delivered, silently.
 */
export function readPosition(path: string): Position | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new PositionError(`cannot read the forwarding position in ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let value: Partial<Position> | null = null;
  try {
    value = JSON.parse(text) as Partial<Position>;
  } catch {}
  if (typeof value?.ino === "number" && typeof value.offset === "number" && value.offset >= 0) return { ino: value.ino, offset: value.offset };
  throw new PositionError(`${path} holds no forwarding position: fix it, or delete it to forward from the log's end on (entries not yet delivered are then skipped)`);
}

export function writePosition(path: string, position: Position): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w", 0o640);
  try {
    writeSync(fd, JSON.stringify(position) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** Where the forwarder of `log` to `url` keeps its position: `<log>.forward-<hash of the URL>.json`, beside the log or in `dir`. */
export function statePathFor(log: string, url: string, dir: string | null = null): string {
  return join(dir ?? dirname(resolve(log)), `${basename(log)}.forward-${forwardId(url)}.json`);
}

/** A URL's short id (in its state file's name and its metrics): tells apart URLs that differ only in a query not shown. */
export function forwardId(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 12);
}

/**
 * Make the directory positions are kept in, if missing (as the log's is), and check it can be
 * written: a position that cannot be kept fails at start, not as a warning at every save.
 */
export function makeStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new Error(`${dir} is not a writable directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
}

/** An http or https URL: what a forwarder can POST to. */
export function isHttpUrl(raw: string): boolean {
  return URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol);
}

/**
 * A URL given twice (compared as URLs: `http://LOCALHOST/h` is `http://localhost/h`), or null.
 * Two forwarders to one endpoint would send every entry twice, each with its own state file.
 */
export function repeatedUrl(urls: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const url of urls) {
    const key = URL.canParse(url) ? new URL(url).href : url;
    if (seen.has(key)) return url;
    seen.add(key);
  }
  return null;
}
