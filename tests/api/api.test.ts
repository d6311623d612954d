/**
 * The read API on each store: the file log (through a real server's --api-port), SQLite and a real
 * PostgreSQL (mounted in an app); its token rules, hostile query strings (400, never 500), paging
 * that stays stable while reports keep arriving, and the live stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Elysia } from "elysia";
import { statusApi } from "../../src/api/routes.ts";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { openSqlStore, SqlStatus, type SqlStore } from "../../src/store/sql/index.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";
import { reportEntry, reportLine, routeeReport, status, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir("api-");
const why: { reason?: string } = {};
const pg: Postgres | null = await startPostgres(why);
if (!pg) console.warn(`api.test.ts: PostgreSQL half skipped: ${why.reason}`);
afterAll(() => pg?.stop());

const API_TOKEN = "api-token-0123456789abcdef";
const CALLBACK_TOKEN = "callback-token-0123456789";

/** 2-part message m-N: part 1 delivered; part 2 `second` (or missing). */
function message(n: number, second: string | null, at = Date.UTC(2024, 4, 1, 10, 0, n)) {
  const reports = [routeeReport({ messageId: `m-${n}`, smsId: `m-${n}-1`, part: 1, parts: 2, label: n % 2 ? "otp" : "promo", to: `+3069000000${n % 10}`, status: status("Delivered", "2024-05-01T10:00:05Z") })];
  if (second) reports.push(routeeReport({ messageId: `m-${n}`, smsId: `m-${n}-2`, part: 2, parts: 2, label: n % 2 ? "otp" : "promo", status: status(second, "2024-05-01T10:00:06Z") }));
  return reports.map((r, i) => ({ report: r, at: new Date(at + i) }));
}

describe("the read API on the file log", () => {
  const log = join(dir, "file.log");
  let server: RunningServer;
  let api: string;
  beforeAll(async () => {
    const odd = { report: routeeReport({ messageId: "odd id/1?", smsId: "odd-1", status: status("Delivered", "2024-05-01T10:00:05Z") }), at: new Date(Date.UTC(2024, 4, 1, 10)) };
    writeFileSync(log, [...[1, 2, 3].flatMap((n) => message(n, n === 3 ? "Failed" : "Delivered")), odd].map(({ report, at }) => reportLine(report, at)).join(""));
    server = await startServer(parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--token", CALLBACK_TOKEN, "--api-port", "0", "--api-token", API_TOKEN, "--no-db"], {}));
    api = `http://127.0.0.1:${server.apiPort}`;
  });
  afterAll(() => server.stop());
  const get = (path: string, token: string | null = API_TOKEN) => fetch(api + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("answers a message by messageId or smsId, with its reports when asked, and 404 for an unknown id", async () => {
    const res = await get("/v1/messages/m-3");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: expect.objectContaining({ messageId: "m-3", outcome: "failed", parts: 2, channel: "sms" }) });
    const bySms = (await (await get("/v1/messages/m-1-2?reports=1")).json()) as any;
    expect(bySms.message).toMatchObject({ messageId: "m-1", outcome: "delivered", cost: expect.any(Number) });
    expect(bySms.reports).toHaveLength(2);
    expect((await get("/v1/messages/nope")).status).toBe(404);
  });

  it("answers the report as `report --json` does, and says that listing needs the database", async () => {
    const report = (await (await get("/v1/report?by=label")).json()) as any;
    const expected = JSON.parse(JSON.stringify(await new LogStatus([log]).report({ by: "label" })));
    expect(report).toEqual(expected);
    const list = await get("/v1/messages");
    expect(list.status).toBe(501);
    expect(((await list.json()) as any).error).toBe("needs_database");
  });

  it("requires its own token: none, a wrong one, and the callback token are 401", async () => {
    for (const path of ["/v1/report", "/v1/messages/m-1"])
      for (const token of [null, "wrong-token-0123456789", CALLBACK_TOKEN]) expect((await get(path, token)).status).toBe(401);
  });

  it("finds an id with a space, a slash and a question mark when it is percent-encoded", async () => {
    const res = await get(`/v1/messages/${encodeURIComponent("odd id/1?")}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).message).toMatchObject({ messageId: "odd id/1?", outcome: "delivered" });
  });

  it.each([
    ["/v1/report?since=yesterday"], ["/v1/report?since=2024-05-02&until=2024-05-01"], ["/v1/report?by=phone"], ["/v1/report?channel=fax"],
    ["/v1/messages?limit=0"], ["/v1/messages?limit=-1"], ["/v1/messages?limit=1e9"], ["/v1/messages?outcome=unknown"],
    ["/v1/messages?cursor=%00%ff"], [`/v1/messages?label=${"x".repeat(300)}`], [`/v1/messages/${"x".repeat(300)}`],
    ["/v1/events?kind=%E2%80%A8"], ["/v1/report?since=%ZZ"],
  ])("answers 400, never 500, for %s", async (path) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe("invalid_query");
  });

  it("streams new entries, and a client that reconnects with Last-Event-ID gets every later entry exactly once", async () => {
    const read = async (headers: Record<string, string>, want: number) => {
      const controller = new AbortController();
      const res = await fetch(api + "/v1/events?channel=sms", { headers: { authorization: `Bearer ${API_TOKEN}`, ...headers }, signal: controller.signal });
      expect(res.headers.get("content-type")).toStartWith("text/event-stream");
      const reader = res.body!.getReader();
      const events: { id: string; smsId: string }[] = [];
      let text = "";
      return {
        events,
        async until() {
          while (events.length < want) {
            const { value, done } = await reader.read();
            if (done) break;
            text += new TextDecoder().decode(value);
            let end: number;
            while ((end = text.indexOf("\n\n")) >= 0) {
              const block = text.slice(0, end);
              text = text.slice(end + 2);
              const id = /^id: (.*)$/m.exec(block)?.[1];
              const data = /^data: (.*)$/m.exec(block)?.[1];
              if (id && data) events.push({ id, smsId: JSON.parse(data).smsId });
            }
          }
          controller.abort();
          return events.slice(0, want);
        },
      };
    };
    const post = (n: number) =>
      fetch(`http://127.0.0.1:${server.port}/sms/status?token=${CALLBACK_TOKEN}`, { method: "POST", body: JSON.stringify(routeeReport({ smsId: `live-${n}` })) });
    // The stream starts at the log's end as its answer starts: what is posted after it arrives.
    const first = await read({}, 3);
    for (const n of [1, 2, 3, 4, 5]) expect((await post(n)).status).toBe(200);
    const seen = await first.until();
    expect(seen.map((e) => e.smsId)).toEqual(["live-1", "live-2", "live-3"]);
    const resumed = await read({ "last-event-id": seen[2]!.id }, 2);
    expect((await resumed.until()).map((e) => e.smsId)).toEqual(["live-4", "live-5"]);
  });
});

describe("the read API's live stream and a client that never reads", () => {
  it("cuts the client off once its buffer is full, with the server's memory flat", async () => {
    const log = join(dir, "slow.log");
    writeFileSync(log, "");
    const app = new Elysia().use(statusApi({ reader: new LogStatus([log]), log, events: { pollMs: 10, maxBufferedBytes: 256 * 1024 } }));
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.handle, idleTimeout: 0 });
    // A socket that sends the request and does not read what comes back.
    const socket = connect(server.port!, "127.0.0.1");
    socket.pause();
    await new Promise((r) => socket.once("connect", r));
    socket.write("GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await Bun.sleep(100);
    const before = process.memoryUsage().rss;
    const line = reportLine(routeeReport({ message: "x".repeat(4000) }), new Date());
    for (let i = 0; i < 4000; i++) appendFileSync(log, line); // ~20 MB the client never reads
    // Long enough for the server to read the log many times over (it polls every 10 ms).
    await Bun.sleep(2000);
    Bun.gc(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
    // Now read: the stream was cut off, so its chunked body ends ("0\r\n\r\n"), well short of the 20 MB.
    let received = 0;
    let tail = "";
    const ended = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        tail = (tail + chunk.toString("latin1")).slice(-16);
        if (tail.endsWith("\r\n0\r\n\r\n")) resolve();
      }),
    );
    socket.resume();
    await ended;
    expect(received).toBeLessThan(12 << 20);
    socket.destroy();
    server.stop(true);
  });
});

interface EngineCase {
  name: string;
  open: () => Promise<SqlStore>;
}

const ENGINES: EngineCase[] = [
  { name: "sqlite", open: () => openSqlStore(`sqlite://${join(dir, `api-${Math.random().toString(36).slice(2)}.db`)}`) },
  ...(pg ? [{ name: "postgres", open: async () => openSqlStore(await pg.createDatabase(`api_${Math.random().toString(36).slice(2, 8)}`)) }] : []),
];

for (const engine of ENGINES) {
  describe(`the read API on ${engine.name}`, () => {
    it("pages messages newest first with a cursor that neither repeats nor skips while reports keep arriving, and filters by outcome, label and recipient", async () => {
      const store = await engine.open();
      const write = (n: number, second: string | null) =>
        store.write(message(n, second).map(({ report, at }) => ({ entry: reportEntry(report, at) })));
      for (let n = 1; n <= 30; n++) await write(n, n % 3 === 0 ? "Failed" : n % 3 === 1 ? "Delivered" : null);
      const app = new Elysia().use(statusApi({ reader: new SqlStatus(store.sql, engine.name as never) }));
      const get = async (path: string): Promise<any> => (await app.handle(new Request(`http://localhost${path}`))).json();

      const seen: string[] = [];
      let page = await get("/v1/messages?limit=7");
      seen.push(...page.messages.map((m: { messageId: string }) => m.messageId));
      expect(seen[0]).toBe("m-30");
      let round = 0;
      while (page.next) {
        // New messages and late reports for old ones arrive between pages.
        await write(100 + round, "Delivered");
        await write(2 + 3 * round, "Delivered");
        page = await get(`/v1/messages?limit=7&cursor=${page.next}`);
        seen.push(...page.messages.map((m: { messageId: string }) => m.messageId));
        round++;
      }
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `m-${30 - i}`));

      const failed = await get("/v1/messages?outcome=failed&limit=100");
      expect(failed.messages.map((m: { messageId: string }) => m.messageId)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${30 - 3 * i}`));
      const otp = await get("/v1/messages?label=otp&limit=100");
      expect(otp.messages.every((m: { label: string }) => m.label === "otp")).toBe(true);
      const to = await get("/v1/messages?to=%2B30690000007&limit=100");
      expect(to.messages.map((m: { messageId: string }) => m.messageId)).toEqual(["m-27", "m-17", "m-7"]);
      expect(await get("/v1/messages/m-29")).toEqual({ message: expect.objectContaining({ messageId: "m-29", outcome: "pending" }) });
      await store.close();
    });
  });
}

describe("the read API mounted by the plugin", () => {
  it("answers under the host app's prefix, from the plugin's log", async () => {
    const { smsStatus } = await import("../../src/http/plugin.ts");
    const log = join(dir, "plugin.log");
    const app = new Elysia().use(smsStatus({ log, api: { prefix: "/sms-api" } }));
    const report = routeeReport({ messageId: "plugin-1", smsId: "plugin-1-1" });
    expect((await app.handle(new Request("http://localhost/sms/status", { method: "POST", body: JSON.stringify(report) }))).status).toBe(200);
    const res = await app.handle(new Request("http://localhost/sms-api/v1/messages/plugin-1"));
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).message).toMatchObject({ messageId: "plugin-1", outcome: "delivered" });
    expect((await app.handle(new Request("http://localhost/v1/messages/plugin-1"))).status).toBe(404);
  });
});
