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
 * The parts: crash/args.ts (the flags), crash/load.ts (the reports and the load), crash/verify.ts
 * (the checks and the reading of the log).
 * Exit codes: 0 every check passed, 1 a check failed, 2 bad usage.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Checks } from "../lib/checks.ts";
import { killServers, spawnServer, type SpawnedServer } from "../lib/startup.ts";
import { parseOptions, seededRandom, type Options } from "./crash/args.ts";
import { loadUntilKilled, Reports, resendAcknowledged, type RoundFigures, type Run } from "./crash/load.ts";
import { CHECK, Findings, KillLog, tallyEntries, verifyAcked } from "./crash/verify.ts";

/** How long the server may take to print where it listens. */
const START_TIMEOUT_MS = 15_000;
/** How long a graceful SIGTERM stop may take at the end. */
const STOP_TIMEOUT_MS = 10_000;

function start(options: Options, dir: string, log: string): Promise<SpawnedServer> {
  const args = ["--port", "0", "--host", "127.0.0.1", "--log", log, ...(options.fsync ? ["--fsync"] : [])];
  return spawnServer(args, { command: options.binary ? [options.binary] : undefined, cwd: dir, timeoutMs: START_TIMEOUT_MS });
}

/** Reads the log and checks (b): the bytes seen at the last kill are still there. */
function readLog(run: Run, atKill: boolean): Buffer {
  const { bytes, changed } = run.kills.read();
  if (changed) run.findings.fail(CHECK.prefix, changed);
  run.kills.snapshot(bytes, atKill);
  return bytes;
}

/**
 * SIGKILL does not interrupt a write(2) to a local file, so a kill alone rarely leaves a torn
 * line. This leaves one as a power loss or a cut write would: the first part of the last entry,
 * without its newline. The next start must end it with a line break.
 */
function tearLastLine(run: Run, bytes: Buffer): boolean {
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) return false;
  const lastLine = bytes.subarray(bytes.lastIndexOf(0x0a, bytes.length - 2) + 1, bytes.length - 1);
  appendFileSync(run.log, lastLine.subarray(0, Math.max(1, Math.floor(lastLine.length * 0.6))));
  return true;
}

async function crashTest(options: Options, dir: string, checks: Checks): Promise<void> {
  const random = seededRandom(options.seed);
  const log = join(dir, "logs", "status.log");
  const run: Run = { options, random, log, reports: new Reports(random), kills: new KillLog(log), findings: new Findings() };
  const { reports, kills, findings } = run;
  const figures: RoundFigures[] = [];
  let resent = 0;
  let simulatedTears = 0;

  for (let round = 1; round <= options.rounds; round++) {
    let server: SpawnedServer;
    try {
      server = await start(options, dir, log);
    } catch (error) {
      findings.fail(CHECK.started, `round ${round}: ${(error as Error).message}`);
      break;
    }
    if (round > 1) {
      readLog(run, false); // the torn-tail repair, if any, happened at start
      resent += await resendAcknowledged(run, server);
    }
    const killAfter = Math.round(options.seconds * 1000 * (0.1 + 0.9 * random()));
    const figure = await loadUntilKilled(run, server, round, killAfter);
    figures.push(figure);
    let bytes = readLog(run, true);
    if (round % 2 === 0 && tearLastLine(run, bytes)) {
      bytes = readLog(run, true);
      simulatedTears++;
    }
    const tornTail = bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
    if (figure.acked === 0) findings.fail(CHECK.load, `round ${round}: nothing acknowledged in ${killAfter} ms`);
    verifyAcked(reports.sent.values(), kills, findings, CHECK.ackedAtKill);
    console.log(
      `round ${round}: killed after ${killAfter} ms; ${figure.acked} answered 200 (${figure.duplicateAnswers} as duplicates), ` +
        `${figure.interrupted} cut by the kill; log ${bytes.length} bytes${tornTail ? ", ends in a torn line" : ""}`,
    );
  }

  // A last start repairs the last kill's torn tail, checks recovery once more and stops gracefully.
  try {
    const server = await start(options, dir, log);
    readLog(run, false);
    resent += await resendAcknowledged(run, server);
    server.proc.kill("SIGTERM");
    const exit = await Promise.race([server.proc.exited, Bun.sleep(STOP_TIMEOUT_MS).then(() => "timeout" as const)]);
    if (exit !== 0) {
      server.proc.kill("SIGKILL");
      findings.fail(CHECK.stop, `exit ${exit}: ${server.stderr().trim()}`);
    }
  } catch (error) {
    findings.fail(CHECK.started, `final start: ${(error as Error).message}`);
    findings.fail(CHECK.stop, "the last server did not start");
  }
  readLog(run, false);
  if (kills.unterminated > 0) findings.fail(CHECK.lines, `the log ends in ${kills.unterminated} bytes without a line break`);
  for (const problem of kills.problems) findings.fail(CHECK.lines, problem);
  verifyAcked(reports.sent.values(), kills, findings, CHECK.ackedAtEnd);
  const tally = tallyEntries(reports.sent, kills, findings);

  const sent = [...reports.sent.values()];
  const acked = sent.filter((r) => r.acked).length;
  const attempts = sent.reduce((n, r) => n + r.attempts, 0);
  const lost = sent.filter((r) => r.acked && !kills.counts.has(r.key)).length;
  const unexpected = figures.reduce((n, f) => n + f.unexpected, 0);
  console.log("");
  console.log(
    `crash-test: ${figures.length} rounds killed, ${options.concurrency} connections, fsync ${options.fsync ? "on" : "off"}, ` +
      `seed ${options.seed}, server: ${options.binary ?? "bun src/cli.ts"}`,
  );
  console.log(`reports: ${sent.length} sent in ${attempts} requests (${attempts - sent.length} retries), ${acked} answered 200, ${lost} lost`);
  console.log(
    `log: ${kills.lines} lines, ${[...kills.counts.values()].reduce((a, b) => a + b, 0)} entries, ` +
      `${kills.torn} torn lines ended by a newline at restart (${simulatedTears} left by the test after a kill), ` +
      `${tally.writtenUnacked} written but never answered 200`,
  );
  console.log(
    `duplicates: ${tally.duplicated} written twice (${tally.explained} explained by retries); ` +
      `${resent} acknowledged reports sent again after a restart, not written again`,
  );
  if (unexpected > 0) console.log(`unexpected answers: ${unexpected}`);
  findings.report(checks);
}

if (import.meta.main) {
  const options = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "sms-status-crash-"));
  const cleanUp = () => {
    killServers();
    if (options.keep) console.log(`crash-test: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", killServers);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      cleanUp();
      process.exit(1);
    });
  }
  const checks = new Checks("crash-test");
  await checks.run(() => crashTest(options, dir, checks), cleanUp);
}
