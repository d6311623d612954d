/**
 * Start-up recovery against hostile logs: the server reads the log's last 16 MiB back at start
 * (store/file-recent.ts), and that must stay bounded in time and memory whatever the bytes.
 *
 *   bun scripts/bench/recovery.ts [--mib 16]
 *
 * For each log below it starts the server (scripts/lib/startup.ts) and prints the time to its
 * start-up line and its peak RSS (/proc/PID/status VmHWM, so Linux only):
 *   empty     no log: the start-up time of the server itself
 *   braces    `{\n` lines: the most lines the window can hold
 *   nested    60 KB rejected lines whose `report` is nested-JSON text
 *   raw       60 KB lines whose `report` is that nested JSON itself (hand-made)
 *   reports   ordinary delivery reports, as the server writes them
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dlrLine } from "../lib/samples.ts";
import { killServers, spawnServer } from "../lib/startup.ts";

const { values: opts } = parseArgs({ options: { mib: { type: "string", default: "16" } } });
const MIB = Number(opts.mib);
if (!Number.isInteger(MIB) || MIB < 1 || MIB > 1024) {
  console.error("bench:recovery: --mib must be a whole number from 1 to 1024");
  process.exit(2);
}
const BYTES = MIB << 20;

/** Lines repeated until the file holds `BYTES`. */
function fill(make: (i: number) => string): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < BYTES; i++) {
    const part = Buffer.from(make(i));
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts);
}

const NESTING = 30_000; // 60 KB of brackets
const nested = "[".repeat(NESTING) + "]".repeat(NESTING);
const now = Date.now();
const at = (i: number) => new Date(now - 3600_000 + i).toISOString();
const rejected = (i: number, report: string) =>
  `{"receivedAt":"${at(i)}","provider":"routee","kind":"rejected","outcome":"unknown","final":false,"messageId":null,` +
  `"smsId":null,"part":null,"parts":null,"to":null,"from":null,"status":null,"detailedStatus":null,"description":null,` +
  `"updatedDate":null,"price":null,"latency":null,"country":null,"operator":null,"campaignTrackingId":null,"label":null,` +
  `"report":${report},"error":{"reason":"schema","message":"not a Routee report"}}\n`;

const LOGS: [name: string, build: () => Buffer][] = [
  ["empty", () => Buffer.alloc(0)],
  ["braces", () => Buffer.from("{\n".repeat(BYTES / 2))],
  ["nested", () => fill((i) => rejected(i, JSON.stringify(nested)))],
  ["raw", () => fill((i) => rejected(i, nested))],
  ["reports", () => fill((i) => dlrLine({ messageId: `m${i}`, smsId: `s${i}` }, new Date(now - 3600_000 + i)))],
];

function peakRssMb(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  return kb / 1024;
}

const dir = mkdtempSync(join(tmpdir(), "bench-recovery-"));
process.on("exit", () => {
  killServers();
  rmSync(dir, { recursive: true, force: true });
});

console.log(`log of ${MIB} MiB each; time to the start-up line, peak RSS`);
for (const [name, build] of LOGS) {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, build());
  const started = performance.now();
  const server = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log], { timeoutMs: 120_000 });
  const ms = performance.now() - started;
  const rss = peakRssMb(server.proc.pid);
  server.proc.kill("SIGTERM");
  await server.proc.exited;
  console.log(`${name.padEnd(8)} ${ms.toFixed(0).padStart(6)} ms  ${rss.toFixed(0).padStart(5)} MB`);
  rmSync(log);
}
