/**
 * `/v1/series` and `/v1/health`, the dashboard's two endpoints beside the report: the series is the
 * same on the file log, SQLite and PostgreSQL (each store's own code path, one bucketing rule), and
 * bad windows are 400s.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { statusApi } from "../../src/api/routes.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { openSqlStore, SqlStatus } from "../../src/store/sql/index.ts";
import type { StatusReader } from "../../src/store/store.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";
import { reportEntry, reportLine, routeeReport, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir("series-");
const why: { reason?: string } = {};
const pg: Postgres | null = await startPostgres(why);
if (!pg) console.warn(`series.test.ts: PostgreSQL half skipped: ${why.reason}`);
afterAll(() => pg?.stop());

/** Reports over three hours: delivered, failed (two reasons), pending, and one Viber callback. */
const REPORTS = Array.from({ length: 24 }, (_, n) => {
  const at = new Date(Date.UTC(2024, 4, 1, 9 + (n % 3), n, 7, 250));
  const kind = n % 4;
  const report = routeeReport({
    messageId: `s-${n}`,
    smsId: `s-${n}-1`,
    status:
      kind === 0 ? status("Sent", "2024-05-01T09:00:00Z")
      : kind === 1 ? status("Failed", "2024-05-01T09:00:00Z", n % 8 === 1 ? "Expired" : "Rejected")
      : status("Delivered", "2024-05-01T09:00:00Z"),
    ...(n === 23 ? { originatingService: "Viber" } : {}),
  });
  return { report, at };
});

async function seriesOf(reader: StatusReader, query: string): Promise<any> {
  const app = new Elysia().use(statusApi({ reader }));
  const res = await app.handle(new Request(`http://localhost/v1/series?${query}`));
  return { status: res.status, body: await res.json() };
}

describe("/v1/series", () => {
  const log = join(dir, "series.log");
  writeFileSync(log, REPORTS.map(({ report, at }) => reportLine(report, at)).join(""));
  const Q = "since=2024-05-01T00:00:00Z&until=2024-05-02T00:00:00Z";

  it("buckets status callbacks by hour on the file log, with failures by detailed status", async () => {
    const { status: code, body } = await seriesOf(new LogStatus([log]), Q);
    expect(code).toBe(200);
    expect(body.buckets.map((b: any) => b.at)).toEqual(["2024-05-01T09:00:00.000Z", "2024-05-01T10:00:00.000Z", "2024-05-01T11:00:00.000Z"]);
    const sum = (key: string) => body.buckets.reduce((t: number, b: any) => t + b[key], 0);
    // 23 SMS callbacks (the Viber one is another channel): 6 sent, 6 failed, 11 delivered.
    expect([sum("reports"), sum("pending"), sum("failed"), sum("delivered")]).toEqual([23, 6, 6, 11]);
    const failures: Record<string, number> = {};
    for (const b of body.buckets) for (const [k, v] of Object.entries(b.failures as Record<string, number>)) failures[k] = (failures[k] ?? 0) + v;
    expect(failures).toEqual({ Expired: 3, Rejected: 3 });
  });

  it("answers 400 for a missing since, an unknown step, or a window of too many buckets", async () => {
    const reader = new LogStatus([log]);
    expect((await seriesOf(reader, "step=hour")).status).toBe(400);
    expect((await seriesOf(reader, "since=24h&step=week")).status).toBe(400);
    const tooMany = await seriesOf(reader, "since=2000-01-01&step=minute");
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/larger step/);
  });

  const engines = [
    { name: "sqlite" as const, open: () => openSqlStore(`sqlite://${join(dir, "series.db")}`) },
    ...(pg ? [{ name: "postgres" as const, open: async () => openSqlStore(await pg.createDatabase("series")) }] : []),
  ];
  for (const engine of engines)
    it(`gives on ${engine.name} the same buckets as the file log, by minute, hour and day, per channel`, async () => {
      const store = await engine.open();
      for (const { report, at } of REPORTS) await store.write([{ entry: reportEntry(report, at) }]);
      const sql = new SqlStatus(store.sql, engine.name);
      for (const query of [Q, `${Q}&step=minute`, `${Q}&step=day`, `${Q}&channel=viber`, "since=2024-05-01T10:00:00Z&until=2024-05-01T10:30:00Z&step=minute&channel=all"]) {
        const fromLog = await seriesOf(new LogStatus([log]), query);
        expect(fromLog.body.buckets.length).toBeGreaterThan(0);
        expect((await seriesOf(sql, query)).body).toEqual(fromLog.body);
      }
      await store.close();
    });
});

describe("/v1/health", () => {
  it("answers the metrics' live figures read-only, and 501 where no server passes them", async () => {
    const metrics = new Metrics();
    metrics.acknowledged(0.004);
    metrics.acknowledged(1.8);
    metrics.messageFinal("delivered", "sms");
    metrics.watch({ logWritable: () => false, logBytes: () => 10, duplicateKeys: () => 42 });
    const app = new Elysia().use(statusApi({ reader: new LogStatus([]), health: () => metrics.health() }));
    const body: any = await (await app.handle(new Request("http://localhost/v1/health"))).json();
    expect(body).toMatchObject({ logWritable: false, duplicateKeys: 42, messagesFinal: { delivered: { sms: 1 } }, forwarders: [] });
    expect(body.ack.count).toBe(2);
    expect(body.ack.buckets.find((b: any) => b.le === 1.5).count).toBe(1);
    expect(body.ack.buckets.find((b: any) => b.le === 2).count).toBe(2);
    const bare = new Elysia().use(statusApi({ reader: new LogStatus([]) }));
    expect((await bare.handle(new Request("http://localhost/v1/health"))).status).toBe(501);
  });
});
