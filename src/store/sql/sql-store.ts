/**
 * The SQL store (SQLite or PostgreSQL through Bun's SQL client): `write` resolves once the
 * transaction holding the entries has committed, with which of them were new (the database's
 * unique duplicate key decides, whichever replica received the first copy).
 *
 * Group commit: the entries written in one event-loop turn go in one transaction (one multi-row
 * INSERT per table, chunked under the engines' parameter limits), with at most `maxInFlight`
 * transactions at once; what arrives meanwhile waits and goes in the next one. A failing database
 * rejects the writes (the receiver answers 503), turns `healthy` false until a write or `probe()`
 * succeeds, and every transaction is bounded by `timeoutMs`, so answers stay inside Routee's 2 s.
 */
import { SQL } from "bun";
import type { LogEntry, ReceivedEntry } from "../../core/entry.ts";
import type { Store, StoreStats } from "../store.ts";
import { migrate, type Engine } from "./schema.ts";
import { SqlStatus } from "./sql-status.ts";
import { finishPostgres, insertEntries, planPostgres, postgresStatement } from "./write.ts";

export interface SqlStoreOptions {
  /** Who received the entries (`replica` column): a host name, a pod name. @default null */
  replica?: string | null;
  /** Transactions in flight at once (PostgreSQL; SQLite has one writer). @default 4 */
  maxInFlight?: number;
  /** Connections in the pool (PostgreSQL). @default maxInFlight + 1 */
  maxConnections?: number;
  /** Longest a transaction may take before its writes are rejected, in ms. @default 1500 */
  timeoutMs?: number;
  /** Prepared statements; false behind PgBouncer in transaction mode. @default true */
  prepare?: boolean;
  /** Apply the migrations when opening. @default true */
  migrate?: boolean;
  /**
   * When the database cannot be reached at open, return the store anyway, unhealthy: writes are
   * rejected (503) and `probe()` retries the settings and migrations with backoff. @default false
   */
  startUnhealthy?: boolean;
}

interface Pending {
  entries: readonly ReceivedEntry[];
  resolve(fresh: boolean[]): void;
  reject(error: unknown): void;
}

const PROBE_MIN_MS = 250;
const PROBE_MAX_MS = 5_000;

/** `sqlite://path`, `sqlite::memory:`, `file:path` → SQLite; `postgres://`, `postgresql://` → PostgreSQL. */
export function engineOf(url: string): Engine {
  if (/^(sqlite:|file:)/i.test(url) || url === ":memory:") return "sqlite";
  if (/^postgres(ql)?:\/\//i.test(url)) return "postgres";
  throw new Error(`database URL "${url}" is neither sqlite://FILE nor postgres://USER@HOST/DB`);
}

/**
 * Open (and migrate) the database at `url`.
 * @example const store = await openSqlStore("postgres://sms@db/sms", { replica: os.hostname() });
 */
export async function openSqlStore(url: string, options: SqlStoreOptions = {}): Promise<SqlStore> {
  const engine = engineOf(url);
  const store = new SqlStore(url, engine, options);
  try {
    await store.ready();
  } catch (error) {
    if (options.startUnhealthy) {
      store.notReady(error);
      return store;
    }
    await store.close().catch(() => {});
    throw new Error(`cannot open the database ${redact(url)}: ${messageOf(error)}`, { cause: error });
  }
  return store;
}

export class SqlStore implements Store {
  readonly engine: Engine;
  readonly decidesDuplicates = true;
  readonly #url: string;
  readonly #options: Required<Omit<SqlStoreOptions, "replica" | "startUnhealthy">> & { replica: string | null };
  #sql: SQL;
  #queue: Pending[] = [];
  #scheduled = false;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #healthy = true;
  #lastError: string | null = null;
  #probeAt = 0;
  #probeDelay = PROBE_MIN_MS;
  #closed = false;
  /** False until `ready()` has succeeded once (settings and migrations applied). */
  #prepared = false;
  #commits = 0;
  readonly #stats: StoreStats = { entries: 0, bytes: 0, failures: 0 };

  constructor(url: string, engine: Engine, options: SqlStoreOptions = {}) {
    this.engine = engine;
    this.#url = url;
    const maxInFlight = engine === "sqlite" ? 1 : (options.maxInFlight ?? 4);
    if (!(Number.isInteger(maxInFlight) && maxInFlight > 0))
      throw new TypeError(`SqlStore: maxInFlight must be a positive whole number (got ${options.maxInFlight})`);
    this.#options = {
      replica: options.replica ?? null,
      maxInFlight,
      maxConnections: options.maxConnections ?? maxInFlight + 1,
      timeoutMs: options.timeoutMs ?? 1500,
      prepare: options.prepare ?? true,
      migrate: options.migrate ?? true,
    };
    this.#sql = this.#connect();
  }

  #connect(): SQL {
    if (this.engine === "sqlite") return new SQL(this.#url);
    return new SQL(this.#url, {
      max: this.#options.maxConnections,
      prepare: this.#options.prepare,
      connectionTimeout: Math.max(1, Math.ceil(this.#options.timeoutMs / 1000)),
      idleTimeout: 60,
    });
  }

  /** Settings and migrations; `openSqlStore` calls it. */
  async ready(): Promise<void> {
    if (this.engine === "sqlite") {
      // WAL: readers never block the writer; FULL: a commit is on disk when write() resolves.
      await this.#sql.unsafe("PRAGMA journal_mode = WAL");
      await this.#sql.unsafe("PRAGMA synchronous = FULL");
    }
    if (this.#options.migrate) await migrate(this.#sql, this.engine);
    // After migrate (which waits longer for another process's migration): writes wait no longer than their answer may.
    if (this.engine === "sqlite") await this.#sql.unsafe(`PRAGMA busy_timeout = ${Math.floor(this.#options.timeoutMs)}`);
    this.#prepared = true;
  }

  /** Opened without reaching the database: unhealthy until a `probe()` runs `ready()`. */
  notReady(error: unknown): void {
    this.#failed(error);
    this.#lastError = `the database cannot be reached: ${messageOf(error)}`;
  }

  /** Who receives (`replica` column), when known only after opening (the port bound). */
  set replica(name: string | null) {
    this.#options.replica = name;
  }

  /** The client, for readers and tools that share the pool. */
  get sql(): SQL {
    return this.#sql;
  }

  /** A status reader on the same database (lookup, report). */
  status(): SqlStatus {
    return new SqlStatus(this.#sql, this.engine);
  }

  write(entries: readonly ReceivedEntry[]): Promise<boolean[]> {
    if (this.#closed) return Promise.reject(new Error("the database store is closed"));
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ entries, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After this turn's other writes have queued: they share the transaction.
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#options.maxInFlight) {
      const batch = this.#queue;
      this.#queue = [];
      this.#inFlight += 1;
      this.#commit(batch).finally(() => {
        this.#inFlight -= 1;
        if (this.#queue.length > 0) this.#flush();
        else if (this.#inFlight === 0) for (const done of this.#idle.splice(0)) done();
      });
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const entries = batch.flatMap((p) => p.entries);
    if (!this.#prepared) {
      // Migrations not applied yet: refuse at once (503) and let a probe (backed off) try again.
      const error = new Error(this.#lastError ?? "the database is not ready");
      this.#stats.failures += 1;
      for (const p of batch) p.reject(error);
      void this.probe();
      return;
    }
    try {
      const fresh = await this.#insert(entries);
      this.#succeeded();
      this.#commits += 1;
      this.#stats.entries += fresh.filter(Boolean).length;
      let at = 0;
      for (const p of batch) {
        p.resolve(fresh.slice(at, at + p.entries.length));
        at += p.entries.length;
      }
    } catch (error) {
      this.#failed(error);
      for (const p of batch) p.reject(error);
    }
  }

  /**
   * One batch's writes. On PostgreSQL a batch is usually one statement (store/sql/write.ts), run
   * on its own: no BEGIN, SET and COMMIT round trips, the statement is atomic by itself, and at the
   * deadline it is cancelled on the server. A batch that reports a part twice needs a transaction.
   */
  #insert(entries: readonly ReceivedEntry[]): Promise<boolean[]> {
    if (this.engine !== "postgres") return this.#transaction((tx) => insertEntries(tx, this.engine, entries, this.#options.replica));
    const batch = planPostgres(entries, this.#options.replica);
    if (batch.rounds.length > 1)
      return this.#transaction(async (tx) => finishPostgres(tx, batch, await postgresStatement(tx, batch)));
    const statement = postgresStatement(this.#sql, batch);
    return this.#bounded(
      statement.then((inserted) => finishPostgres(null, batch, inserted)),
      () => void statement.cancel(),
    );
  }

  /**
   * Run `work` in a transaction bounded by `timeoutMs`: the server cancels a PostgreSQL statement
   * past it, and the caller is answered at the deadline whatever the connection does.
   */
  #transaction<T>(work: (tx: SQL) => Promise<T>): Promise<T> {
    const ms = Math.floor(this.#options.timeoutMs);
    const run = this.#sql.begin(async (tx: SQL) => {
      if (this.engine === "postgres") await tx.unsafe(`SET LOCAL statement_timeout = ${ms}`);
      return work(tx);
    }) as Promise<T>;
    return this.#bounded(run);
  }

  /** `run`, or a rejection at the deadline (`timeoutMs`), whichever comes first; `onDeadline` then. */
  #bounded<T>(run: Promise<T>, onDeadline?: () => void): Promise<T> {
    const ms = Math.floor(this.#options.timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onDeadline?.();
        reject(new Error(`the database did not commit within ${ms} ms`));
      }, ms + 100);
    });
    // A write that ends after its deadline still holds its in-flight slot until it does.
    return Promise.race([run, deadline]).finally(() => clearTimeout(timer));
  }

  #succeeded(): void {
    this.#healthy = true;
    this.#lastError = null;
    this.#probeDelay = PROBE_MIN_MS;
  }

  #failed(error: unknown): void {
    this.#stats.failures += 1;
    this.#healthy = false;
    this.#lastError = messageOf(error);
  }

  /**
   * Entries the log already holds (the SQLite view follows the log), applied with the log position
   * they end at, in one transaction: after a crash the view resumes from `position()` exactly once.
   * Returns which entries were new.
   */
  async applyBatch(entries: readonly LogEntry[], position: string, source = "log"): Promise<boolean[]> {
    return this.#transaction(async (tx) => {
      const fresh = await insertEntries(tx, this.engine, entries.map((entry) => ({ entry })), this.#options.replica);
      await tx`INSERT INTO sms_status_position (source, position) VALUES (${source}, ${position})
        ON CONFLICT (source) DO UPDATE SET position = excluded.position`;
      return fresh;
    });
  }

  /** The position the last `applyBatch` of `source` recorded, or null. */
  async position(source = "log"): Promise<string | null> {
    const rows: { position: string }[] = await this.#sql`SELECT position FROM sms_status_position WHERE source = ${source}`;
    return rows[0]?.position ?? null;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Transactions of `write` committed since start: how well group commit batches. */
  get commits(): number {
    return this.#commits;
  }

  get stats(): StoreStats {
    return { ...this.#stats };
  }

  /** Ask the database again, no more often than a backoff (250 ms doubling to 5 s) allows. */
  async probe(): Promise<boolean> {
    if (this.#healthy || this.#closed) return this.#healthy;
    const now = Date.now();
    if (now < this.#probeAt) return false;
    this.#probeAt = now + this.#probeDelay;
    this.#probeDelay = Math.min(this.#probeDelay * 2, PROBE_MAX_MS);
    try {
      if (this.#prepared) await this.#transaction((tx) => tx`SELECT 1 AS ok`);
      else await this.ready();
      this.#succeeded();
    } catch (error) {
      this.#lastError = messageOf(error);
    }
    return this.#healthy;
  }

  /** Wait for the transactions in flight, then open a fresh pool (or SQLite file). */
  async reopen(): Promise<void> {
    await this.#drained();
    const old = this.#sql;
    this.#sql = this.#connect();
    await old.close().catch(() => {});
    await this.ready();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#drained();
    await this.#sql.close().catch(() => {});
  }

  #drained(): Promise<void> {
    // Nothing queued and nothing in flight is drained, whether or not a flush is still scheduled.
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Nothing to seed: the database's unique key remembers every report, with no time window. */
  recent(): Iterable<LogEntry> {
    return [];
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}
