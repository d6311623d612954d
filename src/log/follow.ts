/**
 * Following a log as it grows, like `tail -F`: new complete lines are handed over as they are
 * written, and a rotation (the file renamed and a new one created at the path, or the file
 * truncated) is noticed and the new file read from its start, after the rest of the old one.
 *
 * It polls rather than watching: fs.watch misses renames on some file systems and platforms, and
 * a few stat calls a second cost nothing.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { MAX_LINE_BYTES } from "./reader.ts";

/** How often the file is checked. */
export const FOLLOW_INTERVAL_MS = 200;
const READ_BLOCK = 1 << 20;

export interface FollowOptions {
  /** Byte offset to start from in the file now at the path. @default its current size */
  from?: number;
  /** @default FOLLOW_INTERVAL_MS */
  intervalMs?: number;
  /** Lines longer than this many bytes are skipped. @default MAX_LINE_BYTES (1 MiB) */
  maxLineBytes?: number;
}

export class LogFollower {
  readonly path: string;
  readonly #onLines: (lines: string[]) => void;
  readonly #intervalMs: number;
  readonly #maxLine: number;
  /** Inside a line already too long: its bytes are dropped up to its newline. */
  #skipping = false;
  #fd: number | null = null;
  #ino = 0;
  #pos = 0;
  #rest: Buffer | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  /**
   * Start following `path`; `onLines` gets each batch of new complete lines. A path that does not
   * exist yet is waited for. Errors thrown by `onLines` stop the follower and reach `onError`.
   */
  constructor(
    path: string,
    onLines: (lines: string[]) => void,
    readonly onError: (error: unknown) => void,
    options: FollowOptions = {},
  ) {
    this.path = path;
    this.#onLines = onLines;
    this.#intervalMs = options.intervalMs ?? FOLLOW_INTERVAL_MS;
    this.#maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    if (this.#open()) this.#pos = options.from ?? fstatSync(this.#fd!).size;
    this.#schedule();
  }

  /** Stop polling and close the file. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#close();
  }

  #schedule(): void {
    if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#intervalMs);
  }

  #tick(): void {
    try {
      if (this.#fd === null) {
        if (this.#open()) this.#pos = 0;
      }
      if (this.#fd !== null) {
        this.#drain();
        if (this.#rotated()) {
          // Whatever was written to the old file before the rename has just been read.
          this.#close();
          if (this.#open()) {
            this.#pos = 0;
            this.#drain();
          }
        }
      }
    } catch (error) {
      this.stop();
      this.onError(error);
      return;
    }
    this.#schedule();
  }

  #open(): boolean {
    try {
      this.#fd = openSync(this.path, "r");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return false;
      throw error;
    }
    this.#ino = fstatSync(this.#fd).ino;
    this.#rest = null;
    this.#skipping = false;
    return true;
  }

  #close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#rest = null;
    this.#skipping = false;
  }

  /** A new file at the path (renamed away and recreated). A missing path is not yet a rotation. */
  #rotated(): boolean {
    try {
      return statSync(this.path).ino !== this.#ino;
    } catch {
      return false;
    }
  }

  /** Read from the position to the end; a file now shorter than the position was truncated. */
  #drain(): void {
    const fd = this.#fd!;
    let size = fstatSync(fd).size;
    if (size < this.#pos) {
      this.#pos = 0;
      this.#rest = null;
      this.#skipping = false;
    }
    const block = Buffer.alloc(Math.min(READ_BLOCK, Math.max(size - this.#pos, 1)));
    while (this.#pos < size) {
      const n = readSync(fd, block, 0, Math.min(block.length, size - this.#pos), this.#pos);
      if (n === 0) break;
      this.#pos += n;
      let fresh = block.subarray(0, n);
      if (this.#skipping) {
        const nl = fresh.indexOf(0x0a);
        if (nl >= 0) {
          this.#skipping = false;
          fresh = fresh.subarray(nl + 1);
        } else fresh = fresh.subarray(0, 0);
      }
      // Only the new bytes are searched: an unfinished line is never scanned twice.
      const last = fresh.lastIndexOf(0x0a);
      if (last < 0) {
        if (fresh.length > 0) this.#rest = this.#rest ? Buffer.concat([this.#rest, fresh]) : Buffer.from(fresh);
        if (this.#rest && this.#rest.length > this.#maxLine) {
          this.#rest = null;
          this.#skipping = true;
        }
      } else {
        const data = this.#rest ? Buffer.concat([this.#rest, fresh.subarray(0, last)]) : fresh.subarray(0, last);
        this.#rest = last + 1 < fresh.length ? Buffer.from(fresh.subarray(last + 1)) : null;
        const max = this.#maxLine;
        // A string's length never exceeds its bytes: a cheap bound on what the reader gets.
        this.#onLines(data.toString("utf8").split("\n").filter((line) => line.length <= max));
      }
      if (this.#pos >= size) size = fstatSync(fd).size;
    }
  }
}
