/**
 * Duplicate detection for retried callbacks. Routee re-sends a report it did not see answered 200
 * within 2 s, so the same report can arrive again for up to 24 hours; a report seen within the
 * window is answered 200 and not written twice.
 *
 * A Map in insertion order is both the index and the age queue: lookups, inserts and evicting the
 * oldest key are O(1), and memory is capped at `maxKeys` whatever arrives.
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
  /** key -> time first seen (ms); insertion order is age order. */
  readonly #seen = new Map<string, number>();

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
    this.#seen.delete(key);
    this.#seen.set(key, seenAt);
    this.#evict(seenAt);
  }

  #evict(now: number): void {
    // Amortised O(1): each key is removed at most once, oldest first.
    for (const [key, seenAt] of this.#seen) {
      if (this.#seen.size <= this.maxKeys && now - seenAt < this.windowMs) break;
      this.#seen.delete(key);
    }
  }
}
