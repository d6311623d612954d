import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { DuplicateFilter } from "../../src/journal/dedupe.ts";
import { duplicateKey } from "../../src/core/identity.ts";
import { routeeEntry } from "../../src/providers/routee/adapter.ts";
import { smsStatus } from "../../src/http/plugin.ts";
import { logEntries, post, reportEntry, reportLine, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("dedupe-");
let n = 0;

function server(log = join(dir, `status-${++n}.log`), options: Parameters<typeof smsStatus>[0] = {}) {
  const app = new Elysia().use(smsStatus({ log, ...options }));
  const send = async (body: unknown) => {
    const res = await app.handle(post("http://localhost/sms/status", body));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { app, log, send };
}

describe("duplicate reports", () => {
  it("answers a retried report 200 without writing it again", async () => {
    const { send, log } = server();
    const report = routeeReport();
    expect((await send(report)).body).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    expect(await send(report)).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    expect(await logEntries(log)).toHaveLength(1);
  });

  it("writes each new status of the same part, and each part of a multipart message", async () => {
    const { send, log } = server();
    const base = routeeReport({ parts: 2 });
    const queued = { ...base, status: { name: "Queued", updatedDate: "2019-07-05T10:28:40Z" } };
    const delivered = { ...base, status: { name: "Delivered", updatedDate: "2019-07-05T10:28:49Z" } };
    const part2 = { ...delivered, smsId: `${base.smsId}-2`, part: 2 };
    for (const r of [queued, delivered, part2, delivered, queued]) await send(r);
    expect((await logEntries(log)).map((e) => [e.status, e.part])).toEqual([
      ["Queued", 1],
      ["Delivered", 1],
      ["Delivered", 2],
    ]);
  });

  it("keys on messageId and part when there is no smsId", async () => {
    const { send, log } = server();
    const report = routeeReport({ smsId: null, part: 1 });
    await send(report);
    await send(report);
    await send({ ...report, part: 2 });
    expect(await logEntries(log)).toHaveLength(2);
  });

  it("writes a retry that arrives while the first copy is being written only once", async () => {
    const { send, log } = server();
    const report = routeeReport();
    const answers = await Promise.all([send(report), send(report), send(report)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.body.duplicate).length).toBe(2);
    expect(await logEntries(log)).toHaveLength(1);
  });

  it("remembers recent reports across a restart from the end of the log", async () => {
    const first = server();
    const report = routeeReport();
    await first.send(report);
    const second = server(first.log);
    expect((await second.send(report)).body).toEqual({ ok: true, duplicate: true });
    expect(await logEntries(first.log)).toHaveLength(1);
  });

  it("forgets reports older than the window when recovering", async () => {
    const log = join(dir, "old.log");
    const report = routeeReport();
    writeFileSync(log, reportLine(report, new Date(Date.now() - 49 * 3600_000)));
    const { send } = server(log);
    expect((await send(report)).body.duplicate).toBeUndefined();
  });

  it("writes every retry when turned off", async () => {
    const { send, log } = server(undefined, { dedupe: false });
    const report = routeeReport();
    await send(report);
    await send(report);
    expect(await logEntries(log)).toHaveLength(2);
  });
});

describe("keys never confuse two different reports", () => {
  const key = (o: Record<string, unknown>) => duplicateKey(reportEntry(routeeReport(o)));

  it("tells an smsId from a messageId and part, and values with separators in them apart", () => {
    expect(key({ smsId: "m#1" })).not.toBe(key({ smsId: null, messageId: "m", part: 1 }));
    const a = key({ smsId: "a\u0000b", status: { name: "c", updatedDate: "d" } });
    const b = key({ smsId: "a", status: { name: "b\u0000c", updatedDate: "d" } });
    expect(a).not.toBe(b);
  });

  it("does not remember keys with lone surrogates, which UTF-8 would merge", () => {
    const filter = new DuplicateFilter({ maxKeys: 10 });
    filter.add(key({ smsId: "\ud800" })!, 1);
    expect(filter.has(key({ smsId: "\udbff" })!, 2)).toBe(false);
    expect(filter.has(key({ smsId: "\ud800" })!, 2)).toBe(false);
  });
});

describe("DuplicateFilter", () => {
  it("never holds more than maxKeys, forgetting the oldest first", () => {
    const filter = new DuplicateFilter({ maxKeys: 3 });
    for (const key of ["a", "b", "c", "d"]) filter.add(key, 1000);
    expect(filter.size).toBe(3);
    expect(["a", "b", "c", "d"].map((k) => filter.has(k, 1000))).toEqual([false, true, true, true]);
  });

  it("stays bounded under a flood of unique keys", () => {
    const filter = new DuplicateFilter({ maxKeys: 1000 });
    for (let i = 0; i < 100_000; i++) filter.add(`k${i}`, i);
    expect(filter.size).toBe(1000);
    expect(filter.has("k99999", 100_000)).toBe(true);
    expect(filter.has("k98999", 100_000)).toBe(false);
  });

  it("forgets keys after the window", () => {
    const filter = new DuplicateFilter({ windowMs: 100 });
    filter.add("a", 1000);
    expect(filter.has("a", 1099)).toBe(true);
    expect(filter.has("a", 1100)).toBe(false);
    filter.add("b", 1200); // adding evicts expired keys from the front
    expect(filter.size).toBe(1);
  });

  it("keys a status report by channel, part, status and date, any other callback by its body, a rejected one not at all", () => {
    const at = new Date();
    const dlr = reportEntry(routeeReport({ smsId: "s1" }), at);
    expect(duplicateKey(dlr)).toBe("routee\u0000sms\u0000s2:s1\u00009:Delivered\u00002019-07-05T10:28:49Z");
    const campaign = duplicateKey(routeeEntry({ trackingId: "t", campaignStatus: "Sent" }, at));
    expect(campaign).toStartWith("routee\u0000campaign\u0000b:");
    expect(duplicateKey(routeeEntry({ trackingId: "t", campaignStatus: "Sent" }, new Date(0)))).toBe(campaign);
    expect(duplicateKey(routeeEntry({ trackingId: "t", campaignStatus: "Finished" }, at))).not.toBe(campaign);
    expect(duplicateKey({ ...dlr, kind: "rejected" })).toBeNull();
  });
});
