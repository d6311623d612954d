#!/usr/bin/env bun
/**
 * Crash test: proves that `kill -9` at any moment cannot lose an acknowledged report or damage the
 * log. Concurrent loops POST unique, realistic Routee reports (multipart messages, every status)
 * to a real server on a loopback port; the server is killed with SIGKILL at a random moment,
 * restarted on the same log, and so on for every round. Reports that got no 200 are retried in
 * the next round, as Routee would. Checked:
 *
 *  (a) every report that was answered 200 is in the log (smsId + status + updatedDate), already at
 *      the kill that followed the answer, and again at the end;
 *  (b) no byte written before a kill changes afterwards: the file at each kill starts with exactly
 *      the bytes it had at the kill before (a torn last line only gets a newline appended);
 *  (c) the log parses line by line: every line is a JSON entry, except torn lines, which must end
 *      exactly where the file ended at a kill and be followed by a line break (a kill -9 rarely
 *      cuts a write to a local file, so after every second kill the test itself leaves the first
 *      part of an entry at the end, as a power loss would, for the restart to repair);
 *  (d) no report is written more often than its retries can explain;
 *  and duplicate recovery across a restart: after each restart, reports acknowledged before it are
 *  sent again and must be answered 200 with `duplicate: true` without the log growing.
 *
 *   bun scripts/checks/crash-test.ts [--rounds N] [--seconds S] [--concurrency C] [--resend N] [--fsync]
 *                             [--binary dist/sms-status] [--seed N] [--keep]
 *
 * Without `--binary` the server is `bun src/cli.ts` from this checkout (so the test always runs the
 * code beside it, never a stale build); CI passes `--binary dist/sms-status` after `npm run build`.
 * Everything runs on 127.0.0.1 with ports the kernel picks, in a temporary directory removed at the
 * end (`--keep` keeps it to look at). Ends with `crash-test: N passed, N failed`.
 * Exit codes: 0 every check passed, 1 a check failed, 2 bad usage.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { RECOVERY_TAIL_BYTES } from "../../src/store/file-recent.ts";

const USAGE =
  "usage: bun scripts/checks/crash-test.ts [--rounds N] [--seconds S] [--concurrency C] [--resend N] [--fsync]\n" +
  "                                 [--binary PATH] [--seed N] [--keep]\n";

/** How long the server may take to print where it listens. */
const START_TIMEOUT_MS = 15_000;
/** No single request may hang a round. */
const REQUEST_TIMEOUT_MS = 5_000;
/** How long a graceful SIGTERM stop may take at the end. */
const STOP_TIMEOUT_MS = 10_000;
/** A hard cap on requests per round, whatever the machine's speed (bounded load). */
const MAX_REQUESTS_PER_ROUND = 100_000;

interface Options {
  rounds: number;
  seconds: number;
  concurrency: number;
  resend: number;
  fsync: boolean;
  binary: string | null;
  seed: number;
  keep: boolean;
}

function usage(message: string): never {
  process.stderr.write(`crash-test: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        rounds: { type: "string" },
        seconds: { type: "string" },
        concurrency: { type: "string" },
        resend: { type: "string" },
        fsync: { type: "boolean" },
        binary: { type: "string" },
        seed: { type: "string" },
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    usage((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) usage(`--${name} must be from ${min} to ${max}`);
    return n;
  };
  const binary = values.binary === undefined ? null : resolve(values.binary);
  if (binary !== null && !existsSync(binary)) usage(`--binary ${values.binary}: no such file (run npm run build)`);
  return {
    rounds: Math.round(number("rounds", values.rounds, 5, 1, 100)),
    seconds: number("seconds", values.seconds, 2, 0.2, 30),
    concurrency: Math.round(number("concurrency", values.concurrency, 16, 1, 256)),
    resend: Math.round(number("resend", values.resend, 25, 0, 1000)),
    fsync: values.fsync ?? false,
    binary,
    seed: Math.round(number("seed", values.seed, Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31)),
    keep: values.keep ?? false,
  };
}

/** mulberry32: a seeded generator, so a failing run's kill moments and statuses can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// The reports

/** What the crash test knows about one report it sent. */
interface SentReport {
  key: string;
  body: string;
  attempts: number;
  acked: boolean;
  resent: boolean;
}

/** The identity the log is matched by: smsId + status name + updatedDate. */
function reportKey(smsId: unknown, status: unknown, updatedDate: unknown): string {
  return `${String(smsId)}|${String(status)}|${String(updatedDate)}`;
}

/** Routee's final statuses, and the detailed status and description it sends with each. */
const FINAL_STATUSES: [name: string, detailed: string, description: string][] = [
  ["Delivered", "Delivered", "The message was delivered"],
  ["Undelivered", "Undeliverable", "The message could not be delivered to the handset"],
  ["Failed", "Failed", "The message failed to be sent"],
  ["Unsent", "Unsent", "The message was not sent (insufficient balance)"],
  ["Expired", "Expired", "The validity period expired before delivery"],
  ["Rejected", "Rejected", "The operator rejected the message"],
];
const MESSAGES = [
  "Your code is 4812",
  "Γεια σας! Η παραγγελία σας #1093 στάλθηκε 📦",
  'He said "hello"\nand left\ta tab',
  "Line\u2028separator and \u2029paragraph separator",
  "x".repeat(459),
];
const OPERATORS: [country: string, operator: string, to: string][] = [
  ["GR", "Cosmote", "+30694"],
  ["GR", "Vodafone", "+30697"],
  ["GB", "EE", "+44774"],
  ["DE", "Telekom", "+49151"],
];

/** Yields reports in the order Routee sends them: per part Queued, Sent, then a final status. */
function* reportStream(random: () => number): Generator<SentReport> {
  let clock = Date.UTC(2024, 4, 1, 9, 0, 0);
  for (let n = 0; ; n++) {
    const messageId = randomUUID();
    const parts = random() < 0.4 ? 2 + Math.floor(random() * 3) : 1;
    const [country, operator, prefix] = OPERATORS[n % OPERATORS.length]!;
    const to = `${prefix}${String(1_000_000 + Math.floor(random() * 8_999_999))}`;
    const message = MESSAGES[n % MESSAGES.length]!;
    const smsIds = Array.from({ length: parts }, () => randomUUID());
    const final = FINAL_STATUSES[Math.floor(random() * FINAL_STATUSES.length)]!;
    const steps: [string, string, string][] =
      final[0] === "Unsent"
        ? [["Queued", "Queued", "The message is queued"], final]
        : [["Queued", "Queued", "The message is queued"], ["Sent", "Sent", "The message was sent to the operator"], final];
    for (const [name, detailedStatus, description] of steps) {
      clock += 1000 + Math.floor(random() * 5000);
      for (let part = 1; part <= parts; part++) {
        const updatedDate = new Date(clock + part).toISOString().replace(/\.\d+Z$/, "Z");
        const smsId = smsIds[part - 1]!;
        const body = {
          messageId,
          smsId,
          campaignTrackingId: null,
          part,
          parts,
          label: n % 3 === 0 ? "otp" : null,
          to,
          from: "Routee",
          country,
          operator,
          groups: [],
          campaignName: null,
          status: { name, reason: { detailedStatus, description }, updatedDate },
          message,
          applicationName: "default",
          latency: name === "Queued" ? 0 : 1 + Math.floor(random() * 30),
          // Routee sends numbers; its docs also show strings.
          price: n % 5 === 0 ? "0.0360" : 0.036,
          direction: "Outbound",
          originatingService: "Sms",
        };
        yield { key: reportKey(smsId, name, updatedDate), body: JSON.stringify(body), attempts: 0, acked: false, resent: false };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The server under test

interface Server {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  /** What the server printed on stderr (for failure messages). */
  stderr(): string;
}

const children = new Set<ReturnType<typeof Bun.spawn>>();

async function startServer(options: Options, dir: string, log: string): Promise<Server> {
  const command = options.binary ? [options.binary] : [process.execPath, resolve(import.meta.dir, "../../src/cli.ts")];
  const args = ["--port", "0", "--host", "127.0.0.1", "--log", log, ...(options.fsync ? ["--fsync"] : [])];
  const proc = Bun.spawn([...command, ...args], {
    cwd: dir,
    // Only PATH: no SMS_STATUS_* variable of the caller may change the server under test.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
  let text = "";
  let port = 0;
  const listening = Promise.withResolvers<void>();
  // Drain stderr for the server's whole life, so a full pipe can never block it.
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const match = port === 0 ? text.match(/listening on \S+:(\d+)/) : null;
      if (match) {
        port = Number(match[1]);
        listening.resolve();
      }
      if (text.length > 20_000) text = text.slice(-10_000);
    }
  })();
  const failure = await Promise.race([
    listening.promise.then(() => null),
    drained.then(async () => `the server exited before listening (exit ${await proc.exited})`),
    Bun.sleep(START_TIMEOUT_MS).then(() => `no start-up line within ${START_TIMEOUT_MS} ms`),
  ]);
  if (failure !== null) {
    proc.kill("SIGKILL");
    throw new Error(`${failure}; stderr: ${text.trim() || "(empty)"}`);
  }
  return { proc, url: `http://127.0.0.1:${port}`, stderr: () => text };
}

async function post(url: string, body: string): Promise<Response> {
  return fetch(`${url}/sms/status`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading the log

/**
 * Follows the log from kill to kill: checks that the bytes seen at the last kill are still there,
 * and parses each complete line once.
 */
class LogFollower {
  /** Entries per report key. */
  readonly counts = new Map<string, number>();
  /** Where each key's first entry starts (to know what the restart's duplicate recovery reads). */
  readonly offsets = new Map<string, number>();
  /** File sizes at the kills: the only places a torn line may end. */
  readonly killPoints = new Set<number>();
  lines = 0;
  torn = 0;
  readonly problems: string[] = [];
  #snapshot: Buffer = Buffer.alloc(0);
  #parsedUpTo = 0;

  constructor(private readonly path: string) {}

  /** Reads the file; returns the problems with the bytes kept since the last snapshot. */
  read(): { bytes: Buffer; changed: string | null } {
    const bytes = existsSync(this.path) ? readFileSync(this.path) : Buffer.alloc(0);
    const before = this.#snapshot;
    let changed: string | null = null;
    if (bytes.length < before.length) changed = `the log shrank from ${before.length} to ${bytes.length} bytes`;
    else if (!bytes.subarray(0, before.length).equals(before)) {
      let at = 0;
      while (bytes[at] === before[at]) at++;
      changed = `byte ${at} changed after a kill (the log had ${before.length} bytes then)`;
    } else if (before.length > 0 && before[before.length - 1] !== 0x0a && bytes[before.length] !== 0x0a)
      changed = `the torn line ending at byte ${before.length} was not followed by a line break after the restart`;
    this.#parse(bytes);
    return { bytes, changed };
  }

  /** Remembers the file as it is now (at a kill, or after a restart repaired it). */
  snapshot(bytes: Buffer, atKill: boolean): void {
    this.#snapshot = bytes;
    if (atKill) this.killPoints.add(bytes.length);
  }

  /** Bytes after the last line break, i.e. a line not (yet) ended. */
  get unterminated(): number {
    return this.#snapshot.length - this.#parsedUpTo;
  }

  #parse(bytes: Buffer): void {
    let start = this.#parsedUpTo;
    for (let end = bytes.indexOf(0x0a, start); end >= 0; end = bytes.indexOf(0x0a, start)) {
      this.#line(bytes.subarray(start, end).toString("utf8"), start, end);
      start = end + 1;
    }
    this.#parsedUpTo = start;
  }

  #line(text: string, start: number, end: number): void {
    this.lines++;
    let entry: Record<string, unknown> | null = null;
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) entry = value as Record<string, unknown>;
    } catch {}
    if (entry === null) {
      // A kill can cut a write; the restart then ends that line. Anywhere else it is damage.
      if (this.killPoints.has(end) && text.startsWith("{")) this.torn++;
      else this.problems.push(`line at byte ${start} is not a JSON entry: ${JSON.stringify(text.slice(0, 80))}`);
      return;
    }
    if (entry.kind !== "dlr" || entry.provider !== "routee") {
      this.problems.push(`line at byte ${start} is an unexpected ${String(entry.kind)} entry`);
      return;
    }
    const key = reportKey(entry.smsId, entry.status, entry.updatedDate);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (!this.offsets.has(key)) this.offsets.set(key, start);
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface RoundFigures {
  round: number;
  killedAfterMs: number;
  acked: number;
  duplicateAnswers: number;
  interrupted: number;
  logBytes: number;
  tornTail: boolean;
}

class Checks {
  readonly #failures = new Map<string, string[]>();
  readonly #names: string[] = [];

  /** Declares a check; it passes unless `fail` is called for it. */
  declare(name: string): void {
    this.#names.push(name);
    this.#failures.set(name, []);
  }

  fail(name: string, detail: string): void {
    const list = this.#failures.get(name);
    if (!list) throw new Error(`unknown check ${name}`);
    if (list.includes(detail)) return;
    if (list.length < 5) list.push(detail);
    else if (list.length === 5) list.push("...");
  }

  failed(): number {
    return this.#names.filter((n) => this.#failures.get(n)!.length > 0).length;
  }

  print(): void {
    for (const name of this.#names) {
      const failures = this.#failures.get(name)!;
      console.log(`${failures.length === 0 ? "ok" : "FAIL"}: ${name}`);
      for (const detail of failures) console.log(`    ${detail}`);
    }
    console.log(`crash-test: ${this.#names.length - this.failed()} passed, ${this.failed()} failed`);
  }
}

const CHECK = {
  started: "the server starts on the same log after every kill",
  load: "every round acknowledged reports before its kill",
  answers: "every answer under load was 200 or 503",
  ackedAtKill: "(a) every report answered 200 is in the log at the next kill",
  ackedAtEnd: "(a) every report answered 200 is in the final log",
  prefix: "(b) no byte written before a kill changed afterwards",
  lines: "(c) every line is a JSON entry, except torn lines at kill points followed by a line break",
  duplicates: "(d) no report is written more often than its retries explain",
  resendAnswers: "acknowledged reports sent again after a restart answer 200 duplicate:true",
  resendWrites: "reports sent again after a restart are not written again",
  stop: "the last server stops with SIGTERM and exit code 0",
} as const;

async function run(options: Options, dir: string): Promise<number> {
  const random = seededRandom(options.seed);
  const log = join(dir, "logs", "status.log");
  const reports = reportStream(random);
  const sent = new Map<string, SentReport>();
  const retries: SentReport[] = [];
  const follower = new LogFollower(log);
  const checks = new Checks();
  for (const name of Object.values(CHECK)) checks.declare(name);
  const figures: RoundFigures[] = [];
  let resent = 0;
  let simulatedTears = 0;
  let unexpectedAnswers = 0;

  const nextReport = (): SentReport => {
    const retry = retries.pop();
    if (retry) return retry;
    const report = reports.next().value as SentReport;
    sent.set(report.key, report);
    return report;
  };

  /** Sends acknowledged reports again; they must be recognised as duplicates and not written. */
  const resendAcknowledged = async (server: Server) => {
    if (options.resend === 0) return;
    const size = statSync(log).size;
    // Only what the restart's recovery reads (the log's last RECOVERY_TAIL_BYTES) can be recognised.
    const candidates = [...sent.values()].filter(
      (r) =>
        r.acked && !r.resent && r.attempts === 1 && follower.counts.get(r.key) === 1 &&
        follower.offsets.get(r.key)! > size - RECOVERY_TAIL_BYTES,
    );
    const chosen: SentReport[] = [];
    while (chosen.length < options.resend && candidates.length > 0) {
      const i = Math.floor(random() * candidates.length);
      chosen.push(candidates[i]!);
      candidates[i] = candidates[candidates.length - 1]!;
      candidates.pop();
    }
    const answers = await Promise.all(
      chosen.map(async (r) => {
        r.resent = true;
        try {
          const response = await post(server.url, r.body);
          const body = (await response.json()) as { duplicate?: unknown };
          return response.status === 200 && body.duplicate === true ? null : `${response.status} ${JSON.stringify(body)}`;
        } catch (error) {
          return String(error);
        }
      }),
    );
    resent += chosen.length;
    answers.forEach((a, i) => a && checks.fail(CHECK.resendAnswers, `${chosen[i]!.key}: ${a}`));
    const after = statSync(log).size;
    if (after !== size) checks.fail(CHECK.resendWrites, `the log grew by ${after - size} bytes while ${chosen.length} duplicates were sent`);
  };

  const verifyAcked = (check: string) => {
    for (const r of sent.values()) if (r.acked && !follower.counts.has(r.key)) checks.fail(check, `lost: ${r.key}`);
  };

  const readLog = (atKill: boolean) => {
    const { bytes, changed } = follower.read();
    if (changed) checks.fail(CHECK.prefix, changed);
    follower.snapshot(bytes, atKill);
    return bytes;
  };

  for (let round = 1; round <= options.rounds; round++) {
    let server: Server;
    try {
      server = await startServer(options, dir, log);
    } catch (error) {
      checks.fail(CHECK.started, `round ${round}: ${(error as Error).message}`);
      break;
    }
    if (round > 1) {
      readLog(false); // the torn-tail repair, if any, happened at start
      await resendAcknowledged(server);
    }

    const killAfter = Math.round(options.seconds * 1000 * (0.1 + 0.9 * random()));
    const deadline = Date.now() + killAfter + REQUEST_TIMEOUT_MS;
    let killed = false;
    let killing = false;
    let requests = 0;
    const figure: RoundFigures = { round, killedAfterMs: killAfter, acked: 0, duplicateAnswers: 0, interrupted: 0, logBytes: 0, tornTail: false };

    const worker = async () => {
      while (!killed && Date.now() < deadline && requests < MAX_REQUESTS_PER_ROUND) {
        requests++;
        const report = nextReport();
        report.attempts++;
        let response: Response;
        try {
          response = await post(server.url, report.body);
        } catch {
          // The server was killed under this request (or its connection broke): Routee retries.
          retries.push(report);
          if (killing) figure.interrupted++;
          else await Bun.sleep(5);
          continue;
        }
        if (response.status === 200) {
          // The status line alone is the acknowledgement; the body may be cut by the kill.
          report.acked = true;
          figure.acked++;
          const body = (await response.json().catch(() => ({}))) as { duplicate?: unknown };
          if (body.duplicate === true) figure.duplicateAnswers++;
          continue;
        }
        await response.arrayBuffer().catch(() => undefined);
        retries.push(report);
        if (response.status !== 503) {
          unexpectedAnswers++;
          checks.fail(CHECK.answers, `round ${round}: ${response.status} for ${report.key}`);
        }
      }
    };
    const workers = Array.from({ length: options.concurrency }, worker);
    await Bun.sleep(killAfter);
    if (server.proc.exitCode !== null || server.proc.signalCode !== null)
      checks.fail(CHECK.started, `round ${round}: the server exited by itself before the kill: ${server.stderr().trim()}`);
    killing = true;
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    killed = true;
    await Promise.all(workers);

    let bytes = readLog(true);
    // SIGKILL does not interrupt a write(2) to a local file, so a kill alone rarely leaves a torn
    // line. Every second round leaves one as a power loss or a cut write would: the first part
    // of the last entry, without its newline. The next start must end it with a line break.
    if (round % 2 === 0 && bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) {
      const lastLine = bytes.subarray(bytes.lastIndexOf(0x0a, bytes.length - 2) + 1, bytes.length - 1);
      appendFileSync(log, lastLine.subarray(0, Math.max(1, Math.floor(lastLine.length * 0.6))));
      bytes = readLog(true);
      simulatedTears++;
    }
    figure.logBytes = bytes.length;
    figure.tornTail = bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
    figures.push(figure);
    if (figure.acked === 0) checks.fail(CHECK.load, `round ${round}: nothing acknowledged in ${killAfter} ms`);
    verifyAcked(CHECK.ackedAtKill);
    console.log(
      `round ${round}: killed after ${killAfter} ms; ${figure.acked} answered 200 (${figure.duplicateAnswers} as duplicates), ` +
        `${figure.interrupted} cut by the kill; log ${bytes.length} bytes${figure.tornTail ? ", ends in a torn line" : ""}`,
    );
  }

  // A last start repairs the last kill's torn tail, checks recovery once more and stops gracefully.
  try {
    const server = await startServer(options, dir, log);
    readLog(false);
    await resendAcknowledged(server);
    server.proc.kill("SIGTERM");
    const exit = await Promise.race([server.proc.exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => "timeout" as const)]);
    if (exit !== 0) {
      server.proc.kill("SIGKILL");
      checks.fail(CHECK.stop, `exit ${exit}: ${server.stderr().trim()}`);
    }
  } catch (error) {
    checks.fail(CHECK.started, `final start: ${(error as Error).message}`);
    checks.fail(CHECK.stop, "the last server did not start");
  }
  readLog(false);
  if (follower.unterminated > 0) checks.fail(CHECK.lines, `the log ends in ${follower.unterminated} bytes without a line break`);
  for (const problem of follower.problems) checks.fail(CHECK.lines, problem);
  verifyAcked(CHECK.ackedAtEnd);

  let duplicated = 0;
  let explained = 0;
  let writtenUnacked = 0;
  for (const [key, count] of follower.counts) {
    const report = sent.get(key);
    if (!report) {
      checks.fail(CHECK.duplicates, `an entry no report explains: ${key}`);
      continue;
    }
    if (!report.acked) writtenUnacked++;
    if (count === 1) continue;
    duplicated += count - 1;
    if (count - 1 <= report.attempts - 1 && !report.resent) explained += count - 1;
    else checks.fail(CHECK.duplicates, `${key} is in the log ${count} times after ${report.attempts} attempts`);
  }

  const acked = [...sent.values()].filter((r) => r.acked).length;
  const attempts = [...sent.values()].reduce((n, r) => n + r.attempts, 0);
  const lost = [...sent.values()].filter((r) => r.acked && !follower.counts.has(r.key)).length;
  console.log("");
  console.log(
    `crash-test: ${figures.length} rounds killed, ${options.concurrency} connections, fsync ${options.fsync ? "on" : "off"}, ` +
      `seed ${options.seed}, server: ${options.binary ?? "bun src/cli.ts"}`,
  );
  console.log(`reports: ${sent.size} sent in ${attempts} requests (${attempts - sent.size} retries), ${acked} answered 200, ${lost} lost`);
  console.log(
    `log: ${follower.lines} lines, ${[...follower.counts.values()].reduce((a, b) => a + b, 0)} entries, ` +
      `${follower.torn} torn lines ended by a newline at restart (${simulatedTears} left by the test after a kill), ` +
      `${writtenUnacked} written but never answered 200`,
  );
  console.log(
    `duplicates: ${duplicated} written twice (${explained} explained by retries); ` +
      `${resent} acknowledged reports sent again after a restart, not written again`,
  );
  if (unexpectedAnswers > 0) console.log(`unexpected answers: ${unexpectedAnswers}`);
  checks.print();
  return checks.failed() === 0 ? 0 : 1;
}

function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

if (import.meta.main) {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "sms-status-crash-"));
  const cleanUp = () => {
    killChildren();
    if (options.keep) console.log(`crash-test: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", killChildren);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      cleanUp();
      process.exit(1);
    });
  }
  let code = 1;
  try {
    code = await run(options, dir);
  } catch (error) {
    console.log(`crash-test: stopped by an error: ${(error as Error).stack ?? String(error)}`);
    console.log("crash-test: 0 passed, 1 failed");
  } finally {
    cleanUp();
  }
  process.exit(code);
}
