/**
 * Throughput of `sms-status report` (and `lookup`) on a large generated log.
 *
 *   bun scripts/bench-report.ts [MESSAGES]      (default 700 000 messages, about 1.6 M lines, 1.7 GB)
 *
 * Writes a realistic JSONL log into a temporary directory with the project's own adapter and
 * renderer (Sent then a final report per part, one in ten messages in two parts, some failures,
 * some duplicates, reports slightly out of order), runs the CLI on it as a subprocess and prints
 * lines/s and the child's peak RSS. The directory is removed afterwards.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderJsonl } from "../src/entry.ts";
import { routeeEntry } from "../src/providers/routee/adapter.ts";
import type { RouteeCallback } from "../src/providers/routee/schema.ts";

const messages = Number(process.argv[2] ?? 700_000);
const dir = mkdtempSync(join(tmpdir(), "sms-status-bench-"));
const log = join(dir, "sms-status.log");
const cli = resolve(import.meta.dir, "../src/cli.ts");

const NETWORKS = [["GR", "Cosmote"], ["GR", "Vodafone"], ["CY", "Cyta"], ["GB", "EE"], ["DE", "Telekom"]] as const;
const FAILURES = ["Undelivered on Handset", "Unknown Number", "Expired", "Call Barred"];

/** A small deterministic PRNG, so runs are comparable. */
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

function body(id: number, part: number, parts: number, status: string, detailed: string, at: Date): RouteeCallback {
  const [country, operator] = NETWORKS[id % NETWORKS.length]!;
  return {
    messageId: `5c8b2e1a-9f3d-4b6e-a1c2-${id.toString(16).padStart(12, "0")}`,
    smsId: `7d4f0c3b-2a6e-4f1d-b8e9-${(id * 2 + part).toString(16).padStart(12, "0")}`,
    campaignTrackingId: id % 7 === 0 ? `campaign-${id % 3}` : null,
    part,
    parts,
    label: id % 2 ? "otp" : "marketing",
    to: `+3069${String(id).padStart(8, "0")}`,
    from: "Routee",
    country,
    operator,
    groups: [],
    campaignName: null,
    status: { name: status, reason: { detailedStatus: detailed, description: `${detailed} description` }, updatedDate: at.toISOString() },
    message: "Your verification code is 123456. It expires in 10 minutes.",
    applicationName: "default",
    latency: status === "Delivered" ? 1 + Math.floor(random() * 20) : 0,
    price: 0.036,
    direction: "Outbound",
    originatingService: "Sms",
  };
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
      batch.push(renderJsonl(routeeEntry(body(id, part, parts, "Sent", "Sent", at), at)));
      const r = random();
      const later = new Date(at.getTime() + 2000);
      if (r < 0.9) batch.push(renderJsonl(routeeEntry(body(id, part, parts, "Delivered", "Delivered", later), later)));
      else if (r < 0.97)
        batch.push(renderJsonl(routeeEntry(body(id, part, parts, "Undelivered", FAILURES[id % 4]!, later), later)));
      if (r < 0.05) batch.push(batch[batch.length - 1]!); // a retry that got through twice
    }
    if (random() < 0.1) batch.reverse(); // the final report arrives first
    for (const line of batch) writer.write(line);
    lines += batch.length;
  }
  await writer.end();
  return lines;
}

function run(args: string[]): { seconds: number; maxRssMB: number; stdout: string } {
  const started = performance.now();
  const child = Bun.spawnSync([process.execPath, cli, ...args], { stdout: "pipe", stderr: "inherit" });
  const seconds = (performance.now() - started) / 1000;
  if (child.exitCode !== 0) throw new Error(`sms-status ${args.join(" ")} exited ${child.exitCode}`);
  // Bun reports the child's getrusage ru_maxrss converted to bytes.
  const maxRssMB = (child.resourceUsage?.maxRSS ?? 0) / 1e6;
  return { seconds, maxRssMB, stdout: child.stdout.toString() };
}

try {
  const t0 = performance.now();
  const lines = await generate();
  const size = statSync(log).size;
  console.log(
    `generated ${lines.toLocaleString("en-US")} lines, ${(size / 1e9).toFixed(2)} GB, ` +
      `${messages.toLocaleString("en-US")} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const report = run(["report", "--json", log]);
  const figures = JSON.parse(report.stdout) as { messages: number; delivered: number; lines: { read: number } };
  console.log(
    `report: ${report.seconds.toFixed(2)} s, ${Math.round(lines / report.seconds).toLocaleString("en-US")} lines/s, ` +
      `${(size / 1e6 / report.seconds).toFixed(0)} MB/s, peak RSS ${report.maxRssMB.toFixed(0)} MB ` +
      `(${figures.messages.toLocaleString("en-US")} messages, ${figures.delivered.toLocaleString("en-US")} delivered)`,
  );
  const windowed = run(["report", "--json", "--since", "2024-05-01T00:10:00Z", "--until", "2024-05-01T00:20:00Z", log]);
  console.log(`report --since/--until (10 minutes): ${windowed.seconds.toFixed(2)} s, peak RSS ${windowed.maxRssMB.toFixed(0)} MB`);
  const id = `5c8b2e1a-9f3d-4b6e-a1c2-${(messages - 1).toString(16).padStart(12, "0")}`;
  const found = run(["lookup", id, "--json", log]);
  console.log(`lookup (last message): ${found.seconds.toFixed(2)} s, peak RSS ${found.maxRssMB.toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
