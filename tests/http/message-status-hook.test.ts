import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { Elysia } from "elysia";
import { smsStatus, type LogEntry, type MessageStatus, type SmsStatusOptions } from "../../src/index.ts";
import { ROUTEE_CALLBACKS } from "../helpers/routee-callbacks.ts";
import { post, routeeReport, status, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir();
let n = 0;
const URL = "http://localhost/sms/status";

interface Call {
  message: MessageStatus;
  previous: MessageStatus | null;
  entry: LogEntry;
}

/** An app whose onMessageStatus records its calls; `log` to share a log between two apps. */
function appWith(options: SmsStatusOptions = {}, log = join(dir, `status-${++n}.log`)) {
  const calls: Call[] = [];
  const app = new Elysia().use(
    smsStatus({ log, onMessageStatus: (message, previous, entry) => void calls.push({ message, previous, entry }), ...options }),
  );
  /** POST a report and expect 200. */
  const send = async (report: Record<string, unknown>) => expect((await app.handle(post(URL, report))).status).toBe(200);
  /**
   * Every call for the reports sent so far has been made: hooks start in the order reports are
   * written, so once a fresh message's call is seen, any call for an earlier report was seen too.
   */
  const settled = async () => {
    const marker = routeeReport();
    await send(marker);
    await until(() => calls.some((c) => c.message.messageId === marker.messageId));
    calls.splice(calls.findIndex((c) => c.message.messageId === marker.messageId), 1);
  };
  return { app, log, calls, send, settled };
}

/** Part `part` of a 2-part message `id`, with status `name` at second `second`. */
function part(id: string, part: number, name: string, second = 10, parts = 2) {
  const date = `2024-05-01T10:00:${String(second).padStart(2, "0")}Z`;
  return routeeReport({ messageId: id, smsId: `${id}-s${part}`, part, parts, status: status(name, date) });
}

const summary = (c: Call) => ({
  outcome: c.message.outcome,
  status: c.message.status,
  previous: c.previous?.outcome ?? null,
});

describe("onMessageStatus", () => {
  it("reports a 2-part message delivered only once both parts are", async () => {
    const { calls, send, settled } = appWith();
    await send(part("m2", 1, "Delivered"));
    await settled();
    expect(calls.map(summary)).toEqual([{ outcome: "pending", status: "(parts missing)", previous: null }]);
    await send(part("m2", 2, "Delivered"));
    await settled();
    expect(calls.map(summary)[1]).toEqual({ outcome: "delivered", status: "Delivered", previous: "pending" });
    expect(calls[1]!.message.partStatuses.map((p) => p.outcome)).toEqual(["delivered", "delivered"]);
    expect(calls[1]!.message.cost).toBe(0.072);
    expect(calls[1]!.entry.smsId).toBe("m2-s2");
  });

  it("reports a Viber message, which has no messageId, by its trackingId", async () => {
    const { calls, send, settled } = appWith();
    const viber = ROUTEE_CALLBACKS.find((c) => c.name === "Viber message status")!.body;
    await send(viber);
    await settled();
    expect(calls.map((c) => [c.message.messageId, c.message.channel, c.message.outcome])).toEqual([[String(viber.trackingId), "viber", "delivered"]]);
  });

  it("calls nothing for a late Sent after Delivered, a duplicate or a rejected body", async () => {
    const { app, calls, send, settled } = appWith();
    const delivered = part("m1", 1, "Delivered", 20, 1);
    await send(delivered);
    await send(part("m1", 1, "Sent", 30, 1)); // later date, but not final: changes nothing
    await send(delivered); // Routee's retry: a duplicate
    expect((await app.handle(post(URL, "{nope"))).status).toBe(400);
    expect((await app.handle(post(URL, { messageId: "m9", price: "abc" }))).status).toBe(422);
    await settled();
    expect(calls.map(summary)).toEqual([{ outcome: "delivered", status: "Delivered", previous: null }]);
  });

  it("calls on each change of status name while pending", async () => {
    const { calls, send, settled } = appWith();
    await send(part("q", 1, "Queued", 1, 1));
    await send(part("q", 1, "Sent", 2, 1));
    await send(part("q", 1, "Delivered", 3, 1));
    await settled();
    expect(calls.map((c) => `${c.previous?.status ?? null}->${c.message.status}`)).toEqual([
      "null->Queued",
      "Queued->Sent",
      "Sent->Delivered",
    ]);
  });

  it("makes the message failed when one part fails, whatever the other part says", async () => {
    const { calls, send, settled } = appWith();
    await send(part("f", 1, "Delivered"));
    await send(part("f", 2, "Undelivered"));
    await send(part("f", 2, "Sent", 40)); // a late Sent does not undo the failure
    await settled();
    expect(calls.map(summary)).toEqual([
      { outcome: "pending", status: "(parts missing)", previous: null },
      { outcome: "failed", status: "Undelivered", previous: "pending" },
    ]);
  });

  it("remembers the parts stored before a restart (a new plugin on the same log)", async () => {
    const before = appWith({ onMessageStatus: undefined });
    await before.send(part("r", 1, "Delivered"));
    const after = appWith({}, before.log);
    await after.send(part("r", 1, "Delivered")); // a retry across the restart: still a duplicate
    await after.send(part("r", 2, "Delivered"));
    await after.settled();
    expect(after.calls.map(summary)).toEqual([{ outcome: "delivered", status: "Delivered", previous: "pending" }]);
  });

  it("forgets the message reported least recently beyond maxMessages; its next report starts it afresh", async () => {
    const { calls, send, settled } = appWith({ maxMessages: 2 });
    await send(part("old", 1, "Delivered"));
    await send(part("new", 1, "Delivered"));
    await settled(); // the marker is a third message: "old" is evicted
    await send(part("old", 2, "Delivered"));
    await settled();
    const last = calls.at(-1)!;
    expect(summary(last)).toEqual({ outcome: "pending", status: "(parts missing)", previous: null });
    expect(last.message.partStatuses.map((p) => p.key)).toEqual(["old-s2"]);
  });

  it("passes a hook that throws to onHookError with the entry", async () => {
    const errors: { message: string; entry: LogEntry; hook: string }[] = [];
    const { send } = appWith({
      onMessageStatus: () => {
        throw new Error("db down");
      },
      onHookError: (error, entry, hook) => void errors.push({ message: (error as Error).message, entry, hook }),
    });
    const report = part("e", 1, "Delivered", 10, 1);
    await send(report);
    await until(() => errors.length === 1);
    expect(errors[0]!.hook).toBe("onMessageStatus");
    expect(errors[0]!.message).toBe("db down");
    expect(errors[0]!.entry.messageId).toBe("e");
  });

  it("refuses a maxMessages that is not a positive whole number", () => {
    expect(() => smsStatus({ log: join(dir, "bad.log"), maxMessages: 0 })).toThrow(
      "elysia-sms-status: maxMessages must be a positive whole number (got 0)",
    );
  });
});

describe("onMessageStatus without duplicate detection", () => {
  it("still calls nothing for a retry, which changes nothing", async () => {
    const { calls, send, settled } = appWith({ dedupe: false });
    const report = part("d", 1, "Delivered", 10, 1);
    await send(report);
    await send(report);
    await settled();
    expect(calls.map(summary)).toEqual([{ outcome: "delivered", status: "Delivered", previous: null }]);
  });
});
