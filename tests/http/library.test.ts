import { describe, expect, it, spyOn } from "bun:test";
import { join } from "node:path";
import { Elysia, t } from "elysia";
import { FileJournal, smsStatus } from "../../src/index.ts";
import { json, logEntries, openFdsTo, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir();
let n = 0;
const freshLog = () => join(dir, `status-${++n}.log`);
const URL = "http://localhost/sms/status";

describe("the plugin inside a host app", () => {
  it("adds no hooks to the host's own routes", async () => {
    const log = freshLog();
    const app = new Elysia()
      .use(smsStatus({ log }))
      .post("/users", ({ body }) => ({ created: body.name }), { body: t.Object({ name: t.String() }) })
      .get("/boom", function boom() {
        throw new Error("host failure");
      });

    const ok = await app.handle(post("http://localhost/users", { name: "ada" }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ created: "ada" });

    // The host's validation and parse errors keep Elysia's answers and are not logged as reports.
    const invalid = await app.handle(post("http://localhost/users", { name: 42 }));
    expect(invalid.status).toBe(422);
    expect((await json(invalid)).error).toBeUndefined();
    const malformed = await app.handle(post("http://localhost/users", "{not json"));
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).not.toContain("invalid_json");
    const boom = await app.handle(new Request("http://localhost/boom"));
    expect(boom.status).toBe(500);
    expect(await boom.text()).toBe("host failure");
    expect(await logEntries(log)).toEqual([]);

    // The plugin's own route still works beside them.
    expect((await app.handle(post(URL, routeeReport()))).status).toBe(200);
    expect((await logEntries(log)).length).toBe(1);
  });

  it("leaves the host's onError in charge of the host's routes", async () => {
    const app = new Elysia()
      .onError(function hostError({ code }) {
        return new Response(`host handled ${code}`, { status: 418 });
      })
      .use(smsStatus({ log: freshLog() }))
      .post("/things", () => "ok", { body: t.Object({ a: t.Number() }) });
    const res = await app.handle(post("http://localhost/things", { a: "x" }));
    expect(res.status).toBe(418);
    expect(await res.text()).toBe("host handled VALIDATION");
  });
});

describe("registering twice", () => {
  it("registers once with the same options and holds the log open once", async () => {
    // Bun's writer holds a second descriptor of its own, so compare with a single registration.
    const single = freshLog();
    const once = new Elysia().use(smsStatus({ log: single }));
    expect((await once.handle(post(URL, routeeReport()))).status).toBe(200);

    const log = freshLog();
    const options = { log, healthPath: false as const };
    const app = new Elysia().use(smsStatus(options)).use(smsStatus(options));
    expect(app.routes.filter((r) => r.path === "/sms/status").length).toBe(1);
    expect((await app.handle(post(URL, routeeReport()))).status).toBe(200);
    // Counted before reading the log: Bun.file().text() may hold a descriptor of its own for a while.
    expect(openFdsTo(log)).toBe(openFdsTo(single));
    expect((await logEntries(log)).length).toBe(1);
  });

  it("registers once when the same hook function is given twice", async () => {
    const calls: string[] = [];
    const onReport = (entry: { messageId: string | null }) => void calls.push(entry.messageId!);
    const log = freshLog();
    const app = new Elysia().use(smsStatus({ log, onReport })).use(smsStatus({ log, onReport }));
    const report = routeeReport();
    expect((await app.handle(post(URL, report))).status).toBe(200);
    // Hooks start in order: once the next report's call is seen, a second call for the first would be too.
    const next = routeeReport();
    expect((await app.handle(post(URL, next))).status).toBe(200);
    for (let i = 0; i < 100 && !calls.includes(next.messageId as string); i++) await Bun.sleep(10);
    expect(calls).toEqual([report.messageId as string, next.messageId as string]);
  });

  it("does not open the log until the first report", () => {
    const log = freshLog();
    smsStatus({ log });
    expect(openFdsTo(log)).toBe(0);
  });

  it("still fails at once on a log that cannot be opened", () => {
    expect(() => smsStatus({ log: "/proc/no-such-dir/status.log" })).toThrow(/cannot open log file/);
  });
});

describe("stopping", () => {
  it("closes the journal it opened when the app stops", async () => {
    const log = freshLog();
    const app = new Elysia().use(smsStatus({ log })).listen({ port: 0, hostname: "127.0.0.1" });
    const res = await fetch(`http://127.0.0.1:${app.server!.port}/sms/status`, {
      method: "POST",
      body: JSON.stringify(routeeReport()),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(openFdsTo(log)).toBeGreaterThan(0);
    await app.stop();
    // Elysia's Bun adapter does not await onStop hooks: give the close a moment.
    for (let i = 0; i < 50 && openFdsTo(log) > 0; i++) await Bun.sleep(10);
    expect(openFdsTo(log)).toBe(0);
  });

  it("leaves a journal passed in open (it is the caller's)", async () => {
    const log = freshLog();
    const journal = new FileJournal(log);
    const close = spyOn(journal, "close");
    const app = new Elysia().use(smsStatus({ journal })).listen({ port: 0, hostname: "127.0.0.1" });
    // app.stop() calls every onStop hook before it resolves (without awaiting them): a close would be seen.
    await app.stop();
    expect(close).not.toHaveBeenCalled();
    close.mockRestore();
    await journal.append('{"still":"open"}\n');
    expect(await logEntries(log)).toEqual([{ still: "open" }]);
    await journal.close();
  });
});
