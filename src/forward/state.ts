/**
 * Where a forwarder is in the log, kept in a small file written atomically (a temporary file,
 * fsync, rename), so that `kill -9` leaves either the old position or the new one, never half.
 */
import { createHash } from "node:crypto";
import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Position } from "../log/outbox.ts";

export type { Position };

export function readPosition(path: string): Position | null {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<Position>;
    if (typeof value.ino === "number" && typeof value.offset === "number" && value.offset >= 0) return { ino: value.ino, offset: value.offset };
  } catch {}
  return null;
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
  const id = createHash("sha256").update(url).digest("hex").slice(0, 12);
  return join(dir ?? dirname(resolve(log)), `${basename(log)}.forward-${id}.json`);
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
