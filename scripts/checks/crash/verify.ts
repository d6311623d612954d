/**
 * What the crash test checks, and the reading of the log from kill to kill that the checks rest on.
 * Failures are gathered over the whole run (a few distinct details per check) and reported at the
 * end through the shared check list, whose last line is "crash-test: N passed, N failed".
 */
import { existsSync, readFileSync } from "node:fs";
import type { Checks } from "../../lib/checks.ts";
import type { SentReport } from "./load.ts";

export const CHECK = {
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
export type Check = (typeof CHECK)[keyof typeof CHECK];

/** How many distinct details are kept per failed check. */
const DETAILS_KEPT = 5;

/** Failures found during the run, per check; every check of CHECK passes unless one is recorded. */
export class Findings {
  readonly #failures = new Map<Check, string[]>(Object.values(CHECK).map((name) => [name, []]));

  fail(check: Check, detail: string): void {
    const list = this.#failures.get(check)!;
    if (list.includes(detail)) return;
    if (list.length < DETAILS_KEPT) list.push(detail);
    else if (list.length === DETAILS_KEPT) list.push("...");
  }

  /** One line per check, in CHECK's order. */
  report(checks: Checks): void {
    for (const [name, details] of this.#failures) checks.check(name, details.length === 0, details.join("; "));
  }
}

/** The identity the log is matched by: smsId + status name + updatedDate. */
export function reportKey(smsId: unknown, status: unknown, updatedDate: unknown): string {
  return `${String(smsId)}|${String(status)}|${String(updatedDate)}`;
}

/**
 * Reads the log at each kill and restart: checks that the bytes seen at the last kill are still
 * there, and parses each complete line once.
 *
 * Not src/log/follow.ts's LogFollower: that one follows a live file like `tail -F` and hands over
 * complete lines only, skipping to the new file on rotation or truncation. This one must see the
 * very bytes (to prove none changed after a kill), the unterminated tail (a torn line), and where
 * each line starts (the kill points and the offsets the restart's recovery reads).
 */
export class KillLog {
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

  /** Reads the file; says what changed in the bytes kept since the last snapshot, if anything. */
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

/** What the log holds against what was sent, once the last server has stopped. */
export interface Tally {
  /** Entries beyond the first of a report. */
  duplicated: number;
  /** Of those, the ones the report's retries explain. */
  explained: number;
  writtenUnacked: number;
}

/** Every report answered 200 must be in the log. */
export function verifyAcked(reports: Iterable<SentReport>, kills: KillLog, findings: Findings, check: Check): void {
  for (const r of reports) if (r.acked && !kills.counts.has(r.key)) findings.fail(check, `lost: ${r.key}`);
}

/** (d): each entry is explained by a report, written more than once only as its retries explain. */
export function tallyEntries(sent: Map<string, SentReport>, kills: KillLog, findings: Findings): Tally {
  const tally: Tally = { duplicated: 0, explained: 0, writtenUnacked: 0 };
  for (const [key, count] of kills.counts) {
    const report = sent.get(key);
    if (!report) {
      findings.fail(CHECK.duplicates, `an entry no report explains: ${key}`);
      continue;
    }
    if (!report.acked) tally.writtenUnacked++;
    if (count === 1) continue;
    tally.duplicated += count - 1;
    if (count - 1 <= report.attempts - 1 && !report.resent) tally.explained += count - 1;
    else findings.fail(CHECK.duplicates, `${key} is in the log ${count} times after ${report.attempts} attempts`);
  }
  return tally;
}
