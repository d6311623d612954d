/**
 * The log as an outbox: complete lines read in order from a position, each with where it starts
 * and ends, across a rotation (the rest of the renamed file first, then the new one from its
 * start). Reads are pulled by the reader (the forwarder, the SQLite view), so memory holds only
 * what it asked for.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { MAX_LINE_BYTES } from "./reader.ts";

/** The log file (by inode) and the byte offset after the last entry applied with all before it. */
export interface Position {
  ino: number;
  offset: number;
}

export interface OutboxLine {
  /** The inode of the file the line is in, and the byte after its newline: a position to resume from. */
  ino: number;
  end: number;
  /** Emptied once the forwarder is done with it. */
  text: string;
}

const READ_BLOCK = 1 << 20;

export class Outbox {
  readonly path: string;
  /** What happened at open, for the operator (resumed, started at the end, lost the old file). */
  readonly note: string;
  /** Where reading starts: saved by a forwarder at once, so a restart before any delivery resumes here. */
  readonly start: Position;
  #fd: number | null = null;
  #ino = 0;
  #pos = 0;
  #rest: Buffer | null = null;
  #skipping = false;

  /** Resume at `from` (null: start at the log's current end, forwarding what comes from now on). */
  constructor(path: string, from: Position | null) {
    this.path = path;
    const current = inodeOf(path);
    if (from === null) {
      this.note = "starting at the end of the log";
      // No log yet: inode 0 matches no file, so a restart reads the file that appeared from its start.
      if (current !== null) this.#open(path, sizeOf(path));
    } else if (from.ino === current) {
      this.note = `resuming at byte ${from.offset}`;
      this.#open(path, from.offset);
    } else {
      // Rotated since: finish the renamed file if it is still there (logrotate's delaycompress keeps it).
      const old = siblingWithInode(path, from.ino);
      if (old) {
        this.note = `resuming in ${old} at byte ${from.offset}, then ${path}`;
        this.#open(old, from.offset);
      } else {
        this.note = `the file it was forwarding from is gone (compressed or deleted); starting ${path} from its start`;
        if (current !== null) this.#open(path, 0);
      }
    }
    this.start = { ino: this.#fd === null ? 0 : this.#ino, offset: this.#pos };
  }

  /** Up to about `max` complete lines after the last ones read; none while nothing new is there. */
  read(max: number): OutboxLine[] {
    const lines: OutboxLine[] = [];
    for (let guard = 0; guard < 4 && lines.length < max; guard++) {
      if (this.#fd === null) {
        if (inodeOf(this.path) === null) return lines;
        this.#open(this.path, 0);
      }
      const before = lines.length;
      this.#drain(lines, max);
      if (lines.length > before) continue;
      // At the end of this file. A new file at the path means it was rotated, but the writer may
      // still append here until it reopens the path (logrotate's SIGHUP comes after the rename): this
      // file is done only once the writer has written to the new one, and then after a last read.
      const current = statSync(this.path, { throwIfNoEntry: false });
      if (current === undefined || current.ino === this.#ino || current.size === 0) return lines;
      this.#drain(lines, max);
      if (lines.length > before) continue;
      this.#close();
    }
    return lines;
  }

  close(): void {
    this.#close();
  }

  #open(path: string, offset: number): void {
    this.#fd = openSync(path, "r");
    this.#ino = fstatSync(this.#fd).ino;
    this.#pos = offset;
    this.#rest = null;
    this.#skipping = false;
  }

  #close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #drain(lines: OutboxLine[], max: number): void {
    const fd = this.#fd!;
    const size = fstatSync(fd).size;
    if (size < this.#pos) {
      // Truncated in place: start again from its start.
      this.#pos = 0;
      this.#rest = null;
      this.#skipping = false;
    }
    if (this.#pos >= size) return;
    // Only the bytes read are used (lines are copied out, the rest kept as a copy): no zeroing.
    const block = Buffer.allocUnsafe(Math.min(READ_BLOCK, size - this.#pos));
    const n = readSync(fd, block, 0, block.length, this.#pos);
    let start = this.#pos - (this.#rest?.length ?? 0);
    let data = this.#rest ? Buffer.concat([this.#rest, block.subarray(0, n)]) : block.subarray(0, n);
    this.#pos += n;
    this.#rest = null;
    let at = 0;
    while (lines.length < max || this.#skipping) {
      const nl = data.indexOf(0x0a, at);
      if (nl < 0) break;
      const end = start + (nl - at) + 1;
      if (this.#skipping) this.#skipping = false;
      else if (nl - at <= MAX_LINE_BYTES) lines.push({ ino: this.#ino, end, text: data.toString("utf8", at, nl) });
      start = end;
      at = nl + 1;
    }
    const left = data.subarray(at);
    if (lines.length >= max && left.indexOf(0x0a) >= 0) {
      // Asked for no more: read these bytes again next time.
      this.#pos = start;
      return;
    }
    if (left.length > MAX_LINE_BYTES) this.#skipping = true;
    else if (left.length > 0) this.#rest = Buffer.from(left);
  }
}

export function inodeOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

function sizeOf(path: string): number {
  return statSync(path).size;
}

/** A rotated copy of the log (same directory, name starting with the log's) with this inode. */
function siblingWithInode(path: string, ino: number): string | null {
  const dir = dirname(path);
  const name = basename(path);
  try {
    for (const entry of readdirSync(dir)) {
      if (!entry.startsWith(name) || entry === name) continue;
      const candidate = join(dir, entry);
      if (inodeOf(candidate) === ino) return candidate;
    }
  } catch {}
  return null;
}
