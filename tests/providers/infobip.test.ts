/**
 * Infobip SMS delivery reports against a real server: up to 100 reports per request stored
 * together (the 200 comes once all are written), every status's outcome, retries of a whole or
 * partly new batch, a late DELIVERED_TO_OPERATOR after DELIVERED_TO_HANDSET, and the token that
 * protects a provider that signs nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { logEntries, runCli, tempDir } from "../helpers/utils.ts";

const TOKEN = "infobip-test-token-0123456789";
const dir = tempDir("infobip-");
const log = join(dir, "status.log");
let server: RunningServer;
let url: string;

beforeAll(async () => {
  server = await startServer(
    parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--provider", "infobip", "--token", TOKEN], {}),
  );
  url = `http://127.0.0.1:${server.port}/sms/status/infobip?token=${TOKEN}`;
});
afterAll(() => server.stop());

const GROUPS: Record<string, [number, number]> = {
  PENDING_ENROUTE: [1, 7], DELIVERED_TO_OPERATOR: [3, 2], DELIVERED_TO_HANDSET: [3, 5],
  UNDELIVERABLE_REJECTED_OPERATOR: [2, 4], EXPIRED_EXPIRED: [4, 15], REJECTED_NETWORK: [5, 6],
};
const GROUP_NAMES = ["", "PENDING", "UNDELIVERABLE", "DELIVERED", "EXPIRED", "REJECTED"];

/** One report as Infobip's "Receive outbound SMS message report" shows it. */
function result(name: string, options: { id?: string; doneAt?: string; error?: boolean } = {}) {
  const [groupId, id] = GROUPS[name]!;
  return {
    bulkId: "BULK-ID-123-xyz",
    messageId: options.id ?? crypto.randomUUID(),
    to: "41793026727",
    sentAt: "2024-05-01T10:00:00.000+0000",
    doneAt: options.doneAt ?? "2024-05-01T10:00:04.000+0000",
    smsCount: 2,
    mccMnc: "22801",
    callbackData: "order-42",
    price: { pricePerMessage: 0.01, currency: "EUR" },
    status: { groupId, groupName: GROUP_NAMES[groupId], id, name, description: name.toLowerCase().replaceAll("_", " ") },
    error: options.error
      ? { groupId: 1, groupName: "HANDSET_ERRORS", id: 27, name: "EC_ABSENT_SUBSCRIBER", description: "Absent Subscriber", permanent: false }
      : { groupId: 0, groupName: "OK", id: 0, name: "NO_ERROR", description: "No Error", permanent: false },
  };
}

const send = (body: unknown, to = url) =>
  fetch(to, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("Infobip batches", () => {
  it("stores 100 reports of one request together, each with its fields, before answering 200", async () => {
    const results = Array.from({ length: 100 }, (_, i) => result(i % 2 ? "DELIVERED_TO_HANDSET" : "UNDELIVERABLE_REJECTED_OPERATOR"));
    const before = (await logEntries(log)).length;
    const res = await send({ results });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "failed" });
    const written = (await logEntries(log)).slice(before);
    expect(written.map((e) => e.messageId)).toEqual(results.map((r) => r.messageId));
    expect(written[0]).toMatchObject({ provider: "infobip", report: { results } });
    expect(written[1]).toMatchObject({
      kind: "dlr", channel: "sms", outcome: "delivered", final: true, status: "DELIVERED_TO_HANDSET", to: "41793026727",
      updatedDate: "2024-05-01T10:00:04.000+0000", price: 0.02, operator: "22801", label: "order-42", report: results[1],
    });
  });

  it("still refuses a body that costs more to parse than 100 reports (422 body_too_complex)", async () => {
    const res = await send({ results: Array.from({ length: 4200 }, () => ({})) });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "body_too_complex" });
  });

  it("answers a retried batch as a duplicate, and stores only the new reports of a partly new one", async () => {
    const old = [result("DELIVERED_TO_HANDSET"), result("PENDING_ENROUTE")];
    expect((await send({ results: old })).status).toBe(200);
    expect(await send({ results: old }).then((r) => r.json())).toEqual({ ok: true, duplicate: true });
    const before = (await logEntries(log)).length;
    const fresh = result("EXPIRED_EXPIRED");
    expect((await send({ results: [...old, fresh] })).status).toBe(200);
    expect((await logEntries(log)).slice(before).map((e) => e.messageId)).toEqual([fresh.messageId]);
  });

  it("answers 422 naming the report and field of the wrong type, and stores none of the batch", async () => {
    const bad = result("DELIVERED_TO_HANDSET") as Record<string, any>;
    bad.status.name = 5;
    const before = (await logEntries(log)).length;
    const res = await send({ results: [result("PENDING_ENROUTE"), bad] });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "invalid_report", field: "results.1.status.name" });
    expect((await logEntries(log)).slice(before).map((e) => e.kind)).toEqual(["rejected"]);
  });

  it("refuses a request without the token (401), so nothing from elsewhere is stored", async () => {
    const before = (await logEntries(log)).length;
    const res = await send({ results: [result("DELIVERED_TO_HANDSET")] }, url.replace(/\?.*/, ""));
    expect(res.status).toBe(401);
    expect(await logEntries(log)).toHaveLength(before);
  });
});

describe("Infobip statuses", () => {
  it.each([
    ["PENDING_ENROUTE", { outcome: "pending", final: false }],
    ["DELIVERED_TO_OPERATOR", { outcome: "pending", final: false }],
    ["DELIVERED_TO_HANDSET", { outcome: "delivered", final: true }],
    ["UNDELIVERABLE_REJECTED_OPERATOR", { outcome: "failed", final: true }],
    ["EXPIRED_EXPIRED", { outcome: "failed", final: true }],
    ["REJECTED_NETWORK", { outcome: "failed", final: true }],
  ])("%s is %o", async (name, expected) => {
    const report = result(name);
    expect((await send({ results: [report] })).status).toBe(200);
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === report.messageId);
    expect({ outcome: entry!.outcome, final: entry!.final }).toEqual(expected);
  });

  it("keeps the error's name and description on an undelivered report", async () => {
    const report = result("UNDELIVERABLE_REJECTED_OPERATOR", { error: true });
    await send({ results: [report] });
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === report.messageId);
    expect(entry).toMatchObject({ outcome: "failed", detailedStatus: "EC_ABSENT_SUBSCRIBER", description: "Absent Subscriber" });
  });

  it("keeps DELIVERED_TO_HANDSET when DELIVERED_TO_OPERATOR arrives after it", async () => {
    const id = crypto.randomUUID();
    await send({ results: [result("DELIVERED_TO_HANDSET", { id, doneAt: "2024-05-01T10:00:09.000+0000" })] });
    await send({ results: [result("DELIVERED_TO_OPERATOR", { id, doneAt: "2024-05-01T10:00:02.000+0000" })] });
    const found = (await new LogStatus([log]).lookup(id))!;
    expect(found.reports).toHaveLength(2);
    expect(found.message).toMatchObject({ outcome: "delivered", status: "DELIVERED_TO_HANDSET", cost: 0.02 });
    const printed = runCli(["lookup", id, log]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("DELIVERED_TO_HANDSET");
  });
});
