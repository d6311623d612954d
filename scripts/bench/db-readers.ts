/**
 * The readers on the database at scale: builds a SQLite view of N messages (default 1,000,000)
 * by `reindex` of a generated log, then times `lookup` (target: under 10 ms) and `report`
 * (target: under 1 s) on it, and the view's apply rate (rows/s, to compare with the server's
 * ~70k reports/s).
 *   bun scripts/bench/db-readers.ts [--messages N] [--dir DIR]
 */
import { SQL } from "bun";
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SqlStatus } from "../../src/store/sql/index.ts";
import { reindex } from "../../src/store/sql/view.ts";
import { dlrLine, routeeStatus } from "../lib/samples.ts";

const { values } = parseArgs({ options: { messages: { type: "string" }, dir: { type: "string" } } });
const messages = Number(values.messages ?? 1_000_000);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "db-readers-"));
const log = join(dir, "status.log");
const db = join(dir, "status.log.db");

// One delivery report per message (Delivered or Failed), a second apart: a million-message log.
let t = performance.now();
const fd = openSync(log, "w");
let chunk: string[] = [];
const start = Date.UTC(2024, 4, 1);
for (let i = 0; i < messages; i++) {
  const name = i % 5 === 0 ? "Failed" : "Delivered";
  chunk.push(dlrLine({ messageId: `msg-${i}`, smsId: `sms-${i}`, status: routeeStatus(name, new Date(start + i * 1000).toISOString().replace(/\.\d+Z$/, "Z")) }, new Date(start + i * 1000 + 500)));
  if (chunk.length === 10_000) {
    writeSync(fd, chunk.join(""));
    chunk = [];
  }
}
writeSync(fd, chunk.join(""));
closeSync(fd);
console.log(`generated ${messages} reports in ${((performance.now() - t) / 1000).toFixed(1)} s`);

t = performance.now();
const n = await reindex([log], db);
const seconds = (performance.now() - t) / 1000;
console.log(`reindex: ${n} entries in ${seconds.toFixed(1)} s = ${Math.round(n / seconds)} rows/s (the view's apply rate; the server writes ~70k/s)`);

const sql = new SQL(`sqlite://${db}`);
const status = new SqlStatus(sql, "sqlite", db);
const times: number[] = [];
for (let i = 0; i < 200; i++) {
  const id = `msg-${Math.floor(Math.random() * messages)}`;
  const t0 = performance.now();
  const found = await status.lookup(id);
  times.push(performance.now() - t0);
  if (!found) throw new Error(`lookup ${id} found nothing`);
}
times.sort((a, b) => a - b);
console.log(`lookup: p50 ${times[100]!.toFixed(2)} ms, p99 ${times[198]!.toFixed(2)} ms, max ${times[199]!.toFixed(2)} ms (target < 10 ms)`);
for (const query of [{}, { by: "country" as const }]) {
  const t0 = performance.now();
  const report = await status.report({ since: null, until: null, by: query.by ?? null, channel: "sms" });
  console.log(`report${query.by ? " --by " + query.by : ""}: ${report.messages} messages in ${Math.round(performance.now() - t0)} ms (target < 1000 ms)`);
}
await sql.close();
if (!values.dir) rmSync(dir, { recursive: true, force: true });
