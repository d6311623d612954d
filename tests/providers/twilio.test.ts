/**
 * Twilio's status callbacks against a real server: signed by Twilio's own SDK (twilio-node's
 * getExpectedTwilioSignature), form-encoded as Twilio posts them, classified, stored once.
 */
import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import twilioSdk from "twilio";
import { TWILIO_STATUSES } from "../../src/providers/twilio/classify.ts";
import { postForm, providerServer } from "../helpers/provider-server.ts";
import { runCli, tempDir } from "../helpers/utils.ts";

const TOKEN = "12345678901234567890123456789012";

/** A status callback as Twilio's docs show it. */
function callback(sid: string, status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ApiVersion: "2010-04-01",
    AccountSid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    MessageSid: sid,
    SmsSid: sid,
    MessageStatus: status,
    SmsStatus: status,
    From: "+15017122661",
    To: "+15558675310",
    ...extra,
  };
}

const sign = (url: string, fields: Record<string, string>, token = TOKEN) =>
  twilioSdk.getExpectedTwilioSignature(token, url, fields);

const sendSigned = (url: string, fields: Record<string, string>, signedUrl = url) =>
  postForm(url, fields, { "x-twilio-signature": sign(signedUrl, fields) });

describe("twilio", async () => {
  const { url, entries, lookup } = await providerServer("twilio", [], { SMS_STATUS_TWILIO_AUTH_TOKEN: TOKEN });

  it("stores a delivered callback signed by Twilio's SDK once; a retry is a duplicate", async () => {
    const fields = callback("SM0001", "delivered", { RawDlrDoneDate: "2503041530" });
    const first = await sendSigned(url, fields);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    const retry = await sendSigned(url, fields);
    expect(await retry.json()).toEqual({ ok: true, duplicate: true });
    const written = (await entries()).filter((e) => e.messageId === "SM0001");
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      provider: "twilio",
      kind: "dlr",
      channel: "sms",
      outcome: "delivered",
      final: true,
      status: "delivered",
      to: "+15558675310",
      from: "+15017122661",
      report: fields,
    });
  });

  it("answers 401 to a bad or missing signature and writes nothing", async () => {
    const before = (await entries()).length;
    const fields = callback("SM0002", "delivered");
    const forged = await postForm(url, fields, { "x-twilio-signature": sign(url, fields, "another-token-another-token-1234") });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: "invalid_signature" });
    const tampered = await postForm(url, { ...fields, MessageStatus: "failed" }, { "x-twilio-signature": sign(url, fields) });
    expect(tampered.status).toBe(401);
    expect((await postForm(url, fields)).status).toBe(401);
    expect(await entries()).toHaveLength(before);
  });

  it("records the error code of an undelivered message, and a WhatsApp status on its channel", async () => {
    await sendSigned(url, callback("SM0003", "undelivered", { ErrorCode: "30003" }));
    await sendSigned(url, callback("SM0004", "read", { To: "whatsapp:+15558675310", From: "whatsapp:+15017122661" }));
    const all = await entries();
    expect(all.find((e) => e.messageId === "SM0003")).toMatchObject({ outcome: "failed", final: true, detailedStatus: "30003" });
    expect(all.find((e) => e.messageId === "SM0004")).toMatchObject({ channel: "whatsapp", outcome: "delivered", final: true });
  });

  it.each(Object.entries(TWILIO_STATUSES))("classifies %p as %o", async (status, { outcome, final }) => {
    const sid = `SMstatus${status}`;
    const res = await sendSigned(url, callback(sid, status));
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome });
    expect((await entries()).find((e) => e.messageId === sid)).toMatchObject({ outcome, final, status });
  });

  it("keeps delivered when a late sent arrives after it", async () => {
    await sendSigned(url, callback("SM0005", "sending"));
    await sendSigned(url, callback("SM0005", "delivered"));
    expect((await (await sendSigned(url, callback("SM0005", "sent"))).json())).toMatchObject({ ok: true, outcome: "pending" });
    expect(await lookup("SM0005")).toEqual({ status: "delivered", outcome: "delivered" });
  });

  it("keeps sent when a late sending arrives after it, and read when a late delivered does (Twilio's status order)", async () => {
    await sendSigned(url, callback("SM0006", "sent"));
    await sendSigned(url, callback("SM0006", "sending"));
    expect(await lookup("SM0006")).toEqual({ status: "sent", outcome: "pending" });
    const whatsapp = { To: "whatsapp:+15558675310", From: "whatsapp:+15017122661" };
    await sendSigned(url, callback("SM0007", "read", whatsapp));
    await sendSigned(url, callback("SM0007", "delivered", whatsapp));
    expect(await lookup("SM0007")).toEqual({ status: "read", outcome: "delivered" });
    // The order is in the log, where every reader finds it.
    expect((await entries()).filter((e) => e.messageId === "SM0006").map((e) => [e.status, e.sequence])).toEqual([["sent", 5], ["sending", 4]]);
  });

  it("answers 422 naming a missing MessageStatus, signed or not", async () => {
    const { MessageStatus: _, SmsStatus: __, ...fields } = callback("SM0006", "sent");
    const res = await sendSigned(url, fields);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "invalid_report", field: "MessageStatus" });
  });

  it("verifies a signature that covers the query string (the token rides there)", async () => {
    const withQuery = `${url}?token=abc&b=2`;
    const res = await sendSigned(withQuery, callback("SM0007", "sent"));
    expect(res.status).toBe(200);
  });
});

describe("twilio behind a proxy", async () => {
  const { url, entries } = await providerServer("twilio", ["--public-url", "https://sms.example.com"], {
    SMS_STATUS_TWILIO_AUTH_TOKEN: TOKEN,
  });
  const publicUrl = "https://sms.example.com/sms/status/twilio";

  it("checks the signature over the public URL Twilio called, with or without its default port", async () => {
    expect((await sendSigned(url, callback("SM1001", "sent"), publicUrl)).status).toBe(200);
    expect((await sendSigned(url, callback("SM1002", "sent"), "https://sms.example.com:443/sms/status/twilio")).status).toBe(200);
    // Signed over the address the server sees, not the one Twilio called: refused.
    expect((await sendSigned(url, callback("SM1003", "sent"), url)).status).toBe(401);
    expect((await entries()).map((e) => e.messageId)).toEqual(["SM1001", "SM1002"]);
  });
});

describe("twilio's secret", () => {
  it("is required: the server refuses to start without it (exit 2) and says how to give it", () => {
    const { code, stderr } = runCli(["serve", "--provider", "twilio", "--port", "0"]);
    expect(code).toBe(2);
    expect(stderr).toContain("SMS_STATUS_TWILIO_AUTH_TOKEN");
    expect(stderr).toContain("--twilio-auth-token-file");
    expect(stderr).toContain("--twilio-unsigned");
  });

  it("can come from a file", async () => {
    const file = join(tempDir("twilio-secret-"), "token");
    writeFileSync(file, `${TOKEN}\n`);
    const { url } = await providerServer("twilio", ["--twilio-auth-token-file", file]);
    expect((await sendSigned(url, callback("SM2001", "sent"))).status).toBe(200);
    expect((await postForm(url, callback("SM2002", "sent"))).status).toBe(401);
  });

  it("is not needed with --twilio-unsigned, which accepts unsigned callbacks", async () => {
    const { url, entries } = await providerServer("twilio", ["--twilio-unsigned"]);
    expect((await postForm(url, callback("SM3001", "delivered"))).status).toBe(200);
    expect((await entries()).map((e) => e.messageId)).toEqual(["SM3001"]);
  });
});

describe("twilio's body limit", async () => {
  const { url, entries } = await providerServer("twilio", ["--body-limit", "2048"], { SMS_STATUS_TWILIO_AUTH_TOKEN: TOKEN });

  it("takes a form body under the limit and refuses one over it with 413, writing nothing", async () => {
    expect((await sendSigned(url, callback("SM4001", "sent", { Body: "x".repeat(1500) }))).status).toBe(200);
    const res = await sendSigned(url, callback("SM4002", "sent", { Body: "x".repeat(3000) }));
    expect(res.status).toBe(413);
    expect((await entries()).map((e) => e.messageId)).toEqual(["SM4001"]);
  });
});
