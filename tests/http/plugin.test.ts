import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import type { Journal } from "../../src/journal/file-journal.ts";
import { smsStatus } from "../../src/http/plugin.ts";
import { type SmsStatusOptions } from "../../src/http/options.ts";
import { logEntries, logLines, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("plugin-");
let n = 0;

function setup(options: SmsStatusOptions = {}) {
  const log = join(dir, `status-${++n}.log`);
  const app = new Elysia().use(smsStatus({ log, ...options }));
  const send = (body: unknown, headers: Record<string, string> = {}) =>
    app.handle(post(`http://localhost${options.path ?? "/sms/status"}`, body, headers));
  return { app, log, send };
}

describe("POST /sms/status", () => {
  it("answers 200 only once the entry is in the file", async () => {
    const { send, log } = setup();
    const report = routeeReport();
    const res = await send(report);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    // Read right after the answer, with no waiting: the bytes are already there.
    const [entry] = (await logEntries(log)) as [Record<string, unknown>];
    expect(entry).toMatchObject({ kind: "dlr", outcome: "delivered", final: true, messageId: report.messageId });
    expect(entry.report).toEqual(report);
  });

  it("classifies every kind of callback and records all of them", async () => {
    const { send, log } = setup();
    const bodies = [
      routeeReport({ status: { name: "DELIVERED" } }),
      routeeReport({ status: { name: "Undelivered", reason: { detailedStatus: "Unknown Number", description: "no such subscriber" } } }),
      routeeReport({ status: { name: "Queued" } }),
      routeeReport({ status: { name: "Brand New" } }),
      { trackingId: "c-1", campaignStatus: "Completed", totalRecipients: 3, name: "promo" },
      { hello: "not a report" },
    ];
    for (const body of bodies) expect((await send(body)).status).toBe(200);
    const entries = await logEntries(log);
    expect(entries.map((e) => [e.kind, e.outcome, e.final, e.status])).toEqual([
      ["dlr", "delivered", true, "DELIVERED"],
      ["dlr", "failed", true, "Undelivered"],
      ["dlr", "pending", false, "Queued"],
      ["dlr", "unknown", false, "Brand New"],
      ["campaign", "unknown", false, "Completed"],
      ["other", "unknown", false, null],
    ]);
    expect(entries[1]).toMatchObject({ detailedStatus: "Unknown Number", description: "no such subscriber" });
    expect(entries[4]!.campaignTrackingId).toBe("c-1");
  });

  it("accepts numbers as JSON numbers or numeric strings, and nulls for optional fields", async () => {
    const { send, log } = setup();
    expect((await send(routeeReport({ price: "0.036", part: "1", parts: "2", latency: " 3 " }))).status).toBe(200);
    expect((await send(routeeReport({ price: null, part: null, to: null, status: { name: "Sent", reason: null } }))).status).toBe(200);
    expect((await send({ messageId: "bare" })).status).toBe(200);
    const [a, b, c] = await logEntries(log);
    expect([a!.price, a!.part, a!.parts, a!.latency]).toEqual([0.036, 1, 2, 3]);
    expect([b!.price, b!.part, b!.to, b!.detailedStatus]).toEqual([null, null, null, null]);
    expect(c).toMatchObject({ kind: "dlr", messageId: "bare", outcome: "unknown", status: null });
  });

  it.each([
    [{ price: "abc" }, "price", "price must be a number or a numeric string"],
    [{ part: true }, "part", "part must be a number or a numeric string"],
    [{ to: 306948530920 }, "to", "to must be a string"],
    [{ groups: "all" }, "groups", "groups must be an array of strings"],
    [{ status: { name: 7 } }, "status.name", "status.name must be a string"],
    [{ status: { name: "Failed", reason: "x" } }, "status.reason", "status.reason must be an object"],
    [{ status: 7 }, "status", "status must be an object"],
    [{ status: { name: "Failed", reason: { detailedStatus: 1 } } }, "status.reason.detailedStatus", "status.reason.detailedStatus must be a string"],
  ])("answers 422 naming the field for %j and still logs the raw body", async (override, field, message) => {
    const { send, log } = setup();
    const body = JSON.stringify(routeeReport(override));
    const res = await send(body);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: "invalid_report", message, field });
    const [entry] = await logEntries(log);
    expect(entry).toMatchObject({ kind: "rejected", report: body, error: { reason: "invalid_report", field } });
  });

  it.each([["[1,2]"], ['"text"'], ["42"], ["null"]])("answers 422 for non-object JSON %s", async (body) => {
    const { send, log } = setup();
    const res = await send(body);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: "invalid_report", message: "the body must be a JSON object" });
    expect((await logEntries(log))[0]).toMatchObject({ kind: "rejected", report: body });
  });

  it.each([["{bad"], ['{"messageId":"m"'], [""]])("answers 400 for a body that is not JSON: %j", async (body) => {
    const { send, log } = setup();
    const res = await send(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_json", message: "the body is not valid JSON" });
    expect((await logEntries(log))[0]).toMatchObject({ kind: "rejected", report: body, error: { reason: "invalid_json" } });
  });

  it("parses JSON whatever the content type says", async () => {
    const { send } = setup();
    expect((await send(routeeReport(), { "content-type": "text/plain" })).status).toBe(200);
  });

  it("answers 413 over the body limit and logs nothing", async () => {
    const { send, log } = setup({ bodyLimit: 1024 });
    const res = await send(routeeReport({ message: "x".repeat(2000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: "body_too_large", message: "the body is larger than 1024 bytes" });
    expect(await logLines(log)).toEqual([]);
  });

  it("writes the text format when asked", async () => {
    const { send, log } = setup({ format: "text" });
    await send(routeeReport({ to: "+30", messageId: "m-1", price: 0.036 }));
    await send({ nothing: true });
    expect(readFileSync(log, "utf8")).toBe(
      "Your message to +30 (message id m-1) was DELIVERED.\nThe cost was 0.036\nThis is not a delivery receipt\n",
    );
  });

  it("uses the configured path", async () => {
    const { app, send } = setup({ path: "/hooks/routee" });
    expect((await send(routeeReport())).status).toBe(200);
    expect((await app.handle(post("http://localhost/sms/status", routeeReport()))).status).toBe(404);
  });

  it("rejects bad options at once with a message that names them", () => {
    expect(() => smsStatus({ format: "xml" as never })).toThrow('format must be one of jsonl, text (got "xml")');
    expect(() => smsStatus({ path: "sms" })).toThrow('path must start with "/"');
    expect(() => smsStatus({ bodyLimit: -1 })).toThrow("bodyLimit must be a positive whole number");
  });
});

/** A journal of someone else's (a database, say) whose append does what it is told. */
function stubJournal(append: Journal["append"]): Journal {
  return {
    append,
    healthy: true,
    lastError: null,
    stats: { batches: 0, entries: 0, bytes: 0, failures: 0 },
    probe: async () => true,
    reopen: async () => {},
    close: async () => {},
  };
}

describe("a journal of your own", () => {
  it("answers 503, never the journal's error text, when it fails to write", async () => {
    const failing = stubJournal(() => Promise.reject(new Error("connect ECONNREFUSED db.internal:5432 password=hunter2")));
    const errors: string[] = [];
    const original = console.error;
    console.error = (message: string) => errors.push(message);
    try {
      const app = new Elysia().use(smsStatus({ journal: failing }));
      for (const body of [routeeReport(), "{bad"]) {
        const res = await app.handle(post("http://localhost/sms/status", body));
        expect(res.status).toBe(503);
        const text = await res.text();
        expect(text).not.toContain("hunter2");
        expect(JSON.parse(text)).toEqual({ error: "log_unavailable", message: "the log cannot be written right now; retry later" });
      }
    } finally {
      console.error = original;
    }
    // The operator is told, once.
    expect(errors).toEqual([
      "elysia-sms-status: the journal could not write an entry: connect ECONNREFUSED db.internal:5432 password=hunter2",
    ]);
  });
});

describe("GET /healthz of an unhealthy store of your own", () => {
  it("answers 503 with an error code as it is, and never a longer message (a database's, with hosts)", async () => {
    for (const [lastError, shown] of [["ENOSPC", "ENOSPC"], ["the database cannot be reached: connect ECONNREFUSED db.internal:5432", "write failed"]]) {
      const journal: Journal = { ...stubJournal(() => Promise.resolve()), healthy: false, lastError: lastError as string, probe: async () => false };
      const app = new Elysia().use(smsStatus({ journal }));
      const res = await app.handle(new Request("http://localhost/healthz"));
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "unavailable", error: shown });
    }
  });
});

describe("a journal that throws instead of rejecting", () => {
  it("still answers 503", async () => {
    const throwing = stubJournal(() => {
      throw new Error("boom");
    });
    const original = console.error;
    console.error = () => {};
    try {
      const app = new Elysia().use(smsStatus({ journal: throwing }));
      expect((await app.handle(post("http://localhost/sms/status", routeeReport()))).status).toBe(503);
      expect((await app.handle(post("http://localhost/sms/status", "{bad"))).status).toBe(503);
    } finally {
      console.error = original;
    }
  });
});

describe("GET /healthz", () => {
  it("answers 200 while the log is writable", async () => {
    const { app } = setup();
    const res = await app.handle(new Request("http://localhost/healthz"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
