/**
 * What `onMessageStatus` costs: the memory of its bounded tracker, the start-up read that seeds it,
 * and reports per second through the plugin with and without it.
 *
 *   bun scripts/bench/message-status.ts [--max-messages 50000] [--reports 20000] [--runs 3]
 *
 * Prints: how many messages and reports the 16 MiB read at start holds (realistic reports from
 * scripts/lib/samples.ts: Queued, Sent and a final status per part, 40% of messages in 2 to 4
 * parts); the heap a full tracker holds; the time `smsStatus()` takes on such a log with and
 * without the hook; and `app.handle` reports/s with and without it (medians of the runs).
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { heapStats } from "bun:jsc";
import { Elysia } from "elysia";
import { smsStatus, type SmsStatusOptions } from "../../src/index.ts";
import { RECOVERY_TAIL_BYTES } from "../../src/store/file-recent.ts";
import { MessageTracker } from "../../src/status/tracker.ts";
import { reportEntry, reportLine, routeeMessages, type SampleReport } from "../lib/samples.ts";
import { positiveFlag } from "../lib/flags.ts";

const { values: opts } = parseArgs({
  options: {
    "max-messages": { type: "string", default: "50000" },
    reports: { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
  },
});
const positive = (name: keyof typeof opts, max: number) => positiveFlag("bench/message-status", opts, name, max);
const MAX_MESSAGES = positive("max-messages", 10_000_000);
const REPORTS = positive("reports", 10_000_000);
const RUNS = positive("runs", 100);

/** A seeded PRNG, so runs are comparable. */
function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), "sms-status-bench-"));

try {
  // 1. What the start-up read holds.
  const log = join(dir, "recent.log");
  const writer = Bun.file(log).writer({ highWaterMark: 1 << 20 });
  const ids = new Set<string>();
  let bytes = 0;
  let lines = 0;
  const at = Date.now() - 3600_000;
  for (const report of routeeMessages(seeded(7))) {
    const line = reportLine(report, new Date(at + lines));
    if (bytes + line.length > RECOVERY_TAIL_BYTES) break;
    writer.write(line);
    bytes += line.length;
    lines += 1;
    ids.add(report.messageId as string);
  }
  await writer.end();
  console.log(`16 MiB of log: ${lines} reports of ${ids.size} messages (${Math.round(bytes / lines)} bytes a line)`);

  // 2. A full tracker's heap.
  Bun.gc(true);
  const before = heapStats().heapSize;
  const tracker = new MessageTracker({ maxMessages: MAX_MESSAGES });
  const messages = routeeMessages(seeded(11));
  while (tracker.size < MAX_MESSAGES) tracker.add(reportEntry(messages.next().value as SampleReport));
  Bun.gc(true);
  const held = heapStats().heapSize - before;
  if (tracker.size !== MAX_MESSAGES) throw new Error("the tracker lost messages"); // and keeps it alive until here
  console.log(
    `tracker of ${MAX_MESSAGES} messages: ${(held / 2 ** 20).toFixed(1)} MiB of heap, ${Math.round(held / MAX_MESSAGES)} bytes a message`,
  );

  // 3. Start-up on the 16 MiB log, and 4. reports/s through the plugin.
  const setups: Record<string, number[]> = { without: [], with: [] };
  const rates: Record<string, number[]> = { without: [], with: [] };
  let calls = 0;
  const variants: Record<string, SmsStatusOptions> = {
    without: {},
    with: { onMessageStatus: () => void calls++, maxMessages: MAX_MESSAGES },
  };
  for (let run = 0; run < RUNS; run++) {
    for (const [name, options] of Object.entries(variants)) {
      let t = performance.now();
      smsStatus({ log, ...options });
      setups[name]!.push(performance.now() - t);

      const app = new Elysia().use(smsStatus({ log: join(dir, `${name}-${run}.log`), ...options }));
      const bodies = routeeMessages(seeded(run + 1));
      const batch = Array.from({ length: REPORTS }, () => JSON.stringify(bodies.next().value));
      t = performance.now();
      for (const body of batch)
        await app.handle(new Request("http://localhost/sms/status", { method: "POST", body, headers: { "content-type": "application/json" } }));
      rates[name]!.push(REPORTS / ((performance.now() - t) / 1000));
      rmSync(join(dir, `${name}-${run}.log`));
    }
  }
  for (const name of ["without", "with"]) {
    console.log(
      `${name.padEnd(7)} onMessageStatus: smsStatus() on the 16 MiB log ${median(setups[name]!).toFixed(0)} ms, ` +
        `${Math.round(median(rates[name]!))} reports/s through app.handle`,
    );
  }
  console.log(`(hook calls: ${calls}; log size ${statSync(log).size} bytes)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
