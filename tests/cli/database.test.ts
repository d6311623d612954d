/**
 * The readers on the database answer as on the log: `report --json` and `lookup --json` on a log
 * and on the SQLite view `reindex` builds from it print the same (bar the source's name).
 */
import { describe, expect, it } from "bun:test";
import { SQL } from "bun";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { routeeMessages } from "../../scripts/lib/samples.ts";
import { dlrLine, reportLine, runCli, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir("db-readers-");

/** A seeded random, so a failure replays. */
function seeded(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** N reports of sample messages, received a second apart, and an out-of-order report. */
function sampleLog(path: string, n: number): string[] {
  const lines: string[] = [];
  const messages = routeeMessages(seeded(7));
  let at = Date.UTC(2024, 4, 1, 10);
  for (let i = 0; i < n; i++) lines.push(reportLine(messages.next().value!, new Date((at += 1000))));
  lines.push(dlrLine({ messageId: "late-1", smsId: "late-1", status: status("Delivered", "2024-05-01T10:00:05Z") }, new Date((at += 1000))));
  lines.push(dlrLine({ messageId: "late-1", smsId: "late-1", status: status("Sent", "2024-05-01T10:00:01Z") }, new Date((at += 1000))));
  writeFileSync(path, lines.join("\n") + "\n");
  return lines;
}

const withoutSource = (text: string) => {
  const value = JSON.parse(text);
  delete value.files;
  return value;
};

describe("readers on the SQLite view", () => {
  const log = join(dir, "status.log");
  const lines = sampleLog(log, 600);
  const db = join(dir, "view.db");

  it("reindex builds the view from the log and exits 0", () => {
    const run = runCli(["reindex", "--log", log, "--db", db]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`(${lines.length} entries)`);
    expect(existsSync(db)).toBe(true);
  });

  it("report --json answers the same from the log and from the database, whole and in a window", () => {
    for (const extra of [[], ["--by", "country"], ["--since", "2024-05-01T10:03:00Z", "--until", "2024-05-01T10:07:00Z"]]) {
      const fromLog = runCli(["report", "--json", "--log", log, ...extra]);
      const fromDb = runCli(["report", "--json", "--db", db, ...extra]);
      expect(fromDb.code).toBe(0);
      expect(withoutSource(fromDb.stdout)).toEqual(withoutSource(fromLog.stdout));
      expect(JSON.parse(fromDb.stdout).files).toEqual([db]);
    }
  });

  it("lookup --json answers the same from the log and from the database, by messageId and by smsId", () => {
    const ids = ["late-1"];
    for (const line of [lines[0]!, lines[7]!, lines[30]!]) {
      const entry = JSON.parse(line);
      ids.push(entry.messageId, entry.smsId);
    }
    for (const id of ids) {
      const fromLog = runCli(["lookup", id, "--json", "--log", log]);
      const fromDb = runCli(["lookup", id, "--json", "--db", db]);
      expect(fromDb.code).toBe(0);
      expect(JSON.parse(fromDb.stdout)).toEqual(JSON.parse(fromLog.stdout));
    }
    expect(runCli(["lookup", "nobody", "--db", db]).code).toBe(1);
  }, 30_000);

  it("tail prints the last entries from the database as from the log", () => {
    const fromLog = runCli(["tail", "-n", "25", "--log", log], { NO_COLOR: "1" });
    const fromDb = runCli(["tail", "-n", "25", "--db", db], { NO_COLOR: "1" });
    expect(fromDb.code).toBe(0);
    expect(fromDb.stdout.split("\n").slice(-8)).toEqual(fromLog.stdout.split("\n").slice(-8));
  });

  it("refuses a missing database (exit 1), and a log with a database (exit 2)", () => {
    const missing = runCli(["report", "--db", join(dir, "none.db")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no database at");
    expect(existsSync(join(dir, "none.db"))).toBe(false);
    expect(runCli(["report", "--db", db, "--log", log]).code).toBe(2);
    expect(runCli(["report", "--db", db, "--database-url", "postgres://x@h/d"]).code).toBe(2);
  });
});

describe("reindex", () => {
  it("reads rotated and gzip files in the order given and replaces the old view whole", async () => {
    const log = join(dir, "rot.log");
    const all = sampleLog(join(dir, "all.log"), 90);
    writeFileSync(`${log}.2.gz`, gzipSync(all.slice(0, 30).join("\n") + "\n"));
    writeFileSync(`${log}.1`, all.slice(30, 60).join("\n") + "\n");
    writeFileSync(log, all.slice(60).join("\n") + "\n");
    const db = `${log}.db`;
    writeFileSync(db, "not a database");
    // No --log: the log and its rotated copies, oldest first by time.
    const t = Date.now() / 1000;
    const { utimesSync } = await import("node:fs");
    utimesSync(`${log}.2.gz`, t - 20, t - 20);
    utimesSync(`${log}.1`, t - 10, t - 10);
    const run = runCli(["reindex"], { SMS_STATUS_LOG: log });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const whole = runCli(["reindex", "--log", join(dir, "all.log"), "--db", join(dir, "all.db")]);
    expect(whole.code).toBe(0);
    const rows = async (file: string) => {
      const sql = new SQL(`sqlite://${file}`);
      const out = await sql`SELECT * FROM sms_status_messages ORDER BY message_id, part_key`;
      const reports = await sql`SELECT COUNT(*) AS n FROM sms_status_reports`;
      await sql.close();
      return { out, reports };
    };
    expect(await rows(db)).toEqual(await rows(join(dir, "all.db")));
  });

  it("exits 1 naming a missing file", () => {
    const run = runCli(["reindex", "--log", join(dir, "missing.log"), "--db", join(dir, "m.db")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("missing.log");
  });
});
