/**
 * Peak memory of the server under bodies that are small but costly to parse, against plain ones of
 * the same size. Run by hand; prints figures, asserts nothing.
 *
 *   bun scripts/bench/hostile-memory.ts [--concurrency 256] [--rounds 4] [--size 61440] [--shape NAME]
 *
 * For each shape a fresh server (the source, default options) gets `--rounds` rounds of
 * `--concurrency` concurrent POSTs; its peak RSS (VmHWM in /proc/PID/status) is printed with the
 * answers' status codes. The target is a peak under the shipped unit's MemoryMax=256M.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MAX_JSON_STRUCTURE } from "../../src/core/defaults.ts";
import { routeeReport } from "../lib/samples.ts";
import { killServers, spawnServer } from "../lib/startup.ts";

const { values: opts } = parseArgs({
  options: {
    concurrency: { type: "string", default: "256" },
    rounds: { type: "string", default: "4" },
    size: { type: "string", default: String(60 * 1024) },
    shape: { type: "string" },
  },
});
const CONCURRENCY = Number(opts.concurrency);
const ROUNDS = Number(opts.rounds);
const SIZE = Number(opts.size);
for (const [name, n] of [["concurrency", CONCURRENCY], ["rounds", ROUNDS], ["size", SIZE]] as const) {
  if (!Number.isInteger(n) || n < 1) {
    console.error(`hostile-memory: --${name} must be a whole number above 0`);
    process.exit(2);
  }
}

/** Repeat `unit` between `head` and `tail` until the body is about SIZE bytes. */
const fill = (head: string, unit: string, tail: string) => head + unit.repeat(Math.floor((SIZE - head.length - tail.length) / unit.length)) + tail;
const half = Math.floor((SIZE - 10) / 2);

/** Each shape makes a fresh body per request (plain ones must not all be duplicates). */
const SHAPES: Record<string, () => string> = {
  plain: () => {
    const report = routeeReport();
    return JSON.stringify({ ...report, message: "x".repeat(SIZE - JSON.stringify(report).length - 20) });
  },
  nested: () => `{"a":${"[".repeat(half)}${"]".repeat(half)}}`,
  "flat [{},...]": () => fill('{"a":[', "{},", "{}]}"),
  "flat [0,...]": () => fill('{"a":[', "0,", "0]}"),
  // The costliest body still parsed: [{},...] up to the bound, its remaining bytes one string.
  "bound [{},...]": () => {
    const head = `{"a":[${"{},".repeat(MAX_JSON_STRUCTURE / 2 - 3)}{}],"b":"`;
    return head + "x".repeat(SIZE - head.length - 2) + '"}';
  },
  "many keys": () => {
    const keys: string[] = [];
    for (let i = 0, length = 2; length < SIZE - 16; i++) length += keys[keys.push(`"${i.toString(36)}":0`) - 1]!.length + 1;
    return `{${keys.join(",")}}`;
  },
};

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmHWM:\s+(\d+) kB/)![1]) * 1024;
}

async function measure(shape: string, make: () => string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hostile-memory-"));
  const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--log", join(dir, "status.log")]);
  const statuses = new Map<number, number>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bodies = Array.from({ length: CONCURRENCY }, make);
      const answers = await Promise.all(
        bodies.map((body) =>
          fetch(`${server.url}/sms/status`, { method: "POST", body, headers: { "content-type": "application/json" } })
            .then(async (res) => (await res.arrayBuffer(), res.status))
            .catch(() => 0),
        ),
      );
      for (const status of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const mb = (peakRss(server.proc.pid) / 1048576).toFixed(0);
    const size = make().length;
    const codes = [...statuses].map(([status, n]) => `${n}x${status || "error"}`).join(" ");
    console.log(`${shape.padEnd(14)} ${String(size).padStart(6)} B  peak RSS ${mb.padStart(5)} MB  ${codes}`);
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on("SIGINT", () => (killServers(), process.exit(130)));
console.log(`${CONCURRENCY} concurrent POSTs x ${ROUNDS} rounds per shape, a fresh server each`);
for (const [shape, make] of Object.entries(SHAPES)) if (!opts.shape || shape.startsWith(opts.shape)) await measure(shape, make);
