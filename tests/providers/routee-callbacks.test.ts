/**
 * Every callback Routee posts to one callback URL, against a real server: each is answered 200 and
 * logged once with its kind and channel, a retry is a duplicate, and the readers count only SMS
 * delivery reports as SMS messages.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { renderText } from "../../src/core/render.ts";
import { classify } from "../../src/providers/routee/classify.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { ROUTEE_CALLBACKS } from "../helpers/routee-callbacks.ts";
import { logEntries, runCli, tempDir } from "../helpers/utils.ts";

const dir = tempDir("callbacks-");
const log = join(dir, "status.log");
let server: RunningServer;
let url: string;

beforeAll(async () => {
  server = await startServer(parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log], {}));
  url = `http://127.0.0.1:${server.port}/sms/status`;
});
afterAll(() => server.stop());

const send = (body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("every Routee callback", () => {
  it.each(ROUTEE_CALLBACKS.map((f) => [f.name, f] as const))("%s: 200, logged once with its kind and channel, a retry is a duplicate", async (_name, fixture) => {
    const before = (await logEntries(log)).length;
    const first = await send(fixture.body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, kind: fixture.entry.kind!, outcome: fixture.entry.outcome ?? expect.any(String) });
    const written = (await logEntries(log)).slice(before);
    expect(written).toHaveLength(fixture.entries ?? 1);
    expect(written[0]).toMatchObject({ ...fixture.entry, provider: "routee", report: fixture.body });

    const retry = await send(fixture.body);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ ok: true, duplicate: true });
    expect(await logEntries(log)).toHaveLength(before + written.length);
  });

  it("gives a failover flow one dlr entry per message, on its own channel", async () => {
    const entries = await logEntries(log);
    const flow = entries.findIndex((e) => e.channel === "failover");
    expect(entries.slice(flow + 1, flow + 3)).toMatchObject([
      { kind: "dlr", channel: "viber", trackingId: "0a047b46-a4dd-4ca8-b817-a6a134dd1234", outcome: "failed", final: true },
      { kind: "dlr", channel: "sms", messageId: "82a91dc3-e842-41eb-86e5-07d55eb51234", outcome: "delivered", price: 0.036 },
    ]);
  });

  it("counts only SMS delivery reports as SMS messages, and inbound and campaign callbacks on lines of their own", async () => {
    const sms = await new LogStatus([log]).report({});
    // The plain, 2016 and pool reports, and the failover's SMS: nothing inbound, voice or Viber.
    expect({ messages: sms.messages, delivered: sms.delivered, failed: sms.failed, pending: sms.pending }).toEqual({
      messages: 4,
      delivered: 2,
      failed: 1,
      pending: 1,
    });
    expect(sms.callbacks).toMatchObject({ dlr: 4, inbound: 2, campaign: 1 });
    const voice = await new LogStatus([log]).report({ channel: "voice" });
    expect({ messages: voice.messages, delivered: voice.delivered, failed: voice.failed }).toEqual({ messages: 2, delivered: 1, failed: 1 });
    const all = await new LogStatus([log]).report({ channel: "all" });
    // 4 SMS, 2 Viber (one in the failover), 1 WhatsApp, 2 voice, 1 verification.
    expect(all.messages).toBe(10);

    const { code, stdout } = runCli(["report", "--log", log]);
    expect(code).toBe(0);
    expect(stdout).toContain("Callbacks: 4 delivery reports, 2 inbound messages, 1 campaign");
    expect(stdout).toMatch(/total\s+4/);
    expect(runCli(["report", "--channel", "fax", "--log", log]).code).toBe(2);
  });

  it("lookup finds a message by messageId, smsId or trackingId, and never shows an inbound message as an SMS", async () => {
    const status = new LogStatus([log]);
    const inbound = (await status.lookup("700bbc09-0556-4e86-bad1-215a8020e111"))!;
    expect(inbound.message).toBeNull();
    expect(inbound.reports.map((r) => r.kind)).toEqual(["inbound"]);
    const viber = (await status.lookup("0a047b46-a4dd-4ca8-b817-a6a134dd0001"))!;
    expect(viber.message).toMatchObject({ channel: "viber", outcome: "delivered", messageId: "0a047b46-a4dd-4ca8-b817-a6a134dd0001" });
    const bySmsId = (await status.lookup("f0e1d2c3-0001-4c56-b49a-9b70d25c1234"))!;
    expect(bySmsId.message).toMatchObject({ channel: "sms", messageId: "a1b2c3d4-0001-4e86-bad1-215a8020e111", outcome: "delivered" });
    expect(await status.lookup("a1b2c3d4-0001", "all")).toBeNull();

    const printed = runCli(["lookup", "700bbc09-0556-4e86-bad1-215a8020e111", log]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toStartWith("No delivery report names this id");
    expect(printed.stdout).not.toContain("PENDING");
    const call = runCli(["lookup", "9a6bd1e1-0002-4b8e-8c7f-7f3a1c000002", log]);
    expect(call.stdout).toStartWith("Voice call 9a6bd1e1-0002-4b8e-8c7f-7f3a1c000002: FAILED (Busy)");
  });

  it("tail shows SMS by default and another channel when asked", () => {
    const sms = runCli(["tail", "-n", "50", "--log", log]).stdout;
    expect(sms).toContain("a1b2c3d4-0001-4e86-bad1-215a8020e111");
    expect(sms).not.toContain("9a6bd1e1-0001");
    const voice = runCli(["tail", "-n", "50", "--channel", "voice", "--log", log]).stdout;
    expect(voice).toContain("voice  +306948530920  9a6bd1e1-0001-4b8e-8c7f-7f3a1c000001  Completed");
    expect(voice).not.toContain("a1b2c3d4-0001");
  });
});

describe("the text format for other callbacks", () => {
  it("says what each one is, and keeps the recipe's lines for SMS only", async () => {
    const lines = (await logEntries(log)).map((e) => renderText(e as never));
    expect(lines).toContain("Your message to +306948530920 (message id a1b2c3d4-0001-4e86-bad1-215a8020e111) was DELIVERED.\nThe cost was 0.036\n");
    expect(lines).toContain("Inbound SMS from +306999999999 to +306911111111 (message id 700bbc09-0556-4e86-bad1-215a8020e111): This is the actual body of the inbound message\n");
    expect(lines).toContain("Campaign Spring sale (tracking id c0ffee00-0001-4f00-8000-000000000001) is Running\n");
    expect(lines).toContain("Your voice call to +306948530920 (id 9a6bd1e1-0001-4b8e-8c7f-7f3a1c000001) has a status of: Completed\n");
    expect(lines).toContain("Failover flow 30830fad-21ed-49b0-89d0-bbada2fd5640 has a status of: Succeeded\n");
    expect(lines.filter((l) => l.includes("was DELIVERED") || l.includes("was FAILED"))).toHaveLength(3);
  });
});

describe("outcomes per channel", () => {
  it.each([
    ["viber", "SEEN", "delivered", true],
    ["viber", "Expired", "failed", true],
    ["viber", "Sent", "pending", false],
    ["whatsapp", "delivered", "delivered", true],
    ["whatsapp", "channelFailed", "failed", true],
    ["whatsapp", "accepted", "pending", false],
    ["whatsapp", "deleted", "unknown", false],
    ["voice", "Completed", "delivered", true],
    ["voice", "No Answer", "failed", true],
    ["voice", "NoAnswer", "failed", true],
    ["voice", "Ringing", "pending", false],
    ["verification", "Verified", "delivered", true],
    ["verification", "Cancelled", "failed", true],
    ["verification", "Pending", "pending", false],
  ] as const)("%s %p is %p (final: %p)", (channel, name, outcome, final) => {
    expect(classify(name, channel)).toEqual({ outcome, final });
  });
});
