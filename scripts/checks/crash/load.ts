/**
 * The crash test's load: unique, realistic Routee reports (scripts/lib/samples.ts) POSTed by
 * concurrent loops until the server is killed; reports that got no 200 are sent again later, as
 * Routee would. And after each restart, acknowledged reports sent again, which must be recognised
 * as duplicates.
 */
import { statSync } from "node:fs";
import { RECOVERY_TAIL_BYTES } from "../../../src/store/file-recent.ts";
import { routeeMessages } from "../../lib/samples.ts";
import type { SpawnedServer } from "../../lib/startup.ts";
import type { Options } from "./args.ts";
import { CHECK, reportKey, type Findings, type KillLog } from "./verify.ts";

/** No single request may hang a round. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** A hard cap on requests per round, whatever the machine's speed (bounded load). */
const MAX_REQUESTS_PER_ROUND = 100_000;

/** What the crash test knows about one report it sent. */
export interface SentReport {
  key: string;
  body: string;
  attempts: number;
  acked: boolean;
  resent: boolean;
}

/** Every report sent so far, and those waiting to be sent again. */
export class Reports {
  readonly sent = new Map<string, SentReport>();
  readonly #retries: SentReport[] = [];
  readonly #messages: Generator<Record<string, unknown>>;

  constructor(random: () => number) {
    this.#messages = routeeMessages(random);
  }

  /** A report waiting for a retry, else the next new one. */
  next(): SentReport {
    const retry = this.#retries.pop();
    if (retry) return retry;
    const body = this.#messages.next().value as Record<string, unknown>;
    const status = body.status as { name: string; updatedDate: string };
    const report = { key: reportKey(body.smsId, status.name, status.updatedDate), body: JSON.stringify(body), attempts: 0, acked: false, resent: false };
    this.sent.set(report.key, report);
    return report;
  }

  retry(report: SentReport): void {
    this.#retries.push(report);
  }
}

/** Everything a round works with. */
export interface Run {
  options: Options;
  random: () => number;
  log: string;
  reports: Reports;
  kills: KillLog;
  findings: Findings;
}

export interface RoundFigures {
  round: number;
  killedAfterMs: number;
  acked: number;
  duplicateAnswers: number;
  interrupted: number;
  unexpected: number;
}

function post(url: string, body: string): Promise<Response> {
  return fetch(`${url}/sms/status`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

/** Loads the server from `concurrency` loops and kills it with SIGKILL after `killAfter` ms. */
export async function loadUntilKilled(run: Run, server: SpawnedServer, round: number, killAfter: number): Promise<RoundFigures> {
  const { reports, findings } = run;
  const deadline = Date.now() + killAfter + REQUEST_TIMEOUT_MS;
  let killed = false;
  let killing = false;
  let requests = 0;
  const figures: RoundFigures = { round, killedAfterMs: killAfter, acked: 0, duplicateAnswers: 0, interrupted: 0, unexpected: 0 };

  const worker = async () => {
    while (!killed && Date.now() < deadline && requests < MAX_REQUESTS_PER_ROUND) {
      requests++;
      const report = reports.next();
      report.attempts++;
      let response: Response;
      try {
        response = await post(server.url, report.body);
      } catch {
        // The server was killed under this request (or its connection broke): Routee retries.
        reports.retry(report);
        if (killing) figures.interrupted++;
        else await Bun.sleep(5);
        continue;
      }
      if (response.status === 200) {
        // The status line alone is the acknowledgement; the body may be cut by the kill.
        report.acked = true;
        figures.acked++;
        const body = (await response.json().catch(() => ({}))) as { duplicate?: unknown };
        if (body.duplicate === true) figures.duplicateAnswers++;
        continue;
      }
      await response.arrayBuffer().catch(() => undefined);
      reports.retry(report);
      if (response.status !== 503) {
        figures.unexpected++;
        findings.fail(CHECK.answers, `round ${round}: ${response.status} for ${report.key}`);
      }
    }
  };
  const workers = Array.from({ length: run.options.concurrency }, worker);
  await Bun.sleep(killAfter);
  if (server.proc.exitCode !== null || server.proc.signalCode !== null)
    findings.fail(CHECK.started, `round ${round}: the server exited by itself before the kill: ${server.stderr().trim()}`);
  killing = true;
  server.proc.kill("SIGKILL");
  await server.proc.exited;
  killed = true;
  await Promise.all(workers);
  return figures;
}

/**
 * Sends up to `--resend` acknowledged reports again after a restart; they must be answered as
 * duplicates and not written. Returns how many were sent.
 */
export async function resendAcknowledged(run: Run, server: SpawnedServer): Promise<number> {
  const { options, kills, findings } = run;
  if (options.resend === 0) return 0;
  const size = statSync(run.log).size;
  // Only what the restart's recovery reads (the log's last RECOVERY_TAIL_BYTES) can be recognised.
  const candidates = [...run.reports.sent.values()].filter(
    (r) =>
      r.acked && !r.resent && r.attempts === 1 && kills.counts.get(r.key) === 1 &&
      kills.offsets.get(r.key)! > size - RECOVERY_TAIL_BYTES,
  );
  const chosen: SentReport[] = [];
  while (chosen.length < options.resend && candidates.length > 0) {
    const i = Math.floor(run.random() * candidates.length);
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
  answers.forEach((a, i) => a && findings.fail(CHECK.resendAnswers, `${chosen[i]!.key}: ${a}`));
  const after = statSync(run.log).size;
  if (after !== size) findings.fail(CHECK.resendWrites, `the log grew by ${after - size} bytes while ${chosen.length} duplicates were sent`);
  return chosen.length;
}
