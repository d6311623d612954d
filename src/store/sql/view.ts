/**
 * The SQLite view beside the log: the log stays the journal and the record of truth; the view
 * follows it off the request path and applies each batch of entries with the log position they
 * end at in one transaction (`applyBatch`). A crash between the log write and the view's commit
 * is caught up at the next start from the saved position, exactly once, and a rotation is
 * followed without a gap (the rest of the renamed file first, `log/outbox.ts`).
 *
 * A new (or deleted) view is rebuilt from the current log's start; rotated files come in only
 * with `reindex`, which builds a new file and renames it over the old one.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { LogEntry } from "../../core/entry.ts";
import { inodeOf, Outbox, type OutboxLine, type Position } from "../../log/outbox.ts";
import { isGzip, parseEntry, readLines } from "../../log/reader.ts";
import { ViewWriter } from "./apply.ts";
import { openSqlStore, type SqlStore } from "./sql-store.ts";

/** Lines per transaction: thousands keep up with the server's full rate at a few commits a second. */
export const VIEW_BATCH = 5_000;
/** How often the view looks for new lines when it has caught up. */
export const VIEW_INTERVAL_MS = 100;
/** A view's transaction is not a request's: a big batch on a slow disk may take its time. */
const VIEW_TIMEOUT_MS = 60_000;

/** What the metrics read of a view. */
export interface ViewStats {
  /** Entries applied since start. */
  applied: number;
  /** Entries read from the log and not yet committed to the view. */
  pending: number;
  /** Age of the oldest entry not yet committed (0 when caught up). */
  lagSeconds: number;
  /** Batches that failed to apply (retried from the same position). */
  failures: number;
}

export interface ViewOptions {
  /** The JSONL log the view follows. */
  log: string;
  /** The SQLite file. */
  db: string;
  /** Where warnings go. @default stderr */
  warn?: (line: string) => void;
  /** @default VIEW_INTERVAL_MS */
  intervalMs?: number;
}

export function sqliteUrl(file: string): string {
  return `sqlite://${file}`;
}

function positionText(p: Position): string {
  return JSON.stringify(p);
}

function parsePosition(text: string | null): Position | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<Position>;
    if (typeof value.ino === "number" && typeof value.offset === "number") return { ino: value.ino, offset: value.offset };
  } catch {}
  return null;
}

/**
 * Open the view's database: the store (migrated; readers use it) and the writer that applies the
 * log, with settings for a derived copy (a lost commit is re-applied from the log).
 */
async function openView(db: string): Promise<{ store: SqlStore; writer: ViewWriter }> {
  const store = await openSqlStore(sqliteUrl(db), { timeoutMs: VIEW_TIMEOUT_MS });
  // The log is durable; the view's position commits with its rows, so NORMAL loses nothing for good.
  await store.sql.unsafe("PRAGMA synchronous = NORMAL");
  return { store, writer: new ViewWriter(db, VIEW_TIMEOUT_MS) };
}

/** Entries of `lines` (lines that are not entries are passed over, their position still counts). */
function entriesOf(lines: readonly OutboxLine[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of lines) {
    const entry = parseEntry(line.text);
    if (entry) entries.push(entry);
  }
  return entries;
}

export class SqlView {
  readonly stats: ViewStats = { applied: 0, pending: 0, lagSeconds: 0, failures: 0 };
  readonly #options: Required<ViewOptions>;
  #store: SqlStore | null = null;
  #writer: ViewWriter | null = null;
  #outbox: Outbox | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(options: ViewOptions) {
    this.#options = {
      warn: (line) => process.stderr.write(line + "\n"),
      intervalMs: VIEW_INTERVAL_MS,
      ...options,
    };
  }

  /** Open the database and the log at the saved position (or the log's start for a new view). */
  async open(): Promise<void> {
    ({ store: this.#store, writer: this.#writer } = await openView(this.#options.db));
    const saved = parsePosition(await this.#store.position());
    // A new view starts at the current log's start: inode 0 would mean "the file is gone".
    const from = saved ?? { ino: inodeOf(this.#options.log) ?? 0, offset: 0 };
    this.#outbox = new Outbox(this.#options.log, from);
    if (saved && from.ino !== inodeOf(this.#options.log)) this.#options.warn(`sms-status: view ${this.#options.db}: ${this.#outbox.note}`);
  }

  /** The database the view writes (for readers in the same process). */
  get store(): SqlStore {
    return this.#store!;
  }

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.#tick().finally(() => (this.#running = null));
    }, ms);
  }

  async #tick(): Promise<void> {
    let more = false;
    try {
      more = await this.catchUp(VIEW_BATCH);
    } catch (error) {
      this.stats.failures += 1;
      this.#options.warn(`sms-status: view ${this.#options.db}: cannot apply the log (${(error as Error).message}); retrying`);
      // Start again from what the database holds: the failed batch was not committed.
      try {
        this.#outbox?.close();
        this.#outbox = new Outbox(this.#options.log, parsePosition(await this.#store!.position().catch(() => null)) ?? { ino: 0, offset: 0 });
      } catch (again) {
        this.#outbox = null;
        this.#options.warn(`sms-status: view ${this.#options.db}: cannot reopen the log (${(again as Error).message}); retrying`);
      }
      this.#schedule(1000);
      return;
    }
    this.#schedule(more ? 0 : this.#options.intervalMs);
  }

  /**
   * Read and apply up to `max` lines; true when there may be more. Public for tests and `reindex`:
   * `while (await view.catchUp()) {}` brings the view up to the log's end.
   */
  async catchUp(max = VIEW_BATCH): Promise<boolean> {
    const lines = this.#outbox!.read(max);
    if (lines.length === 0) {
      this.stats.pending = 0;
      this.stats.lagSeconds = 0;
      return false;
    }
    const entries = entriesOf(lines);
    this.stats.pending = entries.length;
    const oldest = entries[0] ? Date.parse(entries[0].receivedAt) : NaN;
    this.stats.lagSeconds = Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000);
    const last = lines[lines.length - 1]!;
    this.#writer!.apply(entries, positionText({ ino: last.ino, offset: last.end }));
    this.stats.applied += entries.length;
    this.stats.pending = 0;
    // Fewer than `max` lines may still not be the end (a read stops after a few MB): ask again.
    return true;
  }

  /** Apply what is already in the log, then stop following and close the database. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    try {
      if (this.#store) while (await this.catchUp()) {}
    } catch {}
    this.#outbox?.close();
    this.#writer?.close();
    await this.#store?.close();
  }
}

/**
 * Rotated copies of `log` beside it (`log.1`, `log.2.gz`, `log-20240501`), oldest first by
 * modification time: what `reindex` reads before the log itself when no files are named.
 */
export function rotatedSiblings(log: string): string[] {
  const dir = dirname(log);
  const name = basename(log);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {}
  return names
    .filter((n) => n.startsWith(name) && ROTATED.test(n.slice(name.length)))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

/** What logrotate appends: a number or a date, maybe gzipped (not the view's `.db` nor a forwarder's state). */
const ROTATED = /^[.-]\d[\w-]*(\.gz)?$/;

/**
 * Build the view of `files` (oldest first; gzip read as such) in a new file and rename it over
 * `db`, so readers see the old view or the new one, never half. The position saved is the end of
 * the last file, so a server following that file resumes where the rebuild stopped.
 * Returns the entries applied.
 */
export async function reindex(files: readonly string[], db: string): Promise<number> {
  const building = `${db}.reindex-${process.pid}`;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(building + suffix, { force: true });
  const { store, writer } = await openView(building);
  let applied = 0;
  try {
    for (const file of files) {
      if (isGzip(file)) {
        // readLines calls back synchronously: batches are chained and applied while it reads on.
        let batch: LogEntry[] = [];
        let chain = Promise.resolve();
        const flush = () => {
          const entries = batch;
          batch = [];
          chain = chain.then(async () => {
            writer.apply(entries, positionText({ ino: 0, offset: 0 }));
            applied += entries.length;
          });
        };
        await readLines([file], (lines) => {
          for (const line of lines) {
            const entry = parseEntry(line);
            if (entry) batch.push(entry);
          }
          if (batch.length >= VIEW_BATCH) flush();
        });
        flush();
        await chain;
      } else {
        const ino = inodeOf(file);
        if (ino === null) throw new Error(`cannot read ${file}: no such file`);
        const outbox = new Outbox(file, { ino, offset: 0 });
        try {
          for (;;) {
            const lines = outbox.read(VIEW_BATCH);
            if (lines.length === 0) break;
            const entries = entriesOf(lines);
            const last = lines[lines.length - 1]!;
            writer.apply(entries, positionText({ ino: last.ino, offset: last.end }));
            applied += entries.length;
          }
        } finally {
          outbox.close();
        }
      }
    }
    writer.close();
    // One file, no -wal beside it: the rename is the whole switch.
    await store.sql.unsafe("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (error) {
    try {
      writer.close();
    } catch {}
    await store.close().catch(() => {});
    for (const suffix of ["", "-wal", "-shm"]) rmSync(building + suffix, { force: true });
    throw error;
  }
  await store.close();
  for (const suffix of ["-wal", "-shm"]) rmSync(building + suffix, { force: true });
  renameSync(building, db);
  // The old view's journal belongs to the replaced file.
  for (const suffix of ["-wal", "-shm"]) if (existsSync(db + suffix)) rmSync(db + suffix, { force: true });
  return applied;
}
