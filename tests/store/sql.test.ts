/**
 * The SQL store, one suite run against each engine: SQLite in a temp file and a real PostgreSQL
 * server started here (tests/helpers/postgres.ts). Without PostgreSQL its half skips, saying why.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { SQL } from "bun";
import { join } from "node:path";
import { setSequence, type LogEntry, type ReceivedEntry } from "../../src/core/entry.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { createReceiver } from "../../src/http/receiver.ts";
import { routee } from "../../src/providers/routee/index.ts";
import { ReportTally } from "../../src/status/report.ts";
import { MessageTracker } from "../../src/status/tracker.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { parseEntry } from "../../src/log/reader.ts";
import { foldMessages, SqlStatus } from "../../src/store/sql/sql-status.ts";
import { pruneReports } from "../../src/store/sql/prune.ts";
import { ViewWriter } from "../../src/store/sql/apply.ts";
import { migrate, openSqlStore, SCHEMA_VERSION, type SqlStore } from "../../src/store/sql/index.ts";
import { FIXTURE_LINES, writeFixture } from "../helpers/fixture-log.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";
import { seededRandom } from "../../scripts/checks/crash/args.ts";
import { post, reportEntry, routeeReport, status, tempDir } from "../helpers/utils.ts";

const why: { reason?: string } = {};
const pg: Postgres | null = await startPostgres(why);
if (!pg) console.error(`\nSKIPPED: the PostgreSQL half of tests/store/sql.test.ts: ${why.reason}\n`);
afterAll(() => pg?.stop());

const dir = tempDir("sms-status-sql-");
const SCHEMA_MODULE = new URL("../../src/store/sql/schema.ts", import.meta.url).pathname;
let databases = 0;

interface EngineCase {
  name: "sqlite" | "postgres";
  available: boolean;
  /** A fresh empty database. */
  url(): Promise<string>;
}

const ENGINES: EngineCase[] = [
  { name: "sqlite", available: true, url: async () => `sqlite://${join(dir, `db${++databases}.sqlite`)}` },
  { name: "postgres", available: pg !== null, url: () => pg!.createDatabase(`t${++databases}`) },
];

const received = (entry: LogEntry): ReceivedEntry => ({ entry });

const random = seededRandom;

const STATUSES = [
  ["Queued", "Queued"],
  ["Sent", "Sent"],
  ["Delivered", "Delivered"],
  ["Delivered", "Delivered to handset"],
  ["Undelivered", "Unknown Number"],
  ["Failed", "Expired"],
  ["Mystery", "Mystery"],
];
// With and without milliseconds, an offset, and unreadable: the cases compareDates orders.
const DATES = [
  "2024-05-01T10:00:00Z",
  "2024-05-01T10:00:00.500Z",
  "2024-05-01T10:00:01Z",
  "2024-05-01T10:00:00.999Z",
  "2024-05-01T12:00:00+02:00",
  "not a date",
];

/** Random reports for a few messages of one to three parts, in random order, some sent twice. */
function randomReports(seed: number, count: number): LogEntry[] {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const out: LogEntry[] = [];
  const start = Date.parse("2024-05-01T10:00:00.000Z");
  for (let i = 0; i < count; i++) {
    const m = Math.floor(rnd() * 12);
    const parts = (m % 3) + 1;
    const part = 1 + Math.floor(rnd() * parts);
    const [name, detailed] = pick(STATUSES);
    const body = routeeReport({
      messageId: `m${seed}-${m}`,
      // Some messages' parts have no smsId: they are keyed by part number.
      smsId: m % 4 === 0 ? null : `m${seed}-${m}-${part}`,
      part,
      parts,
      country: `C${(m + part) % 3}`,
      operator: `O${m % 2}`,
      label: m % 5 === 0 ? null : "otp",
      price: rnd() < 0.3 ? null : Math.round(rnd() * 100) / 1000,
      latency: rnd() < 0.3 ? null : Math.floor(rnd() * 20),
      status: status(name!, pick(DATES), detailed),
    });
    // Received times collide now and then: the last received decides only on equal dates.
    const entry = reportEntry(body, new Date(start + Math.floor(rnd() * count) * 7));
    // Some carry a provider's ordering hint and no date, as Twilio's do: the hint decides before
    // the order received.
    if (rnd() < 0.4) {
      setSequence(entry, Math.floor(rnd() * 4));
      if (rnd() < 0.5) entry.updatedDate = null;
    }
    out.push(entry);
    if (rnd() < 0.15) out.push({ ...entry }); // a retry of the same report
  }
  return out;
}

for (const engine of ENGINES) {
  describe.skipIf(!engine.available)(`SQL store on ${engine.name}`, () => {
    const opened: SqlStore[] = [];
    afterAll(async () => {
      for (const store of opened) await store.close();
    });
    async function open(url?: string, options = {}): Promise<SqlStore> {
      const store = await openSqlStore(url ?? (await engine.url()), options);
      opened.push(store);
      return store;
    }

    it("migrates to the current version once, even when several processes start at once", async () => {
      const url = await engine.url();
      // Processes, not clients of this one: Bun's SQLite waits for a lock synchronously, blocking its own holder.
      const script = `import { SQL } from "bun"; import { migrate } from ${JSON.stringify(SCHEMA_MODULE)};
        const sql = new SQL(process.argv[1]); console.log(await migrate(sql, ${JSON.stringify(engine.name)})); await sql.close();`;
      const children = [0, 1, 2].map(() => Bun.spawn([process.execPath, "-e", script, url], { stdout: "pipe", stderr: "inherit" }));
      const clients = [new SQL(url)];
      try {
        const from = await Promise.all(children.map(async (child) => Number(await new Response(child.stdout).text())));
        // Exactly one of them found an empty database.
        expect(from.sort()).toEqual([0, SCHEMA_VERSION, SCHEMA_VERSION]);
        expect(await migrate(clients[0]!, engine.name)).toBe(SCHEMA_VERSION);
        const rows = await clients[0]!`SELECT version FROM sms_status_schema`;
        expect(rows.map((r: any) => Number(r.version))).toEqual([SCHEMA_VERSION]);
      } finally {
        for (const sql of clients) await sql.close();
      }
    });

    it("stores a report once: a retry to another replica of the same database is not new", async () => {
      const url = await engine.url();
      const a = await open(url, { replica: "a" });
      const b = await open(url, { replica: "b" });
      const raw = JSON.stringify(routeeReport({ messageId: "dup-1", smsId: "dup-1-s" }));
      const reading = routee.read(JSON.parse(raw), raw);
      if (reading.invalid) throw new Error(reading.invalid.message);
      const entry = reading.entries[0]!;
      expect(await a.write([entry])).toEqual([true]);
      expect(await b.write([entry])).toEqual([false]);
      const rows = await a.sql`SELECT replica, report, message_id FROM sms_status_reports`;
      expect(rows.map((r: any) => ({ ...r }))).toEqual([{ replica: "a", report: raw, message_id: "dup-1" }]);
    });

    it("writes the callbacks of one event-loop turn in one transaction", async () => {
      const store = await open();
      const writes = Array.from({ length: 300 }, () => store.write([received(reportEntry(routeeReport()))]));
      const results = await Promise.all(writes);
      expect(results.flat().every(Boolean)).toBe(true);
      expect(store.commits).toBe(1);
      const [{ n }] = await store.sql`SELECT COUNT(*) AS n FROM sms_status_reports`;
      expect(Number(n)).toBe(300);
    });

    it("stores a batch larger than one statement's parameter limit", async () => {
      const store = await open();
      // 3,000 rows × 29 columns is more than PostgreSQL's 65,535 parameters.
      const entries = Array.from({ length: 3000 }, () => received(reportEntry(routeeReport())));
      expect((await store.write(entries)).filter(Boolean).length).toBe(3000);
      const [{ n }] = await store.sql`SELECT COUNT(*) AS n FROM sms_status_messages`;
      expect(Number(n)).toBe(3000);
    });

    for (const seed of [1, 2, 3]) {
      it(`keeps each part's status as MessageTracker does, in any arrival order (seed ${seed})`, async () => {
        const store = await open();
        const reports = randomReports(seed, 400);
        const tracker = new MessageTracker();
        const rnd = random(seed * 101);
        // Batches of random size, so a part's reports meet in one statement and across transactions.
        for (let i = 0; i < reports.length; ) {
          const batch = reports.slice(i, (i += 1 + Math.floor(rnd() * 40))).map(received);
          const fresh = await store.write(batch);
          batch.forEach(({ entry }, j) => fresh[j] && tracker.add(entry));
        }
        const rows: any[] = await store.sql`SELECT m.*, (SELECT provider FROM sms_status_reports WHERE id = m.first_report) AS provider
          FROM sms_status_messages m ORDER BY message_id, first_report`;
        const parts = new Map(rows.map((r) => [`${r.message_id} ${r.part_key}`, r]));
        let compared = 0;
        for (const message of tracker.messages()) {
          for (const p of message.partStatuses) {
            const row = parts.get(`${message.messageId} ${p.key}`);
            expect({
              outcome: row.outcome,
              final: Boolean(row.final),
              status: row.status,
              detailedStatus: row.detailed_status,
              updatedDate: row.updated_date,
              receivedAt: row.received_at,
              price: row.price === null ? null : Number(row.price),
              latency: row.latency === null ? null : Number(row.latency),
              reports: Number(row.reports),
              part: row.part,
            }).toEqual({
              outcome: p.outcome,
              final: p.final,
              status: p.status,
              detailedStatus: p.detailedStatus,
              updatedDate: p.updatedDate,
              receivedAt: p.receivedAt,
              price: p.price,
              latency: p.latency,
              reports: p.reports,
              part: p.part,
            });
            compared += 1;
          }
        }
        expect(compared).toBe(rows.length);
        // And the messages folded from the rows are the tracker's.
        const folded: unknown[] = [];
        foldMessages(rows, (m) => folded.push({ ...m }));
        const expected = [...tracker.messages()]
          .sort((a, b) => (a.messageId < b.messageId ? -1 : 1))
          .map(({ outcome, cost, latency, status, detailedStatus, country, operator, campaignTrackingId, label, provider }) => ({
            outcome, cost, latency, status, detailedStatus, country, operator, campaignTrackingId, label, provider,
          }));
        expect(folded).toEqual(expected);
        // And the report summed by the database is the one summed from the tracker's messages.
        for (const by of [null, "status", "country", "operator", "campaign", "label"] as const) {
          const tally = new ReportTally(by);
          for (const message of tracker.messages()) tally.add(message);
          const report = await store.status().report({ by, channel: "all" });
          expect({ ...report, files: [], lines: null, callbacks: null, channel: null, since: null, until: null }).toEqual({
            ...tally.finish(), files: [], lines: null, callbacks: null, channel: null, since: null, until: null,
          });
        }
      });
    }

    // The read API's message from part rows, byte for byte lookup's fold of the reports, in every case
    // the rows can say it; the others (out of order, parts disagreeing, pruned) fall back to the fold.
    for (const [seed, inOrder] of [[4, true], [5, true], [6, false]] as const) {
      it(`answers a message from its part rows exactly as lookup folds its reports (seed ${seed}, ${inOrder ? "in order" : "out of order"})`, async () => {
        const url = await engine.url();
        const store = await open(url);
        const rnd = random(seed * 31);
        let reports = randomReports(seed, 300).map((entry, i) => {
          // Viber-like reports named by their trackingId only, and parts that mostly agree on their country.
          const viber = i % 7 === 0;
          return {
            ...entry,
            ...(viber ? { channel: "viber" as const, messageId: null, smsId: null, trackingId: `t-${entry.messageId}` } : {}),
            country: rnd() < 0.9 ? `C${entry.messageId!.length % 2}` : entry.country,
          };
        });
        if (inOrder) reports = reports.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
        for (let i = 0; i < reports.length; ) await store.write(reports.slice(i, (i += 1 + Math.floor(rnd() * 30))).map(received));
        const reader = new SqlStatus(store.sql, engine.name, engine.name, engine.name === "sqlite" ? url.slice("sqlite://".length) : undefined);
        const ids = new Set<string>(["nothing"]);
        for (const e of reports) for (const id of [e.messageId, e.smsId, e.trackingId]) if (id !== null) ids.add(id);
        const compare = async () => {
          for (const id of ids) {
            const found = await reader.lookup(id, "all");
            expect(JSON.stringify(await reader.message(id))).toBe(JSON.stringify(found && { message: found.message }));
          }
        };
        await compare();
        if (inOrder) expect(reader.answered.fromParts).toBeGreaterThan(reader.answered.fromReports);
        else expect(reader.answered.fromReports).toBeGreaterThan(0);
        // A prune leaves lookup only the reports kept: the answer is still lookup's.
        const cut = [...reports].sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : 1))[150]!.receivedAt;
        await pruneReports(store.sql, cut);
        // The view's reader sees what another connection wrote from the next event-loop turn on.
        await new Promise((resolve) => setImmediate(resolve));
        await compare();
        reader.close();
      });
    }

    it("answers lookup and report as the log reader does on the same reports", async () => {
      // What the server logs: the fixture without its junk line and its duplicate (never logged twice).
      const lines = FIXTURE_LINES.filter((line, i) => parseEntry(line) !== null && FIXTURE_LINES.indexOf(line) === i);
      const log = join(dir, `fixture-${engine.name}.log`);
      writeFixture(log, lines);
      const store = await open();
      for (const line of lines) await store.write([received(parseEntry(line)!)]);
      const fromLog = new LogStatus([log]);
      const fromDb = store.status();
      const queries = [
        {},
        { channel: "all" as const },
        { since: "2024-05-01T11:00:00.000Z", until: "2024-05-01T14:00:30.000Z" },
        ...(["status", "country", "operator", "campaign", "label"] as const).map((by) => ({ by })),
        { since: "2024-05-01T12:00:30.000Z", by: "operator" as const },
      ];
      for (const query of queries) {
        const [a, b] = [await fromLog.report(query), await fromDb.report(query)];
        expect({ ...b, files: a.files }).toEqual(a);
      }
      for (const id of ["m1", "m2", "m3", "m3-2", "m4", "m5", "m6", "m7", "c1", "nothing"])
        expect(await fromDb.lookup(id)).toEqual(await fromLog.lookup(id));
    });

    // The rollup is SQLite's (PostgreSQL has no such migration): the test exists for SQLite only, never skipped.
    if (engine.name === "sqlite") it("builds the report's rollup and the read API's columns when a version 1 database migrates, with the log reader's answers", async () => {
      const lines = FIXTURE_LINES.filter((line, i) => parseEntry(line) !== null && FIXTURE_LINES.indexOf(line) === i);
      const log = join(dir, "fixture-v1.log");
      writeFixture(log, lines);
      const url = `sqlite://${join(dir, "v1.db")}`;
      const store = await open(url);
      for (const line of lines) await store.write([received(parseEntry(line)!)]);
      // What a database of version 1 holds: the part rows, no rollup, no sequence (version 3).
      await store.sql.unsafe("DROP TABLE sms_status_rollup");
      for (const table of ["sms_status_reports", "sms_status_messages"]) await store.sql.unsafe(`ALTER TABLE ${table} DROP COLUMN sequence`);
      for (const column of ["provider", "first_received_at", "last_received_at"]) await store.sql.unsafe(`ALTER TABLE sms_status_messages DROP COLUMN ${column}`);
      await store.sql`UPDATE sms_status_schema SET version = 1`;
      expect(await migrate(store.sql, "sqlite")).toBe(1);
      // Version 3's columns, filled in: the read API answers every message as lookup does.
      const reader = store.status();
      for (const id of ["m1", "m2", "m3", "m3-2", "m4", "m5", "m6", "m7", "c1", "nothing"]) {
        const found = await reader.lookup(id, "all");
        expect(JSON.stringify(await reader.message(id))).toBe(JSON.stringify(found && { message: found.message }));
      }
      expect(reader.answered.fromParts).toBeGreaterThan(0);
      const fromLog = new LogStatus([log]);
      for (const query of [{}, ...(["status", "country", "operator", "campaign", "label"] as const).map((by) => ({ by }))]) {
        const [a, b] = [await fromLog.report(query), await store.status().report(query)];
        expect({ ...b, files: a.files }).toEqual(a);
      }
    });

    it("applies a batch from the log with its position, exactly once", async () => {
      const store = await open();
      const entries = [reportEntry(routeeReport()), reportEntry(routeeReport())];
      expect(await store.position()).toBeNull();
      expect(await store.applyBatch(entries, '{"offset":100}')).toEqual([true, true]);
      expect(await store.position()).toBe('{"offset":100}');
      // Replayed after a crash: nothing twice, the position moves on.
      expect(await store.applyBatch(entries, '{"offset":200}')).toEqual([false, false]);
      expect(await store.position()).toBe('{"offset":200}');
      const [{ n }] = await store.sql`SELECT COUNT(*) AS n FROM sms_status_reports`;
      expect(Number(n)).toBe(2);
    });

    it("lets the receiver answer a retry on another replica as a duplicate", async () => {
      const url = await engine.url();
      const replicas = [await open(url, { replica: "a" }), await open(url, { replica: "b" })].map((store) =>
        createReceiver({ provider: routee, store, bodyLimit: 65536, duplicates: null, metrics: new Metrics() }),
      );
      const body = routeeReport();
      const first = await replicas[0]!.handle(post("http://x/", body), null);
      const retry = await replicas[1]!.handle(post("http://x/", body), null);
      expect([first.status, retry.status]).toEqual([200, 200]);
      expect(((await first.json()) as any).duplicate).toBeUndefined();
      expect(((await retry.json()) as any).duplicate).toBe(true);
      const bad = await replicas[1]!.handle(post("http://x/", "{oops"), null);
      expect(bad.status).toBe(400);
      const kinds = await opened.at(-1)!.sql`SELECT kind FROM sms_status_reports ORDER BY id`;
      expect(kinds.map((r: any) => r.kind)).toEqual(["dlr", "rejected"]);
    });
  });
}

describe("the SQLite view's writer", () => {
  for (const seed of [1, 2, 3]) {
    it(`builds the same rows as the store's upsert, batch by batch (seed ${seed})`, async () => {
      const reports = randomReports(seed, 400);
      const byUpsert = await openSqlStore(`sqlite://${join(dir, `upsert-${seed}.sqlite`)}`);
      const file = join(dir, `writer-${seed}.sqlite`);
      const store = await openSqlStore(`sqlite://${file}`);
      const writer = new ViewWriter(file);
      const rnd = random(seed * 101);
      for (let i = 0; i < reports.length; ) {
        const batch = reports.slice(i, (i += 1 + Math.floor(rnd() * 40)));
        // A batch with a part's reports folded in memory answers as the upsert, report by report.
        expect(writer.apply(batch, `{"offset":${i}}`)).toEqual(await byUpsert.applyBatch(batch, `{"offset":${i}}`));
      }
      writer.close();
      for (const table of ["sms_status_messages ORDER BY message_id, part_key", "sms_status_reports ORDER BY id", "sms_status_position"])
        expect(await store.sql.unsafe(`SELECT * FROM ${table}`)).toEqual(await byUpsert.sql.unsafe(`SELECT * FROM ${table}`));
      await Promise.all([store.close(), byUpsert.close()]);
    });
  }
});

describe.skipIf(!pg)("SQL store on postgres, failing", () => {
  it("rejects a write that cannot commit within its timeout (503 with Retry-After), then recovers", async () => {
    const url = await pg!.createDatabase("locked");
    const store = await openSqlStore(url, { timeoutMs: 300 });
    const receiver = createReceiver({ provider: routee, store, bodyLimit: 65536, duplicates: null, metrics: new Metrics() });
    const blocker = new SQL(url, { max: 1 });
    let release!: () => void;
    let locked!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const isLocked = new Promise<void>((r) => (locked = r));
    const locking = blocker.begin(async (tx) => {
      await tx`LOCK TABLE sms_status_reports IN ACCESS EXCLUSIVE MODE`;
      locked();
      await held;
    });
    // The write below must meet the lock: wait until the other transaction holds it.
    await isLocked;
    const res = await receiver.handle(post("http://x/", routeeReport()), null);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    expect(store.healthy).toBe(false);
    // The write was cancelled on the server: it is not waiting behind the lock to commit later
    // (were it not cancelled, this waits until the test times out).
    const watcher = new SQL(url, { max: 1 });
    const waiting = () => watcher`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%INSERT INTO sms_status_reports%' AND state = 'active' AND pid <> pg_backend_pid()`;
    while ((await waiting())[0].n > 0) await Bun.sleep(20);
    release();
    await locking;
    await blocker.close();
    expect((await watcher`SELECT count(*)::int AS n FROM sms_status_reports`)[0].n).toBe(0);
    await watcher.close();
    const ok = await receiver.handle(post("http://x/", routeeReport()), null);
    expect(ok.status).toBe(200);
    expect(store.healthy).toBe(true);
    await store.close();
  });

  it("turns unhealthy while PostgreSQL is down and reconnects by itself when it is back", async () => {
    const url = await pg!.createDatabase("restart");
    const store = await openSqlStore(url, { timeoutMs: 1000 });
    expect(await store.write([received(reportEntry(routeeReport()))])).toEqual([true]);
    await pg!.halt();
    await expect(store.write([received(reportEntry(routeeReport()))])).rejects.toThrow();
    expect(store.healthy).toBe(false);
    expect(await store.probe()).toBe(false);
    await pg!.start();
    // The probe backs off (at most 5 s between tries): ask until it reconnects.
    let healthy = false;
    for (let i = 0; i < 40 && !healthy; i++) {
      healthy = await store.probe();
      if (!healthy) await Bun.sleep(250);
    }
    expect(healthy).toBe(true);
    expect(await store.write([received(reportEntry(routeeReport()))])).toEqual([true]);
    await store.close();
  });
});
