/** The SQLite view in its own thread: a stuck view never stops the answers, and a dead thread comes back. */
import { afterAll, describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killServers, spawnServer } from "../../scripts/lib/startup.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { ViewThread } from "../../src/store/sql/view-thread.ts";
import { dlrLine, routeeReport, runCli, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir("view-thread-");
afterAll(killServers);

describe("the SQLite view's thread", () => {
  it("answers reports while another connection holds the view's write lock", async () => {
    const log = join(dir, "locked.log");
    const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--log", log]);
    const send = (id: string) =>
      fetch(`${server.url}/sms/status`, {
        method: "POST",
        body: JSON.stringify(routeeReport({ messageId: id, smsId: id })),
        // Guards the test only: a receiver blocked behind the view would wait out its 60 s busy timeout.
        signal: AbortSignal.timeout(10_000),
      });
    const lock = new Database(`${log}.db`);
    lock.run("BEGIN IMMEDIATE");
    expect((await send("l-1")).status).toBe(200);
    await Bun.sleep(500); // the view wakes every 100 ms: it is now waiting for the lock
    const answers = await Promise.all(["l-2", "l-3", "l-4"].map(send));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    lock.run("COMMIT");
    lock.close();
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    const found = runCli(["lookup", "l-4", "--json", "--db", `${log}.db`]);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout).reports).toHaveLength(1);
  }, 60_000);

  it("says so, counts it and starts again when the thread cannot open the view, then applies the log", async () => {
    const log = join(dir, "restart.log");
    const db = `${log}.db`;
    writeFileSync(log, Array.from({ length: 50 }, (_, i) => dlrLine({ messageId: `r-${i}`, smsId: `r-${i}` }, new Date(Date.UTC(2024, 4, 1) + i))).join(""));
    const warnings: string[] = [];
    const view = new ViewThread({ log, db, warn: (line) => warnings.push(line), restartMs: 20 });
    await view.open();
    // The file is replaced by a directory: the thread cannot open it and dies.
    for (const suffix of ["", "-wal", "-shm"]) rmSync(db + suffix, { force: true });
    mkdirSync(db);
    const metrics = new Metrics();
    metrics.watchView(view.stats);
    await view.start();
    await until(() => view.stats.restarts >= 2, 10_000);
    expect(metrics.render()).toMatch(/^sms_status_view_running 0$/m);
    expect(metrics.render()).toMatch(/^sms_status_view_restarts_total [2-9]\d*$/m);
    expect(warnings[0]).toContain(`the SQLite view ${db} stopped (cannot open the view`);
    rmSync(db, { recursive: true });
    await until(() => view.stats.applied === 50, 10_000);
    expect(metrics.render()).toMatch(/^sms_status_view_running 1$/m);
    await view.stop();
    const sql = new Database(db, { readonly: true });
    expect(sql.query("SELECT COUNT(*) AS n FROM sms_status_reports").get()).toEqual({ n: 50 });
    sql.close();
  }, 60_000);
});
