/**
 * `serve --database-url postgres://…` on a real PostgreSQL (tests/helpers/postgres.ts): the
 * database is the journal, shared by replicas; a failing database answers 503 with Retry-After
 * and the server comes back by itself. Skips, saying why, where PostgreSQL cannot run.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { SQL } from "bun";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { spawnServer } from "../../scripts/lib/startup.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";
import { json, logEntries, routeeReport, runCli, tempDir } from "../helpers/utils.ts";

const why: { reason?: string } = {};
const pg: Postgres | null = await startPostgres(why);
if (!pg) console.error(`\nSKIPPED: tests/server/database.test.ts: ${why.reason}\n`);
afterAll(() => pg?.stop());

const dir = tempDir("sms-status-db-server-");
let databases = 0;
const servers: RunningServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.stop().catch(() => {}))));

async function serve(url: string, args: string[] = []): Promise<RunningServer & { url: string }> {
  const config = parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--database-url", url, ...args], {});
  const server = await startServer(config);
  servers.push(server);
  return { ...server, url: `http://127.0.0.1:${server.port}` };
}

const send = (base: string, body: unknown) =>
  fetch(`${base}/sms/status`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

/** Ask until the answer is `status` (the reconnection backs off up to 5 s), at most `tries` times. */
async function answersEventually(ask: () => Promise<Response>, status: number, tries = 60): Promise<Response> {
  let res = await ask();
  for (let i = 0; i < tries && res.status !== status; i++) {
    await Bun.sleep(250);
    res = await ask();
  }
  return res;
}

describe.skipIf(!pg)("serve --database-url", () => {
  it("answers 200 once the report is a row, and a retry at another replica is a duplicate", async () => {
    const url = await pg!.createDatabase(`s${++databases}`);
    // Two replicas starting at once: both migrate safely (advisory lock).
    // The default log's path, in the working directory: a file a user's own `npm start` may have left.
    const defaultLog = () => (existsSync("./sms-status.log") ? statSync("./sms-status.log").size : -1);
    const before = defaultLog();
    const [a, b] = await Promise.all([serve(url, ["--replica", "rx-a"]), serve(url, ["--replica", "rx-b"])]);
    const report = routeeReport();
    const first = await send(a.url, report);
    expect(first.status).toBe(200);
    expect(await json(first)).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    const retry = await send(b.url, report);
    expect(await json(retry)).toEqual({ ok: true, duplicate: true });
    const sql = new SQL(url, { max: 1 });
    const rows = await sql`SELECT message_id, replica FROM sms_status_reports`;
    await sql.close();
    expect(rows).toEqual([{ message_id: report.messageId, replica: "rx-a" }]);
    // Without --log no file is written.
    expect(existsSync(join(dir, "sms-status.log"))).toBe(false);
    expect(defaultLog()).toBe(before);
  });

  it("with --log, writes each committed report once to the local copy", async () => {
    const url = await pg!.createDatabase(`s${++databases}`);
    const log = join(dir, "copy.log");
    const [a, b] = [await serve(url, ["--log", log]), await serve(url, ["--log", log])];
    const report = routeeReport();
    expect((await send(a.url, report)).status).toBe(200);
    expect((await send(b.url, report)).status).toBe(200);
    expect((await logEntries(log)).map((e) => e.messageId)).toEqual([report.messageId]);
  });

  it("answers 503 with Retry-After while PostgreSQL is down, and 200 again once it is back", async () => {
    const url = await pg!.createDatabase(`s${++databases}`);
    const server = await serve(url, ["--db-statement-timeout", "1000"]);
    expect((await send(server.url, routeeReport())).status).toBe(200);
    await pg!.halt("immediate"); // pg_ctl stop -m immediate
    const down = await send(server.url, routeeReport());
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).not.toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    await pg!.start();
    const report = routeeReport();
    expect((await answersEventually(() => send(server.url, report), 200)).status).toBe(200);
    expect((await answersEventually(() => fetch(`${server.url}/healthz`), 200)).status).toBe(200);
    const sql = new SQL(url, { max: 1 });
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM sms_status_reports WHERE message_id = ${report.messageId}`;
    await sql.close();
    expect(n).toBe(1);
  });

  it("starts unhealthy when PostgreSQL is down at start, then migrates and turns healthy by itself", async () => {
    const url = await pg!.createDatabase(`s${++databases}`);
    await pg!.halt("immediate");
    let server: Awaited<ReturnType<typeof serve>>;
    try {
      server = await serve(url);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      const down = await send(server.url, routeeReport());
      expect(down.status).toBe(503);
      expect(down.headers.get("retry-after")).not.toBeNull();
    } finally {
      await pg!.start();
    }
    expect((await answersEventually(() => fetch(`${server.url}/healthz`), 200)).status).toBe(200);
    expect((await send(server.url, routeeReport())).status).toBe(200);
  });

  it("survives SIGHUP while PostgreSQL is down (answers 503, then 200 once it is back)", async () => {
    const url = await pg!.createDatabase(`s${++databases}`);
    const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--database-url", url]);
    try {
      await pg!.halt("immediate");
      try {
        server.proc.kill("SIGHUP");
        // The reopen ends (in failure) within the connection timeout; the process must still be there.
        for (let i = 0; i < 60 && !server.stderr().includes("SIGHUP:") && server.proc.exitCode === null; i++) await Bun.sleep(100);
        expect(server.stderr()).toContain("SIGHUP: cannot reopen the database connections");
        expect(server.proc.exitCode).toBeNull();
        expect((await send(server.url, routeeReport())).status).toBe(503);
      } finally {
        await pg!.start();
      }
      expect((await answersEventually(() => send(server.url, routeeReport()), 200)).status).toBe(200);
    } finally {
      server.proc.kill("SIGKILL");
    }
  });

  it("refuses a URL that is not PostgreSQL's (exit 2, one line)", () => {
    const result = runCli(["serve", "--database-url", "mysql://db/sms"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--database-url must be a PostgreSQL URL");
  });
});
