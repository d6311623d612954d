/**
 * `npm run bench:api`: the read API and forwarding, measured on this machine.
 *
 * 1. `GET /v1/messages/{id}` on the SQLite view: a log of MESSAGES reports is written, the server
 *    started with --api-port, and wrk asks for random ids among them (target: 20,000 req/s).
 * 2. Forwarding at full rate: wrk posts reports as fast as the server takes them while the server
 *    forwards them to a local receiver, side by side without forwarding, each entry a webhook, and
 *    batches of 100; printed: reports/s in, forwarded/s, the lag (worst while wrk runs, and entries
 *    and seconds when it stops) and how long the rest takes to drain.
 *
 * Needs wrk (apt-get install wrk). Usage: npx bun scripts/bench/api.ts [--messages N] [--seconds S] [--forward-only | --api-only]
 */
import { which } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { reportLine, routeeReport } from "../lib/samples.ts";
import { killServers, spawnServer } from "../lib/startup.ts";

const { values } = parseArgs({ options: { messages: { type: "string", default: "100000" }, seconds: { type: "string", default: "10" }, "forward-only": { type: "boolean", default: false }, "api-only": { type: "boolean", default: false } } });
const MESSAGES = Number(values.messages);
const SECONDS = Number(values.seconds);
if (!which("wrk")) {
  console.error("bench:api: wrk is not installed (apt-get install -y wrk)");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "sms-status-bench-api-"));
const LUA_GET = join(dir, "get.lua");
const LUA_POST = resolve(import.meta.dir, "wrk.lua");

/** wrk's requests/s and latency percentiles from its text output. */
async function wrk(url: string, script: string, seconds: number): Promise<{ rps: number; p50: string; p99: string }> {
  // Not spawnSync: the forwarding receiver below runs on this process's event loop, which a
  // blocking spawn froze for the whole run (it then counted 3 forwarded/s).
  const run = Bun.spawn(["wrk", "-c64", "-t1", `-d${seconds}s`, "--latency", "-s", script, url], { stdout: "pipe" });
  const out = await new Response(run.stdout).text();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  return { rps, p50: /50%\s+(\S+)/.exec(out)?.[1] ?? "?", p99: /99%\s+(\S+)/.exec(out)?.[1] ?? "?" };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return Number(line?.split(" ").pop() ?? NaN);
}

async function apiBench(): Promise<void> {
  const log = join(dir, "api.log");
  const lines: string[] = [];
  for (let i = 0; i < MESSAGES; i++) lines.push(reportLine(routeeReport({ messageId: `m-${i}`, smsId: `s-${i}` }), new Date(Date.UTC(2024, 0, 1) + i)));
  writeFileSync(log, lines.join(""));
  writeFileSync(LUA_GET, `math.randomseed(7)\nrequest = function() return wrk.format("GET", "/v1/messages/m-" .. math.random(0, ${MESSAGES - 1})) end\n`);
  // The view starts at the log's start when it has no file yet: wait until it has every message.
  const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--log", log, "--api-port", "0", "--metrics-port", "0"]);
  const api = /read API at (http:\/\/[^/]+)/.exec(server.stderr())![1]!;
  const metrics = /metrics at (http:\S+)/.exec(server.stderr())![1]!;
  const started = performance.now();
  while ((await metric(metrics, "sms_status_view_applied_total")) < MESSAGES) await Bun.sleep(100);
  console.log(`view: ${MESSAGES} reports applied from the log in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const result = await wrk(api, LUA_GET, SECONDS);
  console.log(`GET /v1/messages/{id} on SQLite (${MESSAGES} messages): ${Math.round(result.rps)} req/s, p50 ${result.p50}, p99 ${result.p99} (target 20,000 req/s)`);
  server.proc.kill("SIGTERM");
  await server.proc.exited;
}

/**
 * Forwarding at full rate, side by side: the same wrk flood on `--no-db` without forwarding (the
 * rate to keep up with), forwarding each entry as its own webhook, and `--forward-batch 100`. The
 * receiver is an application's: it verifies each signature with `standardwebhooks` and parses the body.
 */
async function forwardBench(): Promise<void> {
  const key = "whsec_" + Buffer.from("bench-forwarding-key-0123456789abcdef").toString("base64");
  const secret = join(dir, "secret");
  writeFileSync(secret, key);
  const webhook = new Webhook(key);
  let received = 0;
  let requests = 0;
  let lastAt = 0;
  const app = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const payload = webhook.verify(await request.text(), Object.fromEntries(request.headers)) as { type: string; data: unknown[] };
      received += payload.type === "sms_status.batch" ? payload.data.length : 1;
      requests += 1;
      lastAt = performance.now();
      return new Response(null, { status: 204 });
    },
  });
  const targets: [name: string, flags: string[]][] = [
    ["no forwarding", []],
    ["each entry a webhook", ["--forward", `http://127.0.0.1:${app.port}/hooks`, "--forward-secret-file", secret]],
    ["--forward-batch 100", ["--forward", `http://127.0.0.1:${app.port}/hooks`, "--forward-secret-file", secret, "--forward-batch", "100"]],
  ];
  for (const [name, flags] of targets) {
    received = 0;
    requests = 0;
    const log = join(dir, `forward-${targets.findIndex(([n]) => n === name)}.log`);
    const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--log", log, "--no-db", "--metrics-port", "0", ...flags]);
    const metrics = /metrics at (http:\S+)/.exec(server.stderr())![1]!;
    // The lag while wrk runs: the age of the oldest entry read and not yet delivered, sampled.
    let worstLag = 0;
    const sampler = setInterval(async () => {
      if (flags.length > 0) worstLag = Math.max(worstLag, await metric(metrics, "sms_status_forward_lag_seconds"));
    }, 250);
    const result = await wrk(`${server.url}/sms/status`, LUA_POST, SECONDS);
    clearInterval(sampler);
    const forwardedAtStop = received;
    const stoppedAt = performance.now();
    const written = (await Bun.file(log).text()).split("\n").length - 1;
    let line = `${name}: ${Math.round(result.rps)} reports/s in (p99 ${result.p99})`;
    if (flags.length > 0) {
      const lagAtStop = await metric(metrics, "sms_status_forward_lag_seconds");
      while (received < written && performance.now() - stoppedAt < 120_000) await Bun.sleep(50);
      const drain = Math.max(0, lastAt - stoppedAt) / 1000;
      line +=
        `, ${Math.round(forwardedAtStop / SECONDS)} forwarded/s (${(forwardedAtStop / written).toFixed(2)} of those in, ${requests} webhooks); ` +
        `lag: worst ${worstLag.toFixed(2)} s during the run, ${written - forwardedAtStop} entries and ${lagAtStop.toFixed(2)} s when wrk stopped; ` +
        `${received >= written ? "all" : `${received} of`} ${written} delivered ${drain.toFixed(2)} s after it stopped`;
    }
    console.log(line);
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
  app.stop(true);
}

try {
  console.log(`${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, Bun ${Bun.version}; load ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}`);
  if (!values["forward-only"]) await apiBench();
  if (!values["api-only"]) await forwardBench();
} finally {
  killServers();
  rmSync(dir, { recursive: true, force: true });
}
