/** The SQLite view in a running server, its metrics, and prune/migrate on it. */
import { afterAll, describe, expect, it } from "bun:test";
import { SQL } from "bun";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { SqlView } from "../../src/store/sql/view.ts";
import { SCHEMA_VERSION } from "../../src/store/sql/schema.ts";
import { dlrLine } from "../../scripts/lib/samples.ts";
import { routeeReport, runCli, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir("view-");
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => {});
});

async function start(log: string, args: string[] = []) {
  const config = parseServeConfig(["--port", "0", "--host", "127.0.0.1", "--log", log, "--metrics-port", "0", ...args], {});
  const server = await startServer(config);
  servers.push(server);
  const send = (body: unknown) =>
    fetch(`http://127.0.0.1:${server.port}/sms/status`, { method: "POST", body: JSON.stringify(body) });
  return { server, send };
}

describe("the SQLite view beside the log", () => {
  it("holds every report the server logged, by the status rules, and shows its lag in the metrics", async () => {
    const log = join(dir, "a.log");
    const { server, send } = await start(log);
    expect((await send(routeeReport({ messageId: "v-1", smsId: "v-1", status: status("Delivered", "2024-05-01T10:00:05Z") }))).status).toBe(200);
    expect((await send(routeeReport({ messageId: "v-1", smsId: "v-1", status: status("Sent", "2024-05-01T10:00:01Z") }))).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^sms_status_view_lag_seconds \d/m);
    expect(metrics).toMatch(/^sms_status_view_lag_entries \d+$/m);
    await server.stop();
    const found = runCli(["lookup", "v-1", "--json", "--db", `${log}.db`]);
    expect(found.code).toBe(0);
    const { message, reports } = JSON.parse(found.stdout);
    expect(reports).toHaveLength(2);
    expect([message.outcome, message.status]).toEqual(["delivered", "Delivered"]);
  });

  it("keeps no view with --no-db", async () => {
    const log = join(dir, "b.log");
    const { server, send } = await start(log, ["--no-db"]);
    expect((await send(routeeReport())).status).toBe(200);
    await server.stop();
    expect(existsSync(`${log}.db`)).toBe(false);
  });

  it("prune deletes old reports and keeps every message's status; migrate says the version", async () => {
    const log = join(dir, "c.log");
    const { server, send } = await start(log);
    for (let i = 0; i < 5; i++) expect((await send(routeeReport({ messageId: `p-${i}`, smsId: `p-${i}` }))).status).toBe(200);
    await server.stop();
    const db = `${log}.db`;
    const sql = new SQL(`sqlite://${db}`);
    // As any other tool on the file should: the view's last close may still hold it for a few ms.
    await sql.unsafe("PRAGMA busy_timeout = 5000");
    await sql`UPDATE sms_status_reports SET received_at = '2020-01-01T00:00:00.000Z' WHERE message_id IN ('p-0', 'p-1', 'p-2')`;
    await sql.close();
    const pruned = runCli(["prune", "--older-than", "90d", "--db", db]);
    expect(pruned.stdout).toContain("deleted 3 reports");
    expect(pruned.code).toBe(0);
    const after = new SQL(`sqlite://${db}`);
    expect((await after`SELECT message_id FROM sms_status_reports ORDER BY message_id`).map((r: any) => r.message_id)).toEqual(["p-3", "p-4"]);
    expect((await after`SELECT COUNT(*) AS n FROM sms_status_messages`)[0].n).toBe(5);
    await after.close();
    expect(runCli(["prune", "--db", db]).code).toBe(2);
    const migrated = runCli(["migrate", "--db", db]);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain(`schema at version ${SCHEMA_VERSION}`);
  });

  it("goes on at once while the log has more, even when a read stops short of a full batch", async () => {
    // 6,000 lines of 1.5 KB: more than one read's few MB, so the first read ends before 5,000 lines.
    const log = join(dir, "d.log");
    const text = "y".repeat(1000);
    writeFileSync(log, Array.from({ length: 6000 }, (_, i) => dlrLine({ messageId: `d-${i}`, message: text }, new Date(Date.UTC(2024, 4, 1) + i))).join(""));
    const view = new SqlView({ log, db: `${log}.db` });
    await view.open();
    const reads: boolean[] = [];
    while (reads.length < 10 && (reads.push(await view.catchUp()), reads.at(-1))) {}
    expect(view.stats.applied).toBe(6000);
    // Every read that found lines asked for the next at once; the one that found none did not.
    expect(reads.at(-1)).toBe(false);
    await view.stop();
  });
});
