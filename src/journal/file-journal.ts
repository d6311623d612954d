/**
 * The journal: where entries go, behind a small interface so that a shared database can stand in
 * for the file later.
 *
 * `FileJournal` appends newline-terminated entries to one file and resolves each `append()` only
 * after its bytes were handed to write(2) (and, with `fsync`, to fdatasync). Appends that arrive
 * in the same event-loop turn share one write: group commit. A failed write rolls the file back
 * to the last complete entry, rejects the whole batch (the caller answers 503 and Routee retries)
 * and marks the journal unhealthy until a later write or probe succeeds. A log file deleted
 * underneath is noticed at the next batch, which goes to a new file at the path.
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  statfsSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { deferred } from "../core/deferred.ts";
import { JournalOpenError, JournalWriteError } from "../core/errors.ts";

export interface Journal {
  /** Resolves once the line is written; rejects with `JournalWriteError` if it could not be. */
  append(line: string): Promise<void>;
  /** False from a failed write until a write or `probe()` succeeds again. */
  readonly healthy: boolean;
  /** Why the last write failed (`ENOSPC`, `EACCES`, ...), or null. */
  readonly lastError: string | null;
  /** Re-checks an unhealthy journal (reopens the file) between two batches; resolves to the health. */
  probe(): Promise<boolean>;
  /** Counters since start: writes (batches), entries and bytes written, failed writes. */
  readonly stats: JournalStats;
  /** Closes and reopens the file at its path, between two batches (for log rotation). */
  reopen(): Promise<void>;
  /** Writes what is pending and closes the file. */
  close(): Promise<void>;
}

export interface JournalStats {
  batches: number;
  entries: number;
  bytes: number;
  failures: number;
}

export interface FileJournalOptions {
  /** fdatasync after every batch, so acknowledged entries survive power loss. @default false */
  fsync?: boolean;
  /** Permission bits for a new log file. @default 0o640 */
  mode?: number;
  /**
   * Check the file at once (so a bad path still fails in the constructor) but hold it open only from
   * the first write; a journal that never writes never keeps a file descriptor. @default false
   */
  lazy?: boolean;
}

/** What both Bun's FileSink and the node:fs fallback (Deno) offer. */
interface Writer {
  write(data: string): void | Promise<void>;
  end(): void;
}

function openWriter(fd: number): Writer {
  if (typeof Bun !== "undefined") {
    const sink = Bun.file(fd).writer();
    const flush = () => {
      const flushed = sink.flush();
      if (flushed instanceof Promise) return flushed.then(() => undefined);
    };
    return {
      write(data) {
        // A chunk larger than the sink's buffer is written at once, and when that write fails or is
        // short, write() returns a Promise (rejecting with ENOSPC, say) instead of throwing.
        const written = sink.write(data);
        return written instanceof Promise ? written.then(flush) : flush();
      },
      end: () => void sink.end(),
    };
  }
  return {
    write(data) {
      const bytes = Buffer.from(data);
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    },
    end() {},
  };
}

/** Free space below which a probe keeps a regular file's journal unhealthy (one largest body). */
const MIN_FREE_BYTES = 64 * 1024;
/** While unhealthy, how often the journal probes by itself. */
const PROBE_INTERVAL_MS = 1000;

export class FileJournal implements Journal {
  readonly path: string;
  readonly #fsync: boolean;
  readonly #mode: number;
  #fd: number | null = null;
  #writer: Writer | null = null;
  /** Size of the file after the last complete batch: where a failed write is rolled back to. */
  #committed = 0;
  #pending: string[] = [];
  /** The promise shared by the entries waiting in #pending. */
  #batch: PromiseWithResolvers<void> | null = null;
  /** Serialises batches, reopen and close, so none of them splits another. */
  #tail: Promise<void> = Promise.resolve();
  #healthy = true;
  #probeTimer: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  /** The error code of the last failure (`ENOSPC`, `EACCES`, ...), for health answers. */
  lastError: string | null = null;
  readonly stats: JournalStats = { batches: 0, entries: 0, bytes: 0, failures: 0 };

  /** Opens (creating parent directories) or throws `JournalOpenError` with a clear reason. */
  constructor(path: string, options: FileJournalOptions = {}) {
    this.path = path;
    this.#fsync = options.fsync ?? false;
    this.#mode = options.mode ?? 0o640;
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#open();
      if (options.lazy) this.#release();
    } catch (error) {
      throw new JournalOpenError(`cannot open log file ${path}: ${describe(error)}`, { cause: error });
    }
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  append(line: string): Promise<void> {
    if (this.#closed) return Promise.reject(new JournalWriteError("CLOSED"));
    this.#pending.push(line);
    if (this.#batch === null) {
      // One promise for the whole batch: its entries are written, or fail, together.
      this.#batch = deferred<void>();
      // setImmediate, not a microtask: every request Bun dispatches in this turn joins the batch.
      setImmediate(() => {
        this.#tail = this.#tail.then(() => this.#writeBatch());
      });
    }
    return this.#batch.promise;
  }

  probe(): Promise<boolean> {
    if (this.#healthy || this.#closed) return Promise.resolve(this.#healthy);
    // In the queue, like batches and reopen: a probe never closes the file under a write.
    const probed = this.#tail.then(() => this.#probeNow());
    this.#tail = probed.then(() => undefined);
    return probed;
  }

  #probeNow(): boolean {
    if (this.#healthy || this.#closed) return this.#healthy;
    try {
      this.#reopenNow();
      const stat = fstatSync(this.#fd!);
      // Only a real write can tell about a device or pipe; a regular file also needs free space.
      if (stat.isFile()) {
        const fs = statfsSync(dirname(this.path));
        if (fs.bavail * fs.bsize >= MIN_FREE_BYTES) this.#setHealthy(true);
      }
    } catch {
      this.#release();
    }
    return this.#healthy;
  }

  reopen(): Promise<void> {
    this.#tail = this.#tail.then(() => {
      if (this.#closed) return;
      try {
        this.#reopenNow();
      } catch (error) {
        this.#setHealthy(false, error);
      }
    });
    return this.#tail;
  }

  /** Close the file and open the path again (the next write makes a new writer). */
  #reopenNow(): void {
    this.#release();
    this.#open();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Let an already scheduled batch run first.
      await new Promise((r) => setImmediate(r));
      await this.#tail;
      if (this.#pending.length > 0) await this.#writeBatch();
      this.#closed = true;
      this.#stopProbing();
      this.#release();
    })();
    return this.#closing;
  }

  #open(): void {
    // Read-write, so the torn-tail check can read the last byte; O_APPEND makes every write land at the end.
    const fd = openSync(this.path, "a+", this.#mode);
    try {
      this.#committed = repairTornTail(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    // The writer comes with the first write, so a journal that never writes never makes one.
    this.#fd = fd;
  }

  #release(): void {
    try {
      this.#writer?.end();
    } catch {}
    if (this.#fd !== null) {
      try {
        closeSync(this.#fd);
      } catch {}
    }
    this.#writer = null;
    this.#fd = null;
  }

  async #writeBatch(): Promise<void> {
    const lines = this.#pending;
    const batch = this.#batch;
    if (lines.length === 0 || batch === null) return;
    this.#pending = [];
    this.#batch = null;
    const data = lines.length === 1 ? lines[0]! : lines.join("");
    try {
      // A log deleted underneath (rm, a rotation without SIGHUP) would swallow every entry: one
      // fstat per batch notices it and writes to a new file at the path instead.
      if (this.#fd !== null && fstatSync(this.#fd).nlink === 0) this.#reopenNow();
      if (this.#fd === null) this.#open();
      this.#writer ??= openWriter(this.#fd!);
      await this.#writer.write(data);
      if (this.#fsync) fdatasyncSync(this.#fd!);
      const bytes = Buffer.byteLength(data);
      this.#committed += bytes;
      this.stats.batches += 1;
      this.stats.entries += lines.length;
      this.stats.bytes += bytes;
      this.#setHealthy(true);
      batch.resolve();
    } catch (error) {
      this.stats.failures += 1;
      this.#rollBack(data);
      this.#release();
      this.#setHealthy(false, error);
      batch.reject(new JournalWriteError(errorCode(error), { cause: error }));
    }
  }

  /** Cut a half-written batch off, so no partial entry stays behind a failed write. */
  #rollBack(data: string): void {
    if (this.#fd === null) return;
    try {
      const stat = fstatSync(this.#fd);
      const extra = stat.size - this.#committed;
      if (!stat.isFile() || extra <= 0) return;
      // Only our own unacknowledged bytes: cut them only if what follows the last complete batch is
      // the start of this batch, never bytes another writer appended, truncated or rotated in.
      const batch = Buffer.from(data);
      if (extra > batch.length) return;
      const found = Buffer.alloc(extra);
      readSync(this.#fd, found, 0, extra, this.#committed);
      if (found.equals(batch.subarray(0, extra))) ftruncateSync(this.#fd, this.#committed);
    } catch {
      // The next open repairs a torn tail, so the next entry still starts on its own line.
    }
  }

  #setHealthy(healthy: boolean, error?: unknown): void {
    this.#healthy = healthy;
    if (healthy) this.#stopProbing();
    else {
      this.lastError = errorCode(error);
      this.#probeTimer ??= setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
      this.#probeTimer.unref?.();
    }
  }

  #stopProbing(): void {
    if (this.#probeTimer) clearInterval(this.#probeTimer);
    this.#probeTimer = null;
  }
}

/**
 * If a crash left the file without a final newline, start the next entry on a line of its own.
 * Returns the file size after the repair.
 */
function repairTornTail(fd: number): number {
  const stat = fstatSync(fd);
  if (!stat.isFile() || stat.size === 0) return stat.size;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, stat.size - 1);
  if (last[0] === 0x0a) return stat.size;
  writeSync(fd, "\n");
  return stat.size + 1;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "EIO";
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const hints: Record<string, string> = {
    EACCES: "permission denied (check the directory's owner and mode)",
    EPERM: "operation not permitted",
    ENOENT: "no such directory",
    ENOTDIR: "a part of the path is not a directory",
    EISDIR: "the path is a directory",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
  };
  return hints[code] ?? code;
}
