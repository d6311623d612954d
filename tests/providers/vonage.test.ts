/**
 * Vonage SMS API delivery receipts against a real server, by GET query, POST form and POST JSON.
 * The Vonage SDK signs API requests (`Auth.createSignatureHash`, a different text) but has no
 * function that signs a webhook, only `SMS.verifySignature`: the tests sign as Vonage documents it
 * and every signature is first accepted by that SDK function, for each method.
 */
import { describe, expect, it } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import { AlgorithmTypes } from "@vonage/auth";
import { SMS } from "@vonage/sms";
import { VONAGE_STATUSES } from "../../src/providers/vonage/classify.ts";
import { postForm, providerServer } from "../helpers/provider-server.ts";
import { runCli } from "../helpers/utils.ts";

const SECRET = "4cRnYp9nQ8a1kKcD2tVw6zXe";
const sdk = new SMS({ apiKey: "abcd1234", apiSecret: "s3cr3tS3cr3t" });

type Method = "md5hash" | "md5" | "sha1" | "sha256" | "sha512";
const SDK_ALGORITHM: Record<Method, AlgorithmTypes> = {
  md5hash: AlgorithmTypes.md5hash,
  md5: AlgorithmTypes.md5hmac,
  sha1: AlgorithmTypes.sha1hmac,
  sha256: AlgorithmTypes.sha256hmac,
  sha512: AlgorithmTypes.sha512hmac,
};

/** A receipt as Vonage's docs show it, signed (timestamp, nonce, sig) with `method`. */
function receipt(messageId: string, status: string, extra: Record<string, string> = {}, method: Method = "sha256", secret = SECRET) {
  const fields: Record<string, string> = {
    "api-key": "abcd1234",
    "client-ref": "order-42",
    "err-code": status === "delivered" ? "0" : "1",
    "message-timestamp": "2025-03-04 15:30:29",
    messageId,
    msisdn: "447700900000",
    "network-code": "23410",
    price: "0.03330000",
    scts: "2503041530",
    status,
    to: "Acme",
    timestamp: "1741102229",
    nonce: "a3b2c1d0-0000-4000-8000-000000000001",
    ...extra,
  };
  let text = "";
  for (const name of Object.keys(fields).sort()) text += `&${name}=${fields[name]!.replace(/[&=]/g, "_")}`;
  const sig =
    method === "md5hash" ? createHash("md5").update(text + secret).digest("hex") : createHmac(method, secret).update(text).digest("hex");
  if (secret === SECRET && !sdk.verifySignature(sig, { ...fields }, SECRET, SDK_ALGORITHM[method]))
    throw new Error(`@vonage/sms does not accept the test's ${method} signature`);
  return { ...fields, sig };
}

const getQuery = (url: string, fields: Record<string, string>) => fetch(`${url}?${new URLSearchParams(fields)}`);
const postJson = (url: string, fields: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) });

describe("vonage", async () => {
  const { url, entries, lookup } = await providerServer("vonage", [], { SMS_STATUS_VONAGE_SIGNATURE_SECRET: SECRET });

  it("stores a signed delivered receipt POSTed as JSON once; a retry is a duplicate", async () => {
    const body = receipt("0B00000127FD0001", "delivered");
    const first = await postJson(url, body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    expect(await (await postJson(url, body)).json()).toEqual({ ok: true, duplicate: true });
    const written = (await entries()).filter((e) => e.messageId === "0B00000127FD0001");
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      provider: "vonage",
      channel: "sms",
      outcome: "delivered",
      final: true,
      to: "447700900000",
      from: "Acme",
      price: 0.0333,
      operator: "23410",
      label: "order-42",
      updatedDate: "2025-03-04T15:30:29Z",
      report: body,
    });
  });

  it.each(["md5hash", "md5", "sha1", "sha256", "sha512"] as const)("accepts a receipt signed with %s, by GET query and by POST form", async (method) => {
    expect((await getQuery(url, receipt(`GET-${method}`, "accepted", {}, method))).status).toBe(200);
    expect((await postForm(url, receipt(`FORM-${method}`, "accepted", {}, method))).status).toBe(200);
  });

  it("answers 401 to a bad or missing sig, on GET and POST, and writes nothing", async () => {
    const before = (await entries()).length;
    const forged = receipt("0B00000127FD0002", "delivered", {}, "sha256", "not-the-secret");
    expect((await postJson(url, forged)).status).toBe(401);
    expect((await getQuery(url, forged)).status).toBe(401);
    const tampered = { ...receipt("0B00000127FD0002", "failed"), status: "delivered" };
    expect((await postForm(url, tampered)).status).toBe(401);
    const { sig: _, ...unsigned } = receipt("0B00000127FD0002", "delivered");
    const res = await postJson(url, unsigned);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_signature" });
    expect((await postJson(url, { ...unsigned, sig: "abc" })).status).toBe(401);
    expect((await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "[".repeat(5000) })).status).toBe(401);
    expect(await entries()).toHaveLength(before);
  });

  it.each(Object.entries(VONAGE_STATUSES))("classifies %p as %o", async (status, { outcome, final }) => {
    const id = `0B0000STATUS-${status}`;
    expect(await (await getQuery(url, receipt(id, status))).json()).toEqual({ ok: true, kind: "dlr", outcome });
    expect((await entries()).find((e) => e.messageId === id)).toMatchObject({ outcome, final, status });
  });

  it("keeps delivered when a late buffered arrives after it, and the error code of a failure", async () => {
    await getQuery(url, receipt("0B00000127FD0003", "delivered", { "message-timestamp": "2025-03-04 15:31:00" }));
    await getQuery(url, receipt("0B00000127FD0003", "buffered", { "message-timestamp": "2025-03-04 15:30:00" }));
    expect(await lookup("0B00000127FD0003")).toEqual({ status: "delivered", outcome: "delivered" });
    await postJson(url, receipt("0B00000127FD0004", "failed", { "err-code": "6" }));
    expect((await entries()).find((e) => e.messageId === "0B00000127FD0004")).toMatchObject({ outcome: "failed", detailedStatus: "6" });
  });

  it("answers 422 naming a field of the wrong form", async () => {
    const res = await postJson(url, receipt("0B00000127FD0005", "delivered", { price: "cheap" }));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "invalid_report", field: "price" });
  });
});

describe("vonage's secret and limits", () => {
  it("is required: exit 2 without it, naming the variable, --vonage-signature-secret-file and --vonage-unsigned", () => {
    const { code, stderr } = runCli(["serve", "--provider", "vonage", "--port", "0"]);
    expect(code).toBe(2);
    expect(stderr).toContain("SMS_STATUS_VONAGE_SIGNATURE_SECRET");
    expect(stderr).toContain("--vonage-signature-secret-file");
    expect(stderr).toContain("--vonage-unsigned");
  });

  it("--vonage-unsigned accepts unsigned receipts, and a body over --body-limit is 413 and not written", async () => {
    const { url, entries } = await providerServer("vonage", ["--vonage-unsigned", "--body-limit", "1024"]);
    const { sig: _, ...unsigned } = receipt("0B00000127FD2001", "delivered");
    expect((await postJson(url, unsigned)).status).toBe(200);
    expect((await getQuery(url, { ...unsigned, messageId: "0B00000127FD2002" })).status).toBe(200);
    expect((await postJson(url, { ...unsigned, messageId: "0B00000127FD2003", pad: "x".repeat(2000) })).status).toBe(413);
    expect((await entries()).map((e) => e.messageId)).toEqual(["0B00000127FD2001", "0B00000127FD2002"]);
  });
});
