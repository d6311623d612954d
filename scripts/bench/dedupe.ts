/**
 * `npm run bench:dedupe`: the duplicate filter's speed when full, where every add evicts the
 * oldest key (the server's steady state under load).
 *
 *   bun scripts/bench/dedupe.ts [--max-keys 50000] [--adds 300000] [--runs 5]
 *
 * Each run fills a fresh filter, then times `--adds` adds of Routee-like keys and as many lookups
 * (half of them hits); the median of the runs is printed as operations per second. The test suite
 * checks what the filter holds; this measures how fast it gets there. Before the separate age queue,
 * a full filter walked every deleted slot on each add: 300 000 adds at 50 000 keys took about 10 s,
 * now about 0.1 s.
 */
import { parseArgs } from "node:util";
import { DuplicateFilter } from "../../src/journal/dedupe.ts";
import { positiveFlag } from "../lib/flags.ts";

const { values: opts } = parseArgs({
  options: {
    "max-keys": { type: "string", default: "50000" },
    adds: { type: "string", default: "300000" },
    runs: { type: "string", default: "5" },
  },
});
const positive = (name: keyof typeof opts, max: number) => positiveFlag("bench:dedupe", opts, name, max);
const MAX_KEYS = positive("max-keys", 10_000_000);
const ADDS = positive("adds", 100_000_000);
const RUNS = positive("runs", 100);

/** A key shaped like the receiver's: provider, smsId (a UUID's length), status, date. */
const key = (i: number) => `routee\u0000s36:${i.toString(16).padStart(36, "0")}\u00009:Delivered\u00002019-07-05T10:28:49Z`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function run(): { adds: number; lookups: number } {
  const filter = new DuplicateFilter({ maxKeys: MAX_KEYS });
  for (let i = 0; i < MAX_KEYS; i++) filter.add(key(i), i); // full before the clock starts
  let t = performance.now();
  for (let i = MAX_KEYS; i < MAX_KEYS + ADDS; i++) filter.add(key(i), i);
  const addMs = performance.now() - t;
  const newest = MAX_KEYS + ADDS;
  let hits = 0;
  t = performance.now();
  // Alternately a key still held and one long evicted.
  for (let i = 0; i < ADDS; i++) if (filter.has(key(i % 2 === 0 ? newest - 1 - (i % MAX_KEYS) : i), newest)) hits += 1;
  const lookupMs = performance.now() - t;
  if (filter.size !== MAX_KEYS || hits !== Math.ceil(ADDS / 2)) {
    console.error(`bench:dedupe: wrong answers (size ${filter.size}, hits ${hits}): run the tests`);
    process.exit(1);
  }
  return { adds: (ADDS / addMs) * 1000, lookups: (ADDS / lookupMs) * 1000 };
}

const results = Array.from({ length: RUNS }, run);
const format = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(`duplicate filter, ${format(MAX_KEYS)} keys, full; median of ${RUNS} runs of ${format(ADDS)} operations`);
console.log(`  add (evicting the oldest): ${format(median(results.map((r) => r.adds)))} ops/s`);
console.log(`  lookup (half hits):        ${format(median(results.map((r) => r.lookups)))} ops/s`);
