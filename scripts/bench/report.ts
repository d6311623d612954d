/**
 * Throughput of `sms-status report` (and `lookup`) on a large generated log.
 *
 *   bun scripts/bench/report.ts [MESSAGES] [--runs N] [--keep FILE]
 *
 * MESSAGES defaults to 700 000 (about 1.6 M lines, 1.7 GB). Writes a realistic JSONL log into a
 * temporary directory with the project's own adapter and renderer (Sent then a final report per
 * part, one in ten messages in two parts, some failures, some duplicates, reports slightly out of
 * order), runs the CLI on it as a subprocess N times per command (default 3) and prints the median
 * time, lines/s and the child's peak RSS. The directory is removed afterwards; with `--keep FILE`
 * the log is written to FILE and kept, and reused by the next run that names it (the same
 * MESSAGES), so repeated measurements skip the generation.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { reportLine, routeeReport, routeeStatus, type SampleReport } from "../lib/samples.ts";

const { values: flags, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { runs: { type: "string", default: "3" }, keep: { type: "string" } },
  allowPositionals: true,
});
const messages = Number(positionals[0] ?? 700_000);
const runs = Number(flags.runs);
if (!Number.isInteger(messages) || messages < 1 || !Number.isInteger(runs) || runs < 1)
  throw new Error("usage: bun scripts/bench/report.ts [MESSAGES] [--runs N] [--keep FILE]");
const dir = flags.keep ? null : mkdtempSync(join(tmpdir(), "sms-status-bench-"));
const log = flags.keep ? resolve(flags.keep) : join(dir!, "sms-status.log");
const cli = resolve(import.meta.dir, "../../src/cli.ts");

const NETWORKS = [["GR", "Cosmote"], ["GR", "Vodafone"], ["CY", "Cyta"], ["GB", "EE"], ["DE", "Telekom"]] as const;
const FAILURES = ["Undelivered on Handset", "Unknown Number", "Expired", "Call Barred"];

/** A small deterministic PRNG, so runs are comparable. */
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

function body(id: number, part: number, parts: number, status: string, detailed: string, at: Date): SampleReport {
  const [country, operator] = NETWORKS[id % NETWORKS.length]!;
  return routeeReport({
    messageId: `5c8b2e1a-9f3d-4b6e-a1c2-${id.toString(16).padStart(12, "0")}`,
    smsId: `7d4f0c3b-2a6e-4f1d-b8e9-${(id * 2 + part).toString(16).padStart(12, "0")}`,
    campaignTrackingId: id % 7 === 0 ? `campaign-${id % 3}` : null,
    part,
    parts,
    label: id % 2 ? "otp" : "marketing",
    to: `+3069${String(id).padStart(8, "0")}`,
    country,
    operator,
    status: routeeStatus(status, at.toISOString(), detailed, `${detailed} description`),
    message: "Your verification code is 123456. It expires in 10 minutes.",
    latency: status === "Delivered" ? 1 + Math.floor(random() * 20) : 0,
  });
}

async function generate(): Promise<number> {
  const writer = Bun.file(log).writer({ highWaterMark: 1 << 20 });
  let lines = 0;
  const start = Date.parse("2024-05-01T00:00:00Z");
  for (let id = 0; id < messages; id++) {
    const parts = id % 10 === 0 ? 2 : 1;
    const at = new Date(start + id * 100);
    const batch: string[] = [];
    for (let part = 1; part <= parts; part++) {
      batch.push(reportLine(body(id, part, parts, "Sent", "Sent", at), at));
      const r = random();
      const later = new Date(at.getTime() + 2000);
      if (r < 0.9) batch.push(reportLine(body(id, part, parts, "Delivered", "Delivered", later), later));
      else if (r < 0.97)
        batch.push(reportLine(body(id, part, parts, "Undelivered", FAILURES[id % 4]!, later), later));
      if (r < 0.05) batch.push(batch[batch.length - 1]!); // a retry that got through twice
    }
    if (random() < 0.1) batch.reverse(); // the final report arrives first
    for (const line of batch) writer.write(line);
    lines += batch.length;
  }
  await writer.end();
  return lines;
}

interface Run {
  seconds: number;
  maxRssMB: number;
  stdout: string;
}

function run(args: string[]): Run {
  const started = performance.now();
  const child = Bun.spawnSync([process.execPath, cli, ...args], { stdout: "pipe", stderr: "inherit" });
  const seconds = (performance.now() - started) / 1000;
  if (child.exitCode !== 0) throw new Error(`sms-status ${args.join(" ")} exited ${child.exitCode}`);
  // Bun reports the child's getrusage ru_maxrss converted to bytes.
  const maxRssMB = (child.resourceUsage?.maxRSS ?? 0) / 1e6;
  return { seconds, maxRssMB, stdout: child.stdout.toString() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs a command `runs` times; prints and returns the median time and peak RSS (and each run). */
function measure(name: string, args: string[], lines: number, size: number): Run {
  const all = Array.from({ length: runs }, () => run(args));
  const seconds = median(all.map((r) => r.seconds));
  const maxRssMB = median(all.map((r) => r.maxRssMB));
  const each = all.map((r) => `${r.seconds.toFixed(2)} s/${r.maxRssMB.toFixed(0)} MB`).join(", ");
  console.log(
    `${name}: ${seconds.toFixed(2)} s, ${Math.round(lines / seconds).toLocaleString("en-US")} lines/s, ` +
      `${(size / 1e6 / seconds).toFixed(0)} MB/s, peak RSS ${maxRssMB.toFixed(0)} MB ` +
      `(median of ${runs}: ${each})`,
  );
  return { seconds, maxRssMB, stdout: all[0]!.stdout };
}

/** Lines in a kept log, counted without holding it in memory. */
async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of Bun.file(path).stream()) {
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}

try {
  const t0 = performance.now();
  const reuse = flags.keep !== undefined && existsSync(log);
  const lines = reuse ? await countLines(log) : await generate();
  const size = statSync(log).size;
  console.log(
    `${reuse ? "reused" : "generated"} ${log}: ${lines.toLocaleString("en-US")} lines, ${(size / 1e9).toFixed(2)} GB` +
      (reuse ? "" : `, ${messages.toLocaleString("en-US")} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`),
  );
  const report = measure("report", ["report", "--json", log], lines, size);
  const figures = JSON.parse(report.stdout) as { messages: number; delivered: number };
  console.log(`  ${figures.messages.toLocaleString("en-US")} messages, ${figures.delivered.toLocaleString("en-US")} delivered`);
  measure(
    "report --since/--until (10 minutes)",
    ["report", "--json", "--since", "2024-05-01T00:10:00Z", "--until", "2024-05-01T00:20:00Z", log],
    lines,
    size,
  );
  const id = `5c8b2e1a-9f3d-4b6e-a1c2-${(messages - 1).toString(16).padStart(12, "0")}`;
  measure("lookup (last message)", ["lookup", id, "--json", log], lines, size);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
