/**
 * Duplicate detection for retried callbacks. Routee re-sends a report it did not see answered 200
 * within 2 s, so the same report can arrive again for up to 24 hours; a report seen within the
 * window is answered 200 and not written twice.
 *
 * A Map is the index and a separate array the age queue: lookups, inserts and evicting the oldest
 * key are O(1), and memory is capped at `maxKeys` whatever arrives. (Walking the Map's own
 * insertion order is not O(1) in JavaScriptCore: each new iterator steps over every deleted slot
 * until the table is rebuilt, which made a full filter 10x slower per report.)
 */
import type { LogEntry } from "./entry.ts";

export interface DuplicateFilterOptions {
  /** How long a report is remembered. @default 48 hours */
  windowMs?: number;
  /** The most keys remembered; the oldest is forgotten first. About 120 bytes each. @default 100_000 */
  maxKeys?: number;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 48 * 3600_000;
export const DEFAULT_DEDUPE_MAX_KEYS = 100_000;

/**
 * The identity of one status report: the part (`smsId`, else `messageId` + `part`), the status name
 * and its `updatedDate`. Only per-SMS reports have one.
 */
export function duplicateKey(entry: LogEntry): string | null {
  if (entry.kind !== "dlr") return null;
  const part = entry.smsId ?? (entry.messageId === null ? null : `${entry.messageId}#${entry.part ?? ""}`);
  if (part === null) return null;
  return `${entry.provider}\u0000${part}\u0000${entry.status ?? ""}\u0000${entry.updatedDate ?? ""}`;
}

export class DuplicateFilter {
  readonly windowMs: number;
  readonly maxKeys: number;
  /** key -> time first seen (ms). */
  readonly #seen = new Map<string, number>();
  /** Keys and their times in the order added, oldest at `#head`; an entry is stale once its key is re-added. */
  #queue: string[] = [];
  #times: number[] = [];
  #head = 0;

  constructor(options: DuplicateFilterOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.maxKeys = options.maxKeys ?? DEFAULT_DEDUPE_MAX_KEYS;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** True when the key was seen within the window. */
  has(key: string, now = Date.now()): boolean {
    const seenAt = this.#seen.get(key);
    return seenAt !== undefined && now - seenAt < this.windowMs;
  }

  /** Remember a key (call once its entry is written). */
  add(key: string, seenAt = Date.now()): void {
    if (this.maxKeys <= 0) return;
    this.#seen.set(key, seenAt);
    this.#queue.push(key);
    this.#times.push(seenAt);
    this.#evict(seenAt);
  }

  #evict(now: number): void {
    // Amortised O(1): each queue entry is passed once, oldest first.
    while (this.#head < this.#queue.length) {
      const key = this.#queue[this.#head]!;
      const seenAt = this.#times[this.#head]!;
      const stale = this.#seen.get(key) !== seenAt;
      if (!stale && this.#seen.size <= this.maxKeys && now - seenAt < this.windowMs) break;
      if (!stale) this.#seen.delete(key);
      this.#head += 1;
    }
    // Drop the passed part once it is half the queue: O(1) per add on average, memory bounded.
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}
