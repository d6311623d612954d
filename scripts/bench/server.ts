/**
 * `npm run bench`: the compiled `sms-status` side by side with two bare Bun.serve baselines, driven
 * by wrk on loopback with realistic Routee reports (scripts/bench/wrk.lua).
 *
 *   bun scripts/bench/server.ts [--rounds 3] [--seconds 10] [--connections 64] [--reports 1000000]
 *                        [--log-mb 1024] [--skip-memory] [--skip-startup] [--skip-postgres] [--build]
 *
 * Targets: floor (read + JSON.parse + 200), ceiling (200 without reading), sms-status (defaults:
 * jsonl, dedupe, answer after write, the SQLite view beside the log applied in its own thread),
 * sms-status --no-db (the log alone), sms-status --fsync, and sms-status --database-url on a
 * PostgreSQL started here on the same machine (answer after COMMIT; its fsync is off, as the
 * default journal's: write, no fsync), with rows per transaction from pg_stat_database. After each
 * run of the default, the view's lag when wrk stops (entries logged and not yet applied, and the
 * age of the oldest, from its /metrics) and the time it takes to catch up. Rounds alternate between targets so that
 * a slow moment of the machine is not blamed on one of them; medians are reported.
 * Then: an exact check that every acknowledged new report is in the log once, a memory run of
 * `--reports` reports, and the start-up time with an existing log of `--log-mb` MiB.
 * wrk runs with one thread: on 2 cores the server takes one and wrk the other (-t2 makes them
 * fight: measured 92k vs 127k req/s on the ceiling, p99 10.6 ms vs 0.7 ms).
 * Exits 1 if an entry was lost or written twice or a request failed; 2 if wrk is missing.
 */
import { spawn, spawnSync, which, type Subprocess } from "bun";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, openSync, writeSync, closeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { reportLine, routeeReport, routeeStatus } from "../lib/samples.ts";
import { spawnServer } from "../lib/startup.ts";
import { SQL } from "bun";
import { startPostgres, type Postgres } from "../../tests/helpers/postgres.ts";
import { positiveFlag } from "../lib/flags.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BINARY = join(ROOT, "dist/sms-status");
const LUA = join(ROOT, "scripts/bench/wrk.lua");
const BASELINE = join(ROOT, "scripts/bench/baseline.ts");
/** Longest any one step may wait for a child to come up or a run to finish. */
const START_TIMEOUT_MS = 10_000;
const MEMORY_RUN_MAX_S = 300;
/** The statuses the Bun-generated reports cycle through. */
const STATUSES = ["Queued", "Sent", "Delivered", "Undelivered", "Failed", "Unsent"];

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    reports: { type: "string", default: "1000000" },
    "log-mb": { type: "string", default: "1024" },
    "skip-memory": { type: "boolean", default: false },
    "skip-startup": { type: "boolean", default: false },
    "skip-postgres": { type: "boolean", default: false },
    build: { type: "boolean", default: false },
  },
});
const positive = (name: keyof typeof opts, max: number) => positiveFlag("bench", opts, name, max);
const ROUNDS = positive("rounds", 20);
const SECONDS = positive("seconds", 120);
const CONNECTIONS = positive("connections", 1024);
const REPORTS = positive("reports", 10_000_000);
const LOG_MB = positive("log-mb", 8192);

// ---- children and clean-up -------------------------------------------------------------------

const children = new Set<Subprocess>();
const tmp = mkdtempSync(join(tmpdir(), "sms-status-bench-"));
function cleanUp(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  rmSync(tmp, { recursive: true, force: true });
}
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => process.exit(130));

interface Server {
  name: string;
  proc: Subprocess;
  port: number;
  log?: string;
  /** The database it writes to (no log file). */
  database?: string;
  /** Its metrics listener (started with --metrics-port 0), when it has one. */
  metricsPort?: number;
}

/** Reads a child's stream until `pattern` matches; returns the first group. */
async function waitFor(stream: ReadableStream<Uint8Array>, pattern: RegExp, what: string): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = setTimeout(() => reader.cancel(), START_TIMEOUT_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${what} did not start: ${text.trim() || "no output"}`);
      text += decoder.decode(value, { stream: true });
      const match = pattern.exec(text);
      if (match) return match[1]!;
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}

async function startBaseline(mode: "floor" | "ceiling"): Promise<Server> {
  const proc = spawn([process.execPath, BASELINE, mode], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  children.add(proc);
  const port = Number(await waitFor(proc.stdout, /^(\d+)\s/, mode));
  return { name: mode, proc, port };
}

async function startServer(name: string, log: string | null, flags: string[] = []): Promise<Server> {
  const where = log === null ? [] : ["--log", log];
  const { proc, port, stderr } = await spawnServer(["--host", "127.0.0.1", "--port", "0", ...where, ...flags], {
    command: [BINARY],
    cwd: tmp,
    timeoutMs: START_TIMEOUT_MS,
  }).catch((error: Error) => {
    throw new Error(`${name} did not start: ${error.message}`);
  });
  children.add(proc);
  const metrics = /metrics at http:\/\/[^\s]*:(\d+)\/metrics/.exec(stderr());
  return { name, proc, port, log: log ?? undefined, metricsPort: metrics ? Number(metrics[1]) : undefined };
}

/** Graceful stop (SIGTERM), so every write in flight is in the log before it is counted. */
async function stop(server: Server): Promise<void> {
  server.proc.kill("SIGTERM");
  const timer = setTimeout(() => server.proc.kill("SIGKILL"), START_TIMEOUT_MS);
  await server.proc.exited;
  clearTimeout(timer);
  children.delete(server.proc);
}

/** Peak resident set size in MB (the kernel's high-water mark for the process). */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

// ---- wrk -------------------------------------------------------------------------------------

interface WrkResult {
  requests: number;
  duration_us: number;
  sent: number;
  dups: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  err_connect: number;
  err_read: number;
  err_write: number;
  err_status: number;
  err_timeout: number;
}

/** One wrk run of `seconds`, or until `quota` answers (then ended with SIGINT, which still prints). */
async function wrk(server: Server, tag: string, seconds: number, quota?: number): Promise<WrkResult> {
  const marker = join(tmp, `${tag}.done`);
  const args = ["wrk", `-c${CONNECTIONS}`, "-t1", `-d${seconds}s`, "--timeout", "5s", "-s", LUA];
  args.push(`http://127.0.0.1:${server.port}/sms/status`, "--", tag, ...(quota ? [String(quota), marker] : []));
  const proc = spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  children.add(proc);
  if (quota) {
    const poll = setInterval(() => existsSync(marker) && proc.kill("SIGINT"), 100);
    proc.exited.then(() => clearInterval(poll));
  }
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  children.delete(proc);
  const line = out.split("\n").find((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`wrk printed no result for ${server.name}: ${err.trim() || out.trim()}`);
  return JSON.parse(line.slice(6)) as WrkResult;
}

const rps = (r: WrkResult) => r.requests / (r.duration_us / 1e6);
const errors = (r: WrkResult) => r.err_connect + r.err_read + r.err_write + r.err_status + r.err_timeout;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

// ---- the SQLite view's lag --------------------------------------------------------------------

/** Reports logged, entries the view applied, and its lag in seconds, from the server's /metrics. */
async function viewFigures(server: Server): Promise<{ logged: number; applied: number; lagSeconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const sum = (name: string) =>
    text.split("\n").filter((l) => l.startsWith(name + " ") || l.startsWith(name + "{")).reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
  return { logged: sum("sms_status_reports_total"), applied: sum("sms_status_view_applied_total"), lagSeconds: sum("sms_status_view_lag_seconds") };
}

interface ViewLag {
  /** Entries logged and not yet in the view when wrk stopped. */
  entries: number;
  /** The age of the oldest of them then. */
  seconds: number;
  /** From wrk's end until the view held every entry (its stats are sent every 200 ms). */
  catchUpSeconds: number;
}

/** The view's lag at once, then how long it takes to hold every entry logged (at most a minute). */
async function viewLag(server: Server): Promise<ViewLag> {
  const t0 = performance.now();
  const first = await viewFigures(server);
  let now = first;
  while (now.applied < now.logged && performance.now() - t0 < 60_000) {
    await Bun.sleep(50);
    now = await viewFigures(server);
  }
  const catchUpSeconds = now.applied < now.logged ? Infinity : (performance.now() - t0) / 1000;
  return { entries: first.logged - first.applied, seconds: first.lagSeconds, catchUpSeconds };
}

// ---- log checks ------------------------------------------------------------------------------

interface LogCount {
  lines: number;
  keys: Set<string>;
  /** Entries whose report was already in the log: a duplicate written twice. */
  twice: number;
}

/** Reads a JSONL log line by line (it can be a gigabyte) and collects the report keys. */
async function countLog(path: string): Promise<LogCount> {
  const result: LogCount = { lines: 0, keys: new Set(), twice: 0 };
  const decoder = new TextDecoder();
  let rest = "";
  const take = (line: string) => {
    if (line === "") return;
    result.lines += 1;
    const entry = JSON.parse(line) as { smsId: string; status: string; updatedDate: string };
    const key = `${entry.smsId} ${entry.status} ${entry.updatedDate}`;
    if (result.keys.has(key)) result.twice += 1;
    else result.keys.add(key);
  };
  for await (const chunk of Bun.file(path).stream()) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const line of lines) take(line);
  }
  take(rest + decoder.decode());
  return result;
}

let failures = 0;
function check(ok: boolean, message: string): void {
  if (!ok) failures += 1;
  console.log(`  ${ok ? "ok" : "FAIL"}: ${message}`);
}

/**
 * After wrk stops, up to one request per connection was sent but not answered; the server may or
 * may not have written it. So the log must hold at least every answered new report (answered minus
 * every retry sent) and at most every new report sent, each exactly once.
 */
async function checkWrkLog(server: Server, runs: WrkResult[]): Promise<number> {
  const log = await countLog(server.log!);
  const atLeast = runs.reduce((n, r) => n + r.requests - r.dups, 0);
  const atMost = runs.reduce((n, r) => n + r.sent - r.dups, 0);
  const failed = runs.reduce((n, r) => n + errors(r), 0);
  check(failed === 0, `${server.name}: ${failed} failed requests (non-2xx, socket errors, time-outs)`);
  check(log.twice === 0, `${server.name}: ${log.twice} reports written twice`);
  check(
    log.lines >= atLeast && log.lines <= atMost,
    `${server.name}: ${log.lines} entries; answered new reports ${atLeast}, sent ${atMost}`,
  );
  return log.lines;
}

/**
 * The exact check: a Bun client sends `count` reports over 64 connections, every 20th a retry of
 * the one before, and remembers each answer. The log must hold exactly the reports answered as new.
 */
async function exactCheck(name: string, flags: string[], count: number): Promise<void> {
  const server = await startServer(name, join(tmp, `exact${flags.join("")}.log`), flags);
  const url = `http://127.0.0.1:${server.port}/sms/status`;
  const acked = new Set<string>();
  let retries = 0;
  let retriesAnsweredDuplicate = 0;
  let bad = 0;
  let next = 0;
  async function worker(w: number) {
    let previous: string | null = null;
    for (let i = next++; i < count; i = next++) {
      const retry: boolean = previous !== null && i % 20 === 19;
      const status = STATUSES[i % STATUSES.length]!;
      const body: string = retry
        ? previous!
        : JSON.stringify(routeeReport({ messageId: `x-${i}`, smsId: `x-${i}-1`,
            status: routeeStatus(status, `2019-07-05T10:28:${String(w % 60).padStart(2, "0")}Z`) }));
      const response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
      const answer = (await response.json()) as { ok?: boolean; duplicate?: boolean };
      if (response.status !== 200 || answer.ok !== true) bad += 1;
      else if (retry) {
        retries += 1;
        if (answer.duplicate) retriesAnsweredDuplicate += 1;
      } else {
        const sent = JSON.parse(body);
        acked.add(`${sent.smsId} ${sent.status.name} ${sent.status.updatedDate}`);
      }
      previous = body;
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  await stop(server);
  const log = await countLog(server.log!);
  const missing = [...acked].filter((k) => !log.keys.has(k)).length;
  console.log(`${name}: ${count} reports, ${retries} retries`);
  check(bad === 0, `${name}: ${bad} answers other than 200 ok`);
  check(missing === 0 && log.lines === acked.size && log.twice === 0,
    `${name}: ${acked.size} answered new, ${log.lines} entries, ${missing} missing, ${log.twice} written twice`);
  check(retriesAnsweredDuplicate === retries, `${name}: ${retriesAnsweredDuplicate}/${retries} retries answered as duplicates`);
}

// ---- PostgreSQL -----------------------------------------------------------------------------

/** Transactions committed and report rows in the bench's database. */
async function databaseCounts(url: string): Promise<{ commits: number; rows: number }> {
  const sql = new SQL(url, { max: 1 });
  try {
    const [{ commits }] = await sql`SELECT xact_commit::float8 AS commits FROM pg_stat_database WHERE datname = current_database()`;
    const [{ rows }] = await sql`SELECT count(*)::float8 AS rows FROM sms_status_reports`;
    return { commits, rows };
  } finally {
    await sql.close();
  }
}

/** As checkWrkLog, on the rows (the unique key makes a report stored twice impossible: counted anyway). */
async function checkWrkRows(server: Server, runs: WrkResult[]): Promise<void> {
  const sql = new SQL(server.database!, { max: 1 });
  const [{ rows, keys }] = await sql`SELECT count(*)::float8 AS rows,
    count(DISTINCT (sms_id, status, updated_date))::float8 AS keys FROM sms_status_reports`;
  await sql.close();
  const atLeast = runs.reduce((n, r) => n + r.requests - r.dups, 0);
  const atMost = runs.reduce((n, r) => n + r.sent - r.dups, 0);
  const failed = runs.reduce((n, r) => n + errors(r), 0);
  check(failed === 0, `${server.name}: ${failed} failed requests (non-2xx, socket errors, time-outs)`);
  check(rows === keys, `${server.name}: ${rows - keys} reports stored twice`);
  check(rows >= atLeast && rows <= atMost, `${server.name}: ${rows} rows; answered new reports ${atLeast}, sent ${atMost}`);
}

// ---- start-up with a large log ---------------------------------------------------------------

/** Writes `mb` MiB of realistic entries (recent, so duplicate detection recovers their keys). */
function writeBigLog(path: string, mb: number): void {
  const now = Date.now();
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 1 << 20; i++) {
    const status = STATUSES[i % STATUSES.length]!;
    const report = routeeReport({ messageId: `big-#C#-${i}`, smsId: `big-#C#-${i}-1`, status: routeeStatus(status, "2019-07-05T10:28:49Z") });
    const line = reportLine(report, new Date(now - 3600_000));
    lines.push(line);
    size += line.length;
  }
  const chunk = lines.join("");
  const fd = openSync(path, "w");
  try {
    for (let c = 0; c < mb; c++) writeSync(fd, chunk.replaceAll("#C#", String(c)));
  } finally {
    closeSync(fd);
  }
}

async function startUp(log: string): Promise<{ listeningMs: number; readyMs: number; rssMb: number }> {
  const t0 = performance.now();
  const server = await startServer("start-up", log);
  const listeningMs = performance.now() - t0;
  const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  const readyMs = performance.now() - t0;
  if (health.status !== 200) throw new Error(`health check answered ${health.status}`);
  const rssMb = peakRssMb(server.proc.pid);
  await stop(server);
  return { listeningMs, readyMs, rssMb };
}

// ---- main ------------------------------------------------------------------------------------

function ensureBinary(): void {
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs));
  if (!opts.build && existsSync(BINARY) && statSync(BINARY).mtimeMs > newest(join(ROOT, "src"))) return;
  console.log("building dist/sms-status ...");
  const built = spawnSync([process.execPath, join(ROOT, "scripts/build/binary.ts"), BINARY], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (built.exitCode !== 0) process.exit(1);
}

function machine(): string {
  const wrkVersion = spawnSync(["wrk", "-v"]).stdout.toString().split("\n")[0]?.split(" [")[0] ?? "wrk";
  return `${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, Bun ${Bun.version}, ${wrkVersion}`;
}

const ms = (us: number) => (us / 1000).toFixed(2);

async function main(): Promise<void> {
  if (!which("wrk")) {
    console.error("bench: wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk");
    process.exit(2);
  }
  ensureBinary();
  console.log(`machine: ${machine()}`);
  console.log(`wrk -c${CONNECTIONS} -t1, ${ROUNDS} rounds x ${SECONDS} s per target, round-robin\n`);

  let pg: Postgres | null = null;
  if (!opts["skip-postgres"]) {
    const why: { reason?: string } = {};
    pg = await startPostgres(why);
    if (!pg) console.log(`PostgreSQL target skipped: ${why.reason}\n`);
  }
  const servers = [
    await startBaseline("floor"),
    await startBaseline("ceiling"),
    await startServer("sms-status", join(tmp, "default.log"), ["--metrics-port", "0"]),
    await startServer("sms-status --no-db", join(tmp, "nodb.log"), ["--no-db"]),
    await startServer("sms-status --fsync", join(tmp, "fsync.log"), ["--fsync"]),
  ];
  let postgres: Server | null = null;
  if (pg) {
    const database = await pg.createDatabase("bench");
    postgres = { ...(await startServer("sms-status postgres", null, ["--database-url", database])), database };
    servers.push(postgres);
  }
  const runs = new Map<string, WrkResult[]>(servers.map((s) => [s.name, []]));
  const perTransaction: number[] = [];
  const lags: ViewLag[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const server of servers) {
      const before = server.database ? await databaseCounts(server.database) : null;
      const result = await wrk(server, `r${round}`, SECONDS);
      runs.get(server.name)!.push(result);
      let extra = "";
      if (before) {
        await Bun.sleep(1000); // PostgreSQL publishes its counters about once a second
        const after = await databaseCounts(server.database!);
        perTransaction.push((after.rows - before.rows) / Math.max(1, after.commits - before.commits));
        extra = `  rows/transaction ${perTransaction.at(-1)!.toFixed(1)}`;
      }
      if (server.metricsPort) {
        const lag = await viewLag(server);
        lags.push(lag);
        extra += `  view lag ${lag.entries} entries, ${lag.seconds.toFixed(2)} s; caught up in ${lag.catchUpSeconds.toFixed(2)} s`;
      }
      console.log(`round ${round} ${server.name.padEnd(19)} ${rps(result).toFixed(0).padStart(7)} req/s  ` +
        `p50 ${ms(result.p50_us)} ms  p99 ${ms(result.p99_us)} ms  errors ${errors(result)}${extra}`);
    }
  }
  const summary = servers.map((s) => {
    const rs = runs.get(s.name)!;
    return { name: s.name, rps: median(rs.map(rps)), p50: median(rs.map((r) => r.p50_us)),
      p99: median(rs.map((r) => r.p99_us)), rss: peakRssMb(s.proc.pid) };
  });
  console.log(`load average: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  console.log(`\n${"target".padEnd(20)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"peak RSS MB".padStart(13)}`);
  for (const s of summary)
    console.log(`${s.name.padEnd(20)}${s.rps.toFixed(0).padStart(9)}${ms(s.p50).padStart(9)}${ms(s.p99).padStart(9)}${s.rss.toFixed(1).padStart(13)}`);
  const [floor, ceiling, server, noDb, fsync] = summary as [typeof summary[0], typeof summary[0], typeof summary[0], typeof summary[0], typeof summary[0]];
  console.log(`\nsms-status / floor   ${(server.rps / floor.rps).toFixed(2)}  (the default, with the SQLite view; p99 ${ms(server.p99)} ms = ${(server.p99 / floor.p99).toFixed(1)} x the floor's)`);
  console.log(`--no-db / floor      ${(noDb.rps / floor.rps).toFixed(2)}  (target >= 0.8; p99 target <= 2 ms: ${ms(noDb.p99)} ms)`);
  console.log(`sms-status / --no-db ${(server.rps / noDb.rps).toFixed(2)}  (what the view costs the receiver)`);
  console.log(`sms-status / ceiling ${(server.rps / ceiling.rps).toFixed(2)}`);
  const worst = lags.reduce((w, l) => (l.seconds > w.seconds ? l : w), lags[0]!);
  console.log(`view lag when wrk stops: median ${median(lags.map((l) => l.entries)).toFixed(0)} entries, ${median(lags.map((l) => l.seconds)).toFixed(2)} s ` +
    `(worst ${worst.entries} entries, ${worst.seconds.toFixed(2)} s; target < 1 s); caught up in ${median(lags.map((l) => l.catchUpSeconds)).toFixed(2)} s (median)`);
  console.log(`--fsync / floor      ${(fsync.rps / floor.rps).toFixed(2)}  (target >= 0.3)`);
  const pgSummary = summary.find((s) => s.name === postgres?.name);
  if (pgSummary)
    console.log(`postgres / floor     ${(pgSummary.rps / floor.rps).toFixed(2)}  (target >= 0.25; p99 target <= 25 ms: ${ms(pgSummary.p99)} ms; ` +
      `rows per transaction ${median(perTransaction).toFixed(1)})`);
  console.log("");

  console.log("log checks (wrk rounds):");
  for (const s of servers.slice(2)) {
    await stop(s);
    if (s.database) await checkWrkRows(s, runs.get(s.name)!);
    else await checkWrkLog(s, runs.get(s.name)!);
  }
  await pg?.stop();
  for (const s of servers.slice(0, 2)) await stop(s);

  console.log("\nexact check (Bun client, every answer kept):");
  await exactCheck("sms-status", [], 20_000);
  await exactCheck("sms-status --fsync", ["--fsync"], 10_000);

  if (!opts["skip-memory"]) {
    console.log(`\nmemory run: ${REPORTS} reports`);
    const s = await startServer("sms-status", join(tmp, "memory.log"));
    const t0 = performance.now();
    const result = await wrk(s, "mem", MEMORY_RUN_MAX_S, REPORTS);
    const seconds = (performance.now() - t0) / 1000;
    const rss = peakRssMb(s.proc.pid);
    await stop(s);
    console.log(`  ${result.requests} reports in ${seconds.toFixed(1)} s, peak RSS ${rss.toFixed(1)} MB (target <= 100)`);
    check(result.requests >= REPORTS, `${result.requests} of ${REPORTS} reports answered within ${MEMORY_RUN_MAX_S} s`);
    await checkWrkLog(s, [result]);
    rmSync(s.log!, { force: true });
  }

  if (!opts["skip-startup"]) {
    console.log(`\nstart-up with an existing ${LOG_MB} MiB log:`);
    const empty = await startUp(join(tmp, "empty.log"));
    const big = join(tmp, "big.log");
    const t0 = performance.now();
    writeBigLog(big, LOG_MB);
    console.log(`  (wrote ${(statSync(big).size / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const full = await startUp(big);
    for (const [label, r] of [["empty log", empty], [`${LOG_MB} MiB log`, full]] as const)
      console.log(`  ${label.padEnd(14)} listening after ${r.listeningMs.toFixed(0)} ms, first answer after ${r.readyMs.toFixed(0)} ms, peak RSS ${r.rssMb.toFixed(1)} MB`);
    check(full.readyMs < 1000, `start-up with a ${LOG_MB} MiB log under 1 s`);
  }

  console.log(failures === 0 ? "\nbench: all checks passed" : `\nbench: ${failures} check(s) FAILED`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
