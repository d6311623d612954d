/**
 * The SQLite view's apply rate: generates N log lines (realistic messages, 40% in several parts,
 * Queued/Sent/final per part), applies them through the view as the server does (`catchUp` until
 * the end) and prints rows/s, rows per CPU-second (steadier than wall time on a shared machine),
 * the load average and peak RSS. The view keeps up when it applies more than the server takes
 * (`npm run bench` prints the default's req/s and the view's lag).
 *   bun scripts/bench/view-apply.ts [--reports N] [--dir DIR]
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SqlView } from "../../src/store/sql/view.ts";
import { reportLine, routeeMessages } from "../lib/samples.ts";

const { values } = parseArgs({ options: { reports: { type: "string" }, dir: { type: "string" } } });
const reports = Number(values.reports ?? 300_000);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), "view-apply-"));
const log = join(dir, "status.log");

// A seeded generator: the same log every run.
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
let t = performance.now();
const fd = openSync(log, "w");
let chunk: string[] = [];
let n = 0;
const received = Date.UTC(2024, 4, 1, 9);
for (const report of routeeMessages(random)) {
  chunk.push(reportLine(report, new Date(received + n)));
  if (chunk.length === 10_000) {
    writeSync(fd, chunk.join(""));
    chunk = [];
  }
  if (++n === reports) break;
}
writeSync(fd, chunk.join(""));
closeSync(fd);
console.log(`generated ${reports} reports in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const view = new SqlView({ log, db: join(dir, "status.log.db") });
await view.open();
const cpu0 = process.cpuUsage();
t = performance.now();
while (await view.catchUp()) {}
const seconds = (performance.now() - t) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
await view.stop();
const rss = process.resourceUsage().maxRSS / 1024;
console.log(`applied ${view.stats.applied} reports in ${seconds.toFixed(2)} s = ${Math.round(view.stats.applied / seconds)} rows/s, ` +
  `${Math.round(view.stats.applied / cpuSeconds)} rows per CPU-second; peak RSS ${Math.round(rss)} MB; load average ${readFileSync("/proc/loadavg", "utf8").trim()}`);
if (!values.dir) rmSync(dir, { recursive: true, force: true });
