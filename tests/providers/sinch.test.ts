/**
 * Sinch SMS delivery reports against a real server: HMAC signatures made with Sinch's SDK
 * (`@sinch/sdk-client`'s computeSignedData and calculateWebhookSignature, checked with its
 * validateWebhookSignature), a bad or missing one is 401 and nothing is written, every status's
 * outcome, batch reports, retries and late reports.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { SINCH_STATUSES } from "../../src/providers/sinch/classify.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { logEntries, runCli, tempDir } from "../helpers/utils.ts";

// The package's root needs @sinch/sdk-core (not installed); its signing helpers stand alone.
const require = createRequire(import.meta.url);
const sdk = require(require.resolve("@sinch/sdk-client").replace(/index\.js$/, "utils/authorization.helper.js")) as {
  computeSignedData(body: string, nonce: string, timestamp: string): string;
  calculateWebhookSignature(signedData: string, secret: string): string;
  validateWebhookSignature(secret: string, headers: Record<string, string>, body: string): boolean;
};

const SECRET = "sinch-hmac-secret-for-tests";
const dir = tempDir("sinch-");
const log = join(dir, "status.log");
let server: RunningServer;
let url: string;

beforeAll(async () => {
  server = await startServer(
    parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--provider", "sinch"], { SMS_STATUS_SINCH_HMAC_SECRET: SECRET }),
  );
  url = `http://127.0.0.1:${server.port}/sms/status/sinch`;
});
afterAll(() => server.stop());

/** A recipient delivery report as Sinch's API reference shows it. */
function recipientReport(status: string, options: { batch?: string; recipient?: string; at?: string; code?: number } = {}) {
  return {
    at: options.at ?? "2024-05-01T10:00:08.930Z",
    batch_id: options.batch ?? `01FC${crypto.randomUUID().replaceAll("-", "").slice(0, 22).toUpperCase()}`,
    client_reference: "order-1234",
    code: options.code ?? 0,
    encoding: "GSM",
    number_of_message_parts: 1,
    operator: "35000",
    operator_status_at: "2024-05-01T10:00:08.150Z",
    recipient: options.recipient ?? "12345678910",
    status,
    type: "recipient_delivery_report_sms",
  };
}

function signed(body: string, secret = SECRET): Record<string, string> {
  const nonce = crypto.randomUUID();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers = {
    "content-type": "application/json",
    "x-sinch-webhook-signature-nonce": nonce,
    "x-sinch-webhook-signature-timestamp": timestamp,
    "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    "x-sinch-webhook-signature": sdk.calculateWebhookSignature(sdk.computeSignedData(body, nonce, timestamp), secret),
  };
  if (secret === SECRET && !sdk.validateWebhookSignature(SECRET, headers, body)) throw new Error("the SDK rejects its own signature");
  return headers;
}

const send = (body: unknown, headers?: Record<string, string>) => {
  const text = JSON.stringify(body);
  return fetch(url, { method: "POST", headers: headers ?? signed(text), body: text });
};

describe("Sinch signatures", () => {
  it("stores a recipient report signed with the HMAC secret, with its fields", async () => {
    const body = recipientReport("Delivered", { batch: "01FC66621XXXXX119Z8PMV1QPQ" });
    const res = await send(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === "01FC66621XXXXX119Z8PMV1QPQ");
    expect(entry).toMatchObject({
      provider: "sinch", kind: "dlr", channel: "sms", outcome: "delivered", final: true, status: "Delivered",
      smsId: "01FC66621XXXXX119Z8PMV1QPQ/12345678910", to: "12345678910", detailedStatus: "0", operator: "35000",
      updatedDate: "2024-05-01T10:00:08.930Z", label: "order-1234", report: body,
    });
  });

  it.each([
    ["a signature with another secret", (text: string) => signed(text, "another-secret")],
    ["a signature of another body", (text: string) => signed(text.replace("Delivered", "Failed"))],
    ["no signature", (text: string) => {
      const { "x-sinch-webhook-signature": _s, ...rest } = signed(text);
      return rest;
    }],
    ["no nonce", (text: string) => {
      const { "x-sinch-webhook-signature-nonce": _n, ...rest } = signed(text);
      return rest;
    }],
    ["a signature moved to another nonce", (text: string) => ({ ...signed(text), "x-sinch-webhook-signature-nonce": "other" })],
    ["another algorithm", (text: string) => ({ ...signed(text), "x-sinch-webhook-signature-algorithm": "HmacSHA1" })],
    ["a truncated signature", (text: string) => {
      const headers = signed(text);
      return { ...headers, "x-sinch-webhook-signature": headers["x-sinch-webhook-signature"]!.slice(0, 20) };
    }],
  ])("answers 401 to %s and writes nothing", async (_name, headersFor) => {
    const text = JSON.stringify(recipientReport("Delivered"));
    const before = (await logEntries(log)).length;
    const res = await fetch(url, { method: "POST", headers: headersFor(text), body: text });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_signature" });
    expect(await logEntries(log)).toHaveLength(before);
  });

  it("refuses to start without the HMAC secret (exit 2), and accepts --sinch-unsigned", async () => {
    const missing = runCli(["serve", "--provider", "sinch", "--port", "0", "--log", join(dir, "never.log")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("SMS_STATUS_SINCH_HMAC_SECRET");
    const unsignedLog = join(dir, "unsigned.log");
    const open = await startServer(
      parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", unsignedLog, "--provider", "sinch", "--sinch-unsigned"], {}),
    );
    try {
      const res = await fetch(`http://127.0.0.1:${open.port}/sms/status/sinch`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(recipientReport("Dispatched")),
      });
      expect(res.status).toBe(200);
      expect(await logEntries(unsignedLog)).toHaveLength(1);
    } finally {
      await open.stop();
    }
  });
});

describe("Sinch statuses and reports", () => {
  it.each(Object.entries(SINCH_STATUSES))("%s is %o", async (status, expected) => {
    const body = recipientReport(status[0]!.toUpperCase() + status.slice(1));
    expect((await send(body)).status).toBe(200);
    const [entry] = (await logEntries(log)).filter((e) => e.messageId === body.batch_id);
    expect({ outcome: entry!.outcome, final: entry!.final }).toEqual(expected);
  });

  it("gives a full batch report one entry per recipient, and the batch fails when one recipient does", async () => {
    const batch = "01FC66621XXXXX119Z8PMV1BATCH";
    const body = {
      batch_id: batch,
      client_reference: "campaign-7",
      statuses: [
        { code: 0, count: 2, recipients: ["123456789", "987654321"], status: "Delivered" },
        { code: 402, count: 1, recipients: ["111111111"], status: "Failed" },
      ],
      total_message_count: 3,
      type: "delivery_report_sms",
    };
    expect((await send(body)).status).toBe(200);
    const found = (await new LogStatus([log]).lookup(batch))!;
    expect(found.reports.map((e) => [e.to, e.outcome])).toEqual([
      ["123456789", "delivered"],
      ["987654321", "delivered"],
      ["111111111", "failed"],
    ]);
    expect(found.message).toMatchObject({ outcome: "failed", status: "Failed" });
    expect(await send(body).then((r) => r.json())).toEqual({ ok: true, duplicate: true });
  });

  it("keeps a summary batch report (counts only) as one other entry", async () => {
    const body = { batch_id: "01FC66621XXXXX119Z8PMVSUMMA", statuses: [{ code: 0, count: 5, status: "Delivered" }], total_message_count: 5, type: "delivery_report_sms" };
    const res = await send(body);
    expect(await res.json()).toEqual({ ok: true, kind: "other", outcome: "unknown" });
  });

  it("answers 422 naming a field of the wrong type", async () => {
    const res = await send({ ...recipientReport("Delivered"), code: "zero" });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "invalid_report", field: "code" });
  });
});

describe("Sinch retries and late reports", () => {
  it("answers a retried report as a duplicate and stores it once", async () => {
    const body = recipientReport("Delivered");
    expect((await send(body)).status).toBe(200);
    expect(await send(body).then((r) => r.json())).toEqual({ ok: true, duplicate: true });
    expect((await logEntries(log)).filter((e) => e.messageId === body.batch_id)).toHaveLength(1);
  });

  it("keeps Delivered when a Dispatched report arrives after it", async () => {
    const batch = "01FC66621XXXXX119Z8PMVLATE1";
    await send(recipientReport("Delivered", { batch, at: "2024-05-01T10:00:09.000Z" }));
    await send(recipientReport("Dispatched", { batch, at: "2024-05-01T10:00:02.000Z", code: 401 }));
    const found = (await new LogStatus([log]).lookup(batch))!;
    expect(found.reports).toHaveLength(2);
    expect(found.message).toMatchObject({ outcome: "delivered", status: "Delivered" });
    const printed = runCli(["lookup", batch, log]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("Delivered");
  });
});
