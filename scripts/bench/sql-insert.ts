/**
 * Rows per second of the SQL store's batch insert, on SQLite (a temp file) and on a PostgreSQL
 * started for the run (tests/helpers/postgres.ts): batches of N reports, each one write() (one
 * transaction: the report rows and the part upserts). Run by hand: bun scripts/bench/sql-insert.ts [N] [batches]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlStore } from "../../src/store/sql/index.ts";
import { startPostgres } from "../../tests/helpers/postgres.ts";
import { reportEntry, routeeReport } from "../lib/samples.ts";

const size = Number(process.argv[2] ?? 1000);
const batches = Number(process.argv[3] ?? 20);
const dir = mkdtempSync(join(tmpdir(), "sms-status-bench-"));

async function measure(name: string, url: string): Promise<void> {
  const store = await openSqlStore(url, { timeoutMs: 60_000 });
  const made = Array.from({ length: batches }, () => Array.from({ length: size }, () => ({ entry: reportEntry(routeeReport()) })));
  const started = performance.now();
  for (const batch of made) await store.write(batch);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${batches} transactions of ${size} reports: ${Math.round((size * batches) / seconds)} rows/s (${((seconds / batches) * 1000).toFixed(1)} ms per transaction)`);
  await store.close();
}

try {
  await measure("sqlite", `sqlite://${join(dir, "bench.sqlite")}`);
  const why: { reason?: string } = {};
  const pg = await startPostgres(why);
  if (!pg) console.log(`postgres: not measured: ${why.reason}`);
  else {
    try {
      await measure("postgres (fsync off)", await pg.createDatabase("bench"));
    } finally {
      await pg.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
