import { afterEach, describe, expect, it, spyOn } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { smsStatus, type HookName, type LogEntry, type SmsStatusOptions } from "../../src/index.ts";
import { post, routeeReport, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir();
let n = 0;
const URL = "http://localhost/sms/status";

function appWith(options: SmsStatusOptions) {
  const log = join(dir, `events-${++n}.log`);
  return { app: new Elysia().use(smsStatus({ log, ...options })), log };
}

const withStatus = (name: string) =>
  routeeReport({ status: { name, reason: { detailedStatus: name, description: "" }, updatedDate: "2019-07-05T10:28:49Z" } });

describe("onReport", () => {
  it("is called with the entry after it is in the log", async () => {
    const seen: { entry: LogEntry; logged: string }[] = [];
    const { app, log } = appWith({
      onReport: (entry) => void seen.push({ entry, logged: readFileSync(log, "utf8") }),
    });
    const report = routeeReport();
    expect((await app.handle(post(URL, report))).status).toBe(200);
    await until(() => seen.length === 1);
    expect(seen[0]!.entry.messageId).toBe(report.messageId as string);
    expect(seen[0]!.entry.outcome).toBe("delivered");
    expect(seen[0]!.logged).toContain(report.messageId as string);
  });

  it("is not called for a duplicate or a rejected body", async () => {
    const seen: LogEntry[] = [];
    const { app } = appWith({ onReport: (entry) => void seen.push(entry) });
    const report = routeeReport();
    await app.handle(post(URL, report));
    expect((await app.handle(post(URL, report))).status).toBe(200);
    expect((await app.handle(post(URL, "{nope"))).status).toBe(400);
    expect((await app.handle(post(URL, { messageId: "m", price: "abc" }))).status).toBe(422);
    // Hooks start in the order reports are written: once a later report's call is seen, any call
    // for the three above would have been seen before it.
    const later = routeeReport();
    expect((await app.handle(post(URL, later))).status).toBe(200);
    await until(() => seen.some((entry) => entry.messageId === later.messageId));
    expect(seen.map((entry) => entry.messageId)).toEqual([report.messageId as string, later.messageId as string]);
  });
});

describe("outcome hooks", () => {
  it("calls onDelivered and onFailed by outcome, beside onReport", async () => {
    const calls: string[] = [];
    const { app } = appWith({
      onReport: (e) => void calls.push(`report:${e.status}`),
      onDelivered: (e) => void calls.push(`delivered:${e.status}`),
      onFailed: (e) => void calls.push(`failed:${e.status}`),
    });
    for (const status of ["Delivered", "Undelivered", "Queued"]) await app.handle(post(URL, withStatus(status)));
    await until(() => calls.length === 5);
    expect(calls.sort()).toEqual(
      ["delivered:Delivered", "failed:Undelivered", "report:Delivered", "report:Queued", "report:Undelivered"].sort(),
    );
  });
});

describe("a failing or slow hook", () => {
  afterEach(() => {
    (console.error as unknown as { mockRestore?: () => void }).mockRestore?.();
  });

  it("never changes the 200 and is reported to onHookError", async () => {
    const errors: { error: unknown; entry: LogEntry; hook: HookName }[] = [];
    const { app } = appWith({
      onReport: () => {
        throw new Error("sync boom");
      },
      onDelivered: async () => {
        throw new Error("async boom");
      },
      onHookError: (error, entry, hook) => void errors.push({ error, entry, hook }),
    });
    const res = await app.handle(post(URL, routeeReport()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    await until(() => errors.length === 2);
    const byHook = Object.fromEntries(errors.map((e) => [e.hook, (e.error as Error).message]));
    expect(byHook).toEqual({ onReport: "sync boom", onDelivered: "async boom" });
    expect(errors[0]!.entry.kind).toBe("dlr");
  });

  // No clock needed: the hook never settles, so an answer that waited for it would never come and
  // the test would fail on its own timeout (short, so that such a failure is quick to see).
  it("never delays the answer when it never resolves", async () => {
    let started = 0;
    const { app } = appWith({
      onReport: () => {
        started += 1;
        return new Promise(() => {}); // never settles
      },
    });
    const answers = await Promise.all([1, 2, 3].map(() => app.handle(post(URL, routeeReport()))));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    await until(() => started === 3);
  }, 5_000);

  it("is reported on console.error with a clear prefix by default", async () => {
    const spy = spyOn(console, "error").mockImplementation(() => {});
    const { app } = appWith({
      onFailed: () => {
        throw new Error("db down");
      },
    });
    const report = withStatus("Failed");
    expect((await app.handle(post(URL, report))).status).toBe(200);
    await until(() => spy.mock.calls.length === 1);
    const [message, error] = spy.mock.calls[0]!;
    expect(message).toBe(`elysia-sms-status: onFailed hook failed for message ${report.messageId}:`);
    expect((error as Error).message).toBe("db down");
  });

  it("falls back to console.error when onHookError itself throws", async () => {
    const spy = spyOn(console, "error").mockImplementation(() => {});
    const { app } = appWith({
      onReport: () => {
        throw new Error("hook");
      },
      onHookError: () => {
        throw new Error("handler");
      },
    });
    expect((await app.handle(post(URL, routeeReport()))).status).toBe(200);
    await until(() => spy.mock.calls.length === 2);
    expect(String(spy.mock.calls[0]![0])).toStartWith("elysia-sms-status: onReport hook failed");
    expect((spy.mock.calls[0]![1] as Error).message).toBe("hook");
    expect(spy.mock.calls[1]![0]).toBe("elysia-sms-status: onHookError failed too:");
    expect((spy.mock.calls[1]![1] as Error).message).toBe("handler");
  });
});
