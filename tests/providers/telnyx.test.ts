/**
 * Telnyx messaging webhooks against a real server: Ed25519 signatures checked with the public key
 * (a bad, missing or stale one is 401 and nothing is written), every status's outcome, retries and
 * late events, and the start-up rules for the key.
 *
 * The `telnyx` SDK verifies webhooks (TelnyxWebhook.verify) but has no signing function, so the
 * test signs as Telnyx does (Ed25519 over `timestamp|body`) and proves each signature with the
 * SDK's own verifier before sending it.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { generateKeyPairSync, sign } from "node:crypto";
import { join } from "node:path";
import { TelnyxWebhook } from "telnyx/lib/webhooks";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { TELNYX_STATUSES } from "../../src/providers/telnyx/classify.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { logEntries, runCli, tempDir } from "../helpers/utils.ts";

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
// The raw 32-byte key, base64, as the Telnyx portal shows it.
const PUBLIC_KEY = Buffer.from(publicKey.export({ format: "der", type: "spki" }).subarray(-32)).toString("base64");

const dir = tempDir("telnyx-");
const log = join(dir, "status.log");
let server: RunningServer;
let url: string;

beforeAll(async () => {
  const config = parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--provider", "telnyx"], {
    SMS_STATUS_TELNYX_PUBLIC_KEY: PUBLIC_KEY,
  });
  server = await startServer(config);
  url = `http://127.0.0.1:${server.port}/sms/status/telnyx`;
});
afterAll(() => server.stop());

/** A message event as Telnyx's docs show it (developers.telnyx.com, "Receiving Webhooks for Messaging"). */
function event(status: string, options: { id?: string; type?: string; at?: string; errors?: unknown[] } = {}) {
  const type = options.type ?? (["queued", "sending", "sent"].includes(status) ? "message.sent" : "message.finalized");
  return {
    data: {
      event_type: type,
      id: crypto.randomUUID(),
      occurred_at: options.at ?? "2024-05-01T10:00:01.148+00:00",
      payload: {
        completed_at: type === "message.finalized" ? "2024-05-01T10:00:01.148+00:00" : null,
        cost: { amount: "0.0051", currency: "USD" },
        direction: "outbound",
        encoding: "GSM-7",
        errors: options.errors ?? [],
        from: { carrier: "TELNYX LLC", line_type: "VoIP", phone_number: "+18445550001" },
        id: options.id ?? crypto.randomUUID(),
        messaging_profile_id: "4000eba1-a0c0-4563-9925-b25e842a7cb6",
        parts: 1,
        record_type: "message",
        sent_at: "2024-05-01T10:00:00.512+00:00",
        text: "Hello, World!",
        to: [{ carrier: "T-MOBILE USA, INC.", line_type: "Wireless", phone_number: "+18665550001", status }],
        type: "SMS",
      },
      record_type: "event",
    },
    meta: { attempt: 1, delivered_to: "https://example.com/sms/status/telnyx" },
  };
}

/** Sign as Telnyx does, and check with the SDK's verifier that it is what Telnyx's clients accept. */
async function signed(body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<Record<string, string>> {
  const headers = {
    "content-type": "application/json",
    "telnyx-timestamp": String(timestamp),
    "telnyx-signature-ed25519": sign(null, Buffer.from(`${timestamp}|${body}`), privateKey).toString("base64"),
  };
  if (Math.abs(Date.now() / 1000 - timestamp) <= 300) await new TelnyxWebhook(PUBLIC_KEY).verify(body, headers);
  return headers;
}

async function send(body: unknown, headers?: Record<string, string>) {
  const text = JSON.stringify(body);
  return fetch(url, { method: "POST", headers: headers ?? (await signed(text)), body: text });
}

describe("Telnyx signatures", () => {
  it("stores a message.finalized event signed with the account's key, with its fields", async () => {
    const body = event("delivered", { id: "40385f64-5717-4562-b3fc-2c963f66afa6" });
    const res = await send(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === "40385f64-5717-4562-b3fc-2c963f66afa6");
    expect(entry).toMatchObject({
      provider: "telnyx", kind: "dlr", channel: "sms", outcome: "delivered", final: true, status: "delivered",
      to: "+18665550001", from: "+18445550001", operator: "T-MOBILE USA, INC.", price: 0.0051,
      updatedDate: "2024-05-01T10:00:01.148+00:00", label: "message.finalized", report: body,
    });
  });

  it.each([
    ["a signature by another key", async (text: string) => {
      const other = generateKeyPairSync("ed25519").privateKey;
      const t = Math.floor(Date.now() / 1000);
      return { "telnyx-timestamp": String(t), "telnyx-signature-ed25519": sign(null, Buffer.from(`${t}|${text}`), other).toString("base64") };
    }],
    ["a signature of another body", async (text: string) => signed(text.replace("delivered", "delivery_failed"))],
    ["no signature", async () => ({ "telnyx-timestamp": String(Math.floor(Date.now() / 1000)) })],
    ["no timestamp", async (text: string) => {
      const { "telnyx-signature-ed25519": s } = await signed(text);
      return { "telnyx-signature-ed25519": s! };
    }],
    ["a timestamp six minutes old", async (text: string) => signed(text, Math.floor(Date.now() / 1000) - 360)],
    ["a timestamp six minutes ahead", async (text: string) => signed(text, Math.floor(Date.now() / 1000) + 360)],
    ["a signature that is not base64 of 64 bytes", async () => ({ "telnyx-timestamp": String(Math.floor(Date.now() / 1000)), "telnyx-signature-ed25519": "c2hvcnQ=" })],
  ])("answers 401 to %s and writes nothing", async (_name, headersFor) => {
    const body = event("delivered");
    const text = JSON.stringify(body);
    const before = (await logEntries(log)).length;
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(await headersFor(text)) }, body: text });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_signature" });
    expect(await logEntries(log)).toHaveLength(before);
  });

  it("refuses to start without the public key (exit 2), and with a key that is not one", () => {
    const missing = runCli(["serve", "--provider", "telnyx", "--port", "0", "--log", join(dir, "never.log")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("SMS_STATUS_TELNYX_PUBLIC_KEY");
    const bad = runCli(["serve", "--provider", "telnyx", "--port", "0", "--log", join(dir, "never.log")], {
      SMS_STATUS_TELNYX_PUBLIC_KEY: "not-a-key",
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("32 bytes");
  });

  it("accepts unsigned events when started with --telnyx-unsigned", async () => {
    const unsignedLog = join(dir, "unsigned.log");
    const open = await startServer(
      parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", unsignedLog, "--provider", "telnyx", "--telnyx-unsigned"], {}),
    );
    try {
      const res = await fetch(`http://127.0.0.1:${open.port}/sms/status/telnyx`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(event("sent")),
      });
      expect(res.status).toBe(200);
      expect(await logEntries(unsignedLog)).toHaveLength(1);
    } finally {
      await open.stop();
    }
  });
});

describe("Telnyx statuses", () => {
  it.each(Object.entries(TELNYX_STATUSES))("%s is %o", async (status, expected) => {
    const id = crypto.randomUUID();
    const res = await send(event(status, { id }));
    expect(res.status).toBe(200);
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === id);
    expect({ outcome: entry!.outcome, final: entry!.final }).toEqual(expected);
  });

  it("keeps the error code and its detail on a failed message", async () => {
    const id = crypto.randomUUID();
    await send(event("delivery_failed", { id, errors: [{ code: "40008", title: "Undeliverable", detail: "The message was not delivered." }] }));
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === id);
    expect(entry).toMatchObject({ outcome: "failed", detailedStatus: "40008", description: "The message was not delivered." });
  });

  it("answers 422 naming a field of the wrong type, and keeps the body as rejected", async () => {
    const body = event("delivered");
    (body.data.payload as Record<string, unknown>).to = "+18665550001";
    const res = await send(body);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "invalid_report", field: "data.payload.to" });
    expect((await logEntries(log)).at(-1)).toMatchObject({ provider: "telnyx", kind: "rejected" });
  });
});

describe("Telnyx retries and late events", () => {
  it("answers a retried event as a duplicate and stores it once", async () => {
    const id = crypto.randomUUID();
    const body = event("delivered", { id });
    expect((await send(body)).status).toBe(200);
    const retry = await send({ ...body, meta: { attempt: 2, delivered_to: "https://example.com/sms/status/telnyx" } });
    expect(await retry.json()).toEqual({ ok: true, duplicate: true });
    expect((await logEntries(log)).filter((e) => e.messageId === id)).toHaveLength(1);
  });

  it("keeps delivered when message.sent arrives after message.finalized", async () => {
    const id = crypto.randomUUID();
    await send(event("delivered", { id, at: "2024-05-01T10:00:05.000+00:00" }));
    await send(event("sent", { id, at: "2024-05-01T10:00:01.000+00:00" }));
    const found = await new LogStatus([log]).lookup(id);
    expect(found!.reports).toHaveLength(2);
    expect(found!.message).toMatchObject({ outcome: "delivered", status: "delivered" });
    const printed = runCli(["lookup", id, log]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("delivered");
  });

  it("gives each recipient of a group message its own part", async () => {
    const id = crypto.randomUUID();
    const body = event("delivered", { id });
    body.data.payload.to.push({ carrier: "VERIZON", line_type: "Wireless", phone_number: "+18665550002", status: "delivery_failed" });
    expect((await send(body)).status).toBe(200);
    const found = await new LogStatus([log]).lookup(id);
    expect(found!.reports.map((e) => e.smsId)).toEqual([`${id}/+18665550001`, `${id}/+18665550002`]);
    expect(found!.message).toMatchObject({ outcome: "failed", status: "delivery_failed", cost: 0.0051 });
  });
});
