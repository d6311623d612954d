/**
 * The file store: entries rendered as lines (JSONL or the PHP recipe's text) and appended to a
 * journal (journal/file-journal.ts: group commit, ack after write, torn-tail repair). After a
 * restart it reads the log's last 16 MiB back, so that retries of recent reports stay duplicates.
 */
import type { ReceivedEntry } from "../core/entry.ts";
import { RENDERERS, type LogFormat } from "../core/render.ts";
import type { Journal } from "../journal/file-journal.ts";
import { readRecentEntries } from "./file-recent.ts";
import type { Store, StoreStats } from "./store.ts";

export interface FileStoreOptions {
  format: LogFormat;
  /** The log's path, read back by `recent()`; without it (a journal of your own) nothing is. */
  path?: string;
}

export class FileStore implements Store {
  readonly journal: Journal;
  readonly #format: LogFormat;
  readonly #path: string | undefined;
  readonly #render: (typeof RENDERERS)[LogFormat];

  constructor(journal: Journal, options: FileStoreOptions) {
    this.journal = journal;
    this.#format = options.format;
    this.#path = options.path;
    this.#render = RENDERERS[options.format];
  }

  write(entries: readonly ReceivedEntry[]): Promise<void> {
    // One append for the callback's entries: they are written, or fail, together.
    const text =
      entries.length === 1 ? this.#render(entries[0]!.entry, entries[0]!.raw) : entries.map((e) => this.#render(e.entry, e.raw)).join("");
    return this.journal.append(text);
  }

  get healthy(): boolean {
    return this.journal.healthy;
  }

  get lastError(): string | null {
    return this.journal.lastError;
  }

  get stats(): StoreStats {
    const { entries, bytes, failures } = this.journal.stats;
    return { entries, bytes, failures };
  }

  probe(): Promise<boolean> {
    return this.journal.probe();
  }

  reopen(): Promise<void> {
    return this.journal.reopen();
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  recent() {
    // A text-format log cannot be read back.
    return this.#path !== undefined && this.#format === "jsonl" ? readRecentEntries(this.#path) : [];
  }
}
