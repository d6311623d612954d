/**
 * Duplicate detection for retried callbacks. Routee re-sends a report it did not see answered 200
 * within 2 s, so the same report can arrive again for up to 24 hours; a report seen within the
 * window is answered 200 and not written twice.
 *
 * Keys are kept exactly (a report is never mistaken for another), as UTF-8 bytes in one
 * preallocated ring, indexed by an open-addressing hash table of entry numbers. Lookups, inserts
 * and evicting the oldest key are O(1), memory is fixed by `maxKeys` whatever arrives, and the
 * filter makes no garbage-collected object per key: with a Map of 100 000 live string keys among a
 * server's short-lived garbage, the process grew to about twice the memory it needed.
 */
import type { LogEntry } from "../core/entry.ts";
import { DEFAULT_DEDUPE_MAX_KEYS, DEFAULT_DEDUPE_WINDOW_MS } from "../core/defaults.ts";

export interface DuplicateFilterOptions {
  /** How long a report is remembered. @default 48 hours */
  windowMs?: number;
  /** The most keys remembered; the oldest is forgotten first. About 140 bytes each, allocated at start. @default 50_000 */
  maxKeys?: number;
}

/** Bytes of ring space per key: Routee's keys are about 80 (a UUID, a status, a date). */
const BYTES_PER_KEY = 96;
/** Longer keys (a hostile smsId) are not remembered: such a report is written every time. */
const MAX_KEY_BYTES = 1024;

const encoder = new TextEncoder();

export class DuplicateFilter {
  readonly windowMs: number;
  readonly maxKeys: number;
  // Entry i (ring order, oldest at #head): its key bytes at #offsets[i], #lengths[i] long (-1 once
  // the key was added again, so the newer entry answers), its time and its hash.
  readonly #ring: Uint8Array;
  readonly #offsets: Int32Array;
  readonly #lengths: Int32Array;
  readonly #times: Float64Array;
  readonly #hashes: Int32Array;
  /** Which add filled the entry (the handle given out), so a stale handle is recognised. */
  readonly #handles: Float64Array;
  /** The write of the entry's report while it is under way, for a retry arriving meanwhile. */
  readonly #writes: (Promise<void> | undefined)[];
  /** Open addressing, linear probing: entry number + 1, 0 for an empty slot. */
  readonly #table: Int32Array;
  readonly #mask: number;
  readonly #scratch = new Uint8Array(MAX_KEY_BYTES);
  // The key last encoded into #scratch, so that `add` right after `lookup` does not encode again.
  #scratchKey: string | null = null;
  #scratchLength = -1;
  #scratchHash = 0;
  #head = 0;
  #count = 0;
  #live = 0;
  /** Where the next key's bytes go in the ring. */
  #tail = 0;
  /** Adds so far: the next handle. Entry number = handle % maxKeys, as entries fill the ring in order. */
  #added = 0;
  /** The newest keys were written from the ring's start again while older ones still sit at its end. */
  #wrapped = false;

  constructor(options: DuplicateFilterOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.maxKeys = Math.max(0, Math.floor(options.maxKeys ?? DEFAULT_DEDUPE_MAX_KEYS));
    const entries = Math.max(1, this.maxKeys);
    this.#ring = new Uint8Array(Math.max(entries * BYTES_PER_KEY, 2 * MAX_KEY_BYTES));
    this.#offsets = new Int32Array(entries);
    this.#lengths = new Int32Array(entries);
    this.#times = new Float64Array(entries);
    this.#hashes = new Int32Array(entries);
    this.#handles = new Float64Array(entries);
    this.#writes = new Array(entries);
    let slots = 2;
    while (slots < entries * 2) slots *= 2;
    this.#table = new Int32Array(slots);
    this.#mask = slots - 1;
  }

  /**
   * Remember reports stored before a restart (a store's `recent()`), those still inside the
   * window, so that their retries stay duplicates.
   */
  rememberStored(entries: Iterable<LogEntry>, keyOf: (entry: LogEntry) => string | null, now = Date.now()): void {
    for (const entry of entries) {
      const key = keyOf(entry);
      const seenAt = Date.parse(entry.receivedAt);
      if (key !== null && Number.isFinite(seenAt) && now - seenAt < this.windowMs) this.add(key, seenAt);
    }
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#live;
  }

  /** True when the key was seen within the window. */
  has(key: string, now = Date.now()): boolean {
    return this.lookup(key, now) >= 0;
  }

  /** The handle of the key's entry when it was seen within the window, else -1. */
  lookup(key: string, now = Date.now()): number {
    const length = this.#encode(key);
    if (length < 0) return -1;
    const entry = this.#find(length, this.#scratchHash);
    return entry >= 0 && now - this.#times[entry]! < this.windowMs ? this.#handles[entry]! : -1;
  }

  /** The write still under way for the entry, if any (see `add`). */
  pendingWrite(handle: number): Promise<void> | undefined {
    const entry = this.#entryOf(handle);
    return entry < 0 ? undefined : this.#writes[entry];
  }

  /**
   * The write is over: a success keeps the key, a failure forgets it, so that the sender's retry is
   * written. A handle whose entry was evicted meanwhile is ignored.
   */
  settle(handle: number, written: boolean): void {
    const entry = this.#entryOf(handle);
    if (entry < 0) return;
    this.#writes[entry] = undefined;
    if (!written && this.#lengths[entry]! >= 0) this.#unindex(entry);
  }

  /**
   * Remember a key, optionally while its report is still being written (`write`; call `settle`
   * when it is over). Returns the entry's handle, or -1 when the key is too long to remember.
   */
  add(key: string, seenAt = Date.now(), write?: Promise<void>): number {
    if (this.maxKeys === 0) return -1;
    const length = this.#encode(key);
    if (length < 0) return -1;
    const hash = this.#scratchHash;
    const previous = this.#find(length, hash);
    if (previous >= 0) this.#unindex(previous);
    this.#evictExpired(seenAt);
    if (this.#count === this.maxKeys) this.#evictOldest();
    const offset = this.#reserve(length);
    const ring = this.#ring;
    const scratch = this.#scratch;
    for (let i = 0; i < length; i++) ring[offset + i] = scratch[i]!;
    const entry = (this.#head + this.#count) % this.maxKeys;
    this.#offsets[entry] = offset;
    this.#lengths[entry] = length;
    this.#times[entry] = seenAt;
    this.#hashes[entry] = hash;
    const handle = this.#added++;
    this.#handles[entry] = handle;
    this.#writes[entry] = write;
    this.#count += 1;
    this.#live += 1;
    let slot = hash & this.#mask;
    while (this.#table[slot] !== 0) slot = (slot + 1) & this.#mask;
    this.#table[slot] = entry + 1;
    return handle;
  }

  #entryOf(handle: number): number {
    if (handle < 0) return -1;
    const entry = handle % this.maxKeys;
    return this.#handles[entry] === handle && this.#lengths[entry]! >= 0 ? entry : -1;
  }

  /**
   * The key's UTF-8 length in the scratch buffer (and its hash), or -1 when it cannot be remembered
   * exactly: too long, or holding a lone surrogate (UTF-8 would turn every one into U+FFFD).
   */
  #encode(key: string): number {
    if (key === this.#scratchKey) return this.#scratchLength;
    let length = -1;
    if (key.length <= MAX_KEY_BYTES && key.isWellFormed()) {
      const { read, written } = encoder.encodeInto(key, this.#scratch);
      if (read === key.length) length = written;
    }
    this.#scratchKey = key;
    this.#scratchLength = length;
    this.#scratchHash = length < 0 ? 0 : hashBytes(this.#scratch, length);
    return length;
  }

  #find(length: number, hash: number): number {
    const ring = this.#ring;
    const scratch = this.#scratch;
    for (let slot = hash & this.#mask; this.#table[slot] !== 0; slot = (slot + 1) & this.#mask) {
      const entry = this.#table[slot]! - 1;
      if (this.#hashes[entry] !== hash || this.#lengths[entry] !== length) continue;
      const offset = this.#offsets[entry]!;
      let i = 0;
      while (i < length && ring[offset + i] === scratch[i]) i++;
      if (i === length) return entry;
    }
    return -1;
  }

  /** Ring space for `length` bytes, forgetting the oldest keys until there is room. */
  #reserve(length: number): number {
    for (;;) {
      if (this.#count === 0) {
        this.#tail = 0;
        this.#wrapped = false;
        break;
      }
      const oldest = this.#offsets[this.#head]!;
      if (!this.#wrapped) {
        // Live bytes are [oldest, tail): room at the end, or at the start before the oldest.
        if (this.#ring.length - this.#tail >= length) break;
        if (oldest >= length) {
          this.#tail = 0; // the end of the ring stays unused until the oldest keys there are gone
          this.#wrapped = true;
          break;
        }
      } else if (oldest - this.#tail >= length) break; // live bytes are [oldest, end) and [0, tail)
      this.#evictOldest();
    }
    const offset = this.#tail;
    this.#tail += length;
    return offset;
  }

  #evictExpired(now: number): void {
    while (this.#count > 0 && now - this.#times[this.#head]! >= this.windowMs) this.#evictOldest();
  }

  #evictOldest(): void {
    const entry = this.#head;
    if (this.#lengths[entry]! >= 0) this.#unindex(entry);
    this.#writes[entry] = undefined;
    this.#head = (this.#head + 1) % this.maxKeys;
    this.#count -= 1;
    // The oldest key is now one written after the wrap: the ring is in one piece again.
    if (this.#count === 0 || this.#offsets[this.#head]! < this.#offsets[entry]!) this.#wrapped = false;
  }

  /** Take an entry out of the table (backward-shift deletion, so no tombstones pile up). */
  #unindex(entry: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let hole = this.#hashes[entry]! & mask;
    while (table[hole] !== entry + 1) hole = (hole + 1) & mask;
    table[hole] = 0;
    for (let next = (hole + 1) & mask; table[next] !== 0; next = (next + 1) & mask) {
      const home = this.#hashes[table[next]! - 1]! & mask;
      // Move the entry back into the hole unless its home lies cyclically in (hole, next].
      const stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (stays) continue;
      table[hole] = table[next]!;
      table[next] = 0;
      hole = next;
    }
    this.#lengths[entry] = -1;
    this.#live -= 1;
  }
}

/** FNV-1a over the key's bytes. */
function hashBytes(bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash | 0;
}
