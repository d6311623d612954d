import { describe, expect, it } from "bun:test";
import { DuplicateFilter } from "../../src/journal/dedupe.ts";

describe("duplicate filter eviction", () => {
  it("forgets the oldest key first, and a re-added key counts from its new time", () => {
    const filter = new DuplicateFilter({ maxKeys: 3, windowMs: 1000 });
    filter.add("a", 1);
    filter.add("b", 2);
    filter.add("a", 3); // re-added: now the newest
    filter.add("c", 4);
    filter.add("d", 5); // over the cap: "b" is the oldest
    expect(filter.size).toBe(3);
    expect(filter.has("b", 5)).toBe(false);
    expect(filter.has("a", 5)).toBe(true);
    expect(filter.has("d", 5)).toBe(true);
    filter.add("e", 1004); // "a" (3) is now older than the window
    expect(filter.has("a", 1004)).toBe(false);
    expect(filter.has("e", 1004)).toBe(true);
  });

  it("holds exactly the newest maxKeys keys while evicting continuously at a large cap", () => {
    // Its speed is measured by `npm run bench:dedupe` (scripts/bench/dedupe.ts), not here: before the
    // separate age queue, a full filter walked every deleted slot on each add (these adds took ~10 s).
    const cap = 50_000;
    const adds = 300_000;
    const key = (i: number) => `routee\u0000sms-${i}\u0000Delivered`;
    const filter = new DuplicateFilter({ maxKeys: cap });
    for (let i = 0; i < adds; i++) filter.add(key(i), 1000 + i);
    expect(filter.size).toBe(cap);
    const now = 1000 + adds;
    let heldOld = 0;
    let heldNew = 0;
    for (let i = 0; i < adds - cap; i++) if (filter.has(key(i), now)) heldOld += 1;
    for (let i = adds - cap; i < adds; i++) if (filter.has(key(i), now)) heldNew += 1;
    expect(heldOld).toBe(0);
    expect(heldNew).toBe(cap);
  });
});

describe("duplicate filter storage", () => {
  it.each([
    // [key length spread, how many of the last adds must be kept]: short keys are bounded by the
    // count (97), long ones by the ring's 97 x 96 bytes (at most 23 keys of 400 bytes, less one
    // wrap's waste).
    [90, 97],
    [400, 22],
  ])("never answers for a key not seen in the window, and keeps the last ones (keys up to %i bytes)", (spread, keep) => {
    const filter = new DuplicateFilter({ maxKeys: 97, windowMs: 5000 });
    const lastSeen = new Map<string, number>();
    const recent: string[] = [];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    // Keys of uneven lengths, so that the byte ring wraps at uneven places; many come back.
    const keyOf = (id: number) => `k${id}-${"x".repeat((id * 37) % spread)}`;
    let falsePositives = 0;
    let forgottenRecent = 0;
    for (let t = 0; t < 8_000; t++) {
      const probe = keyOf(Math.floor(random() * 300));
      const seen = lastSeen.get(probe);
      if (filter.has(probe, t) && !(seen !== undefined && t - seen < 5000)) falsePositives += 1;
      const key = keyOf(Math.floor(random() * 300));
      filter.add(key, t);
      lastSeen.set(key, t);
      recent.push(key);
      if (recent.length > keep) recent.shift();
      for (const k of recent) if (!filter.has(k, t)) forgottenRecent += 1;
      expect(filter.size).toBeLessThanOrEqual(97);
    }
    expect(falsePositives).toBe(0);
    expect(forgottenRecent).toBe(0);
  });

  it("does not remember a key too long to store, rather than mistake it for another", () => {
    const filter = new DuplicateFilter({ maxKeys: 10 });
    const long = "s".repeat(5000);
    filter.add(long, 1);
    expect(filter.has(long, 2)).toBe(false);
    expect(filter.has(long.slice(0, 1024), 2)).toBe(false);
    filter.add("short", 1);
    expect(filter.has("short", 2)).toBe(true);
  });

  it("tells apart keys that differ only in non-ASCII characters", () => {
    const filter = new DuplicateFilter({ maxKeys: 10 });
    filter.add("routee\u0000Ωmega\u0000Delivered", 1);
    expect(filter.has("routee\u0000Ωmega\u0000Delivered", 2)).toBe(true);
    expect(filter.has("routee\u0000Ωmegb\u0000Delivered", 2)).toBe(false);
  });
});
