/**
 * Byte strings (UTF-8) to dense integer ids, for aggregating a large log without one JS string and
 * one Map entry per key: the bytes live in one growable arena and the table is an open-addressing
 * Int32Array, so 700 000 message ids cost about 50 bytes each and nothing for the collector to trace.
 */

const EMPTY = -1;
const decoder = new TextDecoder();

export class ByteInterner {
  /** Every key's bytes, back to back. */
  #arena = new Uint8Array(1 << 16);
  #used = 0;
  /** Key `id` is `#arena[#starts[id] .. #starts[id + 1])`. */
  #starts = new Int32Array(1 << 10);
  #size = 0;
  /** Open addressing, linear probing: a slot holds an id or EMPTY; kept at most half full. */
  #slots = new Int32Array(1 << 11).fill(EMPTY);
  #hashes = new Int32Array(1 << 10);
  /** Decoded keys, filled on demand by `text`. */
  #texts: (string | undefined)[] = [];

  /** How many distinct keys. */
  get size(): number {
    return this.#size;
  }

  /** The id of `bytes[start..end)`, adding the key if it is new. */
  id(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashOf(bytes, start, end);
    const mask = this.#slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.#slots[slot]!;
      if (id === EMPTY) {
        this.#slots[slot] = this.#add(bytes, start, end, hash);
        return this.#size - 1;
      }
      if (this.#hashes[id] === hash && this.#equals(id, bytes, start, end)) return id;
    }
  }

  /** The key as a string (decoded once, then cached; meant for the few keys a result names). */
  text(id: number): string {
    return (this.#texts[id] ??= decoder.decode(this.#arena.subarray(this.#starts[id]!, this.#starts[id + 1]!)));
  }

  /** Does key `id` hold exactly `bytes[start..end)`? */
  #equals(id: number, bytes: Uint8Array, start: number, end: number): boolean {
    let at = this.#starts[id]!;
    if (this.#starts[id + 1]! - at !== end - start) return false;
    const arena = this.#arena;
    for (let i = start; i < end; i++, at++) if (arena[at] !== bytes[i]) return false;
    return true;
  }

  #add(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const id = this.#size++;
    const length = end - start;
    if (this.#used + length > this.#arena.length) this.#arena = grow(this.#arena, this.#used + length);
    this.#arena.set(bytes.subarray(start, end), this.#used);
    this.#used += length;
    if (id + 2 > this.#starts.length) this.#starts = grow(this.#starts, id + 2);
    this.#starts[id + 1] = this.#used;
    if (id + 1 > this.#hashes.length) this.#hashes = grow(this.#hashes, id + 1);
    this.#hashes[id] = hash;
    if (this.#size * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2).fill(EMPTY);
    const mask = slots.length - 1;
    for (let id = 0; id < this.#size; id++) {
      let slot = this.#hashes[id]! & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.#slots = slots;
  }
}

/** FNV-1a, 32-bit. */
function hashOf(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

type Growable = Uint8Array | Int32Array | Float64Array | Int16Array;

/**
 * A copy at least `need` long, the contents kept. Grows by half, not double: less slack at the end
 * and a smaller old copy waiting for the collector while the table is at its largest.
 */
export function grow<T extends Growable>(array: T, need: number): T {
  let length = Math.ceil(array.length * 1.5);
  while (length < need) length = Math.ceil(length * 1.5);
  const Typed = array.constructor as new (buffer: ArrayBuffer | number) => T;
  const buffer = array.buffer as ArrayBuffer & { transfer?: (bytes: number) => ArrayBuffer };
  // transfer() frees the old memory now rather than at the next collection (Bun, Node 21+, Deno).
  if (typeof buffer.transfer === "function") return new Typed(buffer.transfer(length * array.BYTES_PER_ELEMENT));
  const bigger = new Typed(length);
  bigger.set(array as never);
  return bigger;
}
