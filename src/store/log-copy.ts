/**
 * A database store with a local log copy (`serve --database-url … --log FILE`): the database is
 * the journal (the answer waits for its commit and it decides duplicates); then the entries it
 * says were new are appended to the file, for `grep` and the text format. The copy never decides
 * an answer: a report committed is acknowledged even if the file cannot take it (told once on
 * stderr and counted), since a 503 would only bring a retry that the database calls a duplicate.
 */
import type { LogEntry, ReceivedEntry } from "../core/entry.ts";
import type { Store, StoreStats } from "./store.ts";

export class LogCopyStore implements Store {
  readonly decidesDuplicates = true;
  readonly #database: Store;
  /** The database store, for what only it has (the replica name). */
  get database(): Store {
    return this.#database;
  }
  readonly #copy: Store;
  #copyFailures = 0;
  #told: string | null = null;

  constructor(database: Store, copy: Store) {
    if (!database.decidesDuplicates) throw new TypeError("LogCopyStore: the database store must decide duplicates");
    this.#database = database;
    this.#copy = copy;
  }

  async write(entries: readonly ReceivedEntry[]): Promise<readonly boolean[]> {
    const isNew = (await this.#database.write(entries)) ?? entries.map(() => true);
    const fresh = entries.filter((_, i) => isNew[i]);
    if (fresh.length > 0) {
      try {
        await this.#copy.write(fresh);
      } catch (error) {
        this.#copyFailures += 1;
        const why = error instanceof Error ? error.message : String(error);
        if (why !== this.#told) console.error(`sms-status: the log copy missed committed entries: ${why}`);
        this.#told = why;
      }
    }
    return isNew;
  }

  /** The database's health: the copy does not decide answers. */
  get healthy(): boolean {
    return this.#database.healthy;
  }

  get lastError(): string | null {
    return this.#database.lastError;
  }

  /** Entries committed; bytes written to the copy; failures of either. */
  get stats(): StoreStats {
    return {
      entries: this.#database.stats.entries,
      bytes: this.#copy.stats.bytes,
      failures: this.#database.stats.failures + this.#copyFailures,
    };
  }

  probe(): Promise<boolean> {
    void this.#copy.probe();
    return this.#database.probe();
  }

  /** SIGHUP: a rotated copy is reopened; the database's pool reconnects by itself. */
  reopen(): Promise<void> {
    return this.#copy.reopen();
  }

  async close(): Promise<void> {
    await this.#database.close();
    await this.#copy.close();
  }

  recent(): Iterable<LogEntry> {
    return [];
  }
}
