/**
 * Plivo's status callbacks against a real server, POSTed as a form and sent as a GET's query.
 * plivo-node has no function that signs a callback, only `validateV3Signature`: the tests sign as
 * Plivo documents it and every signature is first accepted by that SDK function.
 */
import { describe, expect, it } from "bun:test";
import { createHmac, randomBytes } from "node:crypto";
import { validateV3Signature } from "plivo";
import { PLIVO_STATUSES } from "../../src/providers/plivo/classify.ts";
import { postForm, providerServer } from "../helpers/provider-server.ts";
import { runCli } from "../helpers/utils.ts";

const TOKEN = "MzY3ZTBmNGQ4ZmE2NGQ4MDI4YjY5ZjU2";

/** A status callback as Plivo's docs list its parameters. */
function callback(uuid: string, status: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MessageUUID: uuid,
    ParentMessageUUID: uuid,
    PartInfo: "1 of 1",
    Status: status,
    To: "14155551234",
    From: "14155556789",
    Type: "sms",
    Units: "1",
    TotalRate: "0.00500",
    TotalAmount: "0.00500",
    MCC: "310",
    MNC: "004",
    ErrorCode: "",
    Sequence: "1",
    MessageTime: "2025-03-04 15:30:00.100000",
    QueuedTime: "2025-03-04 15:30:00.200000",
    SentTime: "",
    DeliveryReportTime: "",
    PowerpackUUID: "",
    ...extra,
  };
}

/**
 * Headers Plivo would send: the V3 signature over the URL (its query sorted), then for a POST the
 * sorted parameters, then the nonce; checked by plivo-node before use.
 */
function signed(method: "GET" | "POST", url: string, params: Record<string, string>, token = TOKEN): Record<string, string> {
  const nonce = randomBytes(10).toString("hex");
  const [base, query] = url.split("?") as [string, string | undefined];
  const queryPairs = [...new URLSearchParams(query ?? "")].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));
  const sortedQuery = queryPairs.map(([k, v]) => `${k}=${v}`).join("&");
  const form = Object.keys(params).sort().map((k) => k + params[k]).join("");
  let text = base;
  if (method === "POST" && form) text += `?${sortedQuery}${sortedQuery ? "." : ""}${form}`;
  else if (sortedQuery) text += `?${sortedQuery}`;
  const signature = createHmac("sha256", token).update(`${text}.${nonce}`).digest("base64");
  if (!validateV3Signature(method, url, nonce, TOKEN, signature, method === "POST" ? params : {}) && token === TOKEN)
    throw new Error("plivo-node does not accept the test's signature");
  return { "x-plivo-signature-v3": signature, "x-plivo-signature-v3-nonce": nonce };
}

const sendPost = (url: string, fields: Record<string, string>, signedUrl = url) => postForm(url, fields, signed("POST", signedUrl, fields));
const sendGet = (url: string, fields: Record<string, string>) => {
  const full = `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(fields)}`;
  return fetch(full, { headers: signed("GET", full, {}) });
};

describe("plivo", async () => {
  const { url, entries, lookup } = await providerServer("plivo", [], { SMS_STATUS_PLIVO_AUTH_TOKEN: TOKEN });

  it("stores a delivered callback POSTed as a form once; a retry is a duplicate", async () => {
    const fields = callback("uuid-0001", "delivered", {
      Sequence: "3",
      SentTime: "2025-03-04 15:30:01.000000",
      DeliveryReportTime: "2025-03-04 15:30:05.123456",
    });
    const first = await sendPost(url, fields);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    expect(await (await sendPost(url, fields)).json()).toEqual({ ok: true, duplicate: true });
    const written = (await entries()).filter((e) => e.messageId === "uuid-0001");
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      provider: "plivo",
      channel: "sms",
      outcome: "delivered",
      final: true,
      status: "delivered",
      to: "14155551234",
      from: "14155556789",
      price: 0.005,
      parts: 1,
      updatedDate: "2025-03-04T15:30:05.123456Z",
      report: fields,
    });
  });

  it("stores a callback sent as a GET's query, signed over the URL", async () => {
    const res = await sendGet(url, callback("uuid-0002", "sent", { SentTime: "2025-03-04 15:30:01.000000" }));
    expect(res.status).toBe(200);
    expect((await entries()).find((e) => e.messageId === "uuid-0002")).toMatchObject({ outcome: "pending", status: "sent" });
  });

  it("answers 401 to a bad or missing signature, on POST and GET, and writes nothing", async () => {
    const before = (await entries()).length;
    const fields = callback("uuid-0003", "delivered");
    expect((await postForm(url, fields, signed("POST", url, fields, "another-token"))).status).toBe(401);
    expect((await postForm(url, { ...fields, Status: "failed" }, signed("POST", url, fields))).status).toBe(401);
    expect((await postForm(url, fields)).status).toBe(401);
    const full = `${url}?${new URLSearchParams(fields)}`;
    expect((await fetch(full, { headers: signed("GET", `${url}?MessageUUID=other`, {}) })).status).toBe(401);
    expect((await fetch(full)).status).toBe(401);
    expect(await entries()).toHaveLength(before);
  });

  it("accepts any one of several comma-separated signatures (a token being rotated)", async () => {
    const fields = callback("uuid-0004", "queued");
    const headers = signed("POST", url, fields);
    const other = signed("POST", url, fields, "the-old-token")["x-plivo-signature-v3"];
    headers["x-plivo-signature-v3"] = `${other},${headers["x-plivo-signature-v3"]}`;
    expect((await postForm(url, fields, headers)).status).toBe(200);
  });

  it("takes undelivered as final and failed, with its error code", async () => {
    const res = await sendPost(url, callback("uuid-0005", "undelivered", { ErrorCode: "200", DeliveryReportTime: "2025-03-04 15:31:00.000000" }));
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "failed" });
    expect(await lookup("uuid-0005")).toEqual({ status: "undelivered", outcome: "failed" });
    expect((await entries()).find((e) => e.messageId === "uuid-0005")).toMatchObject({ final: true, detailedStatus: "200" });
  });

  it.each(Object.entries(PLIVO_STATUSES))("classifies %p as %o", async (status, { outcome, final }) => {
    const uuid = `uuid-status-${status}`;
    expect(await (await sendPost(url, callback(uuid, status))).json()).toEqual({ ok: true, kind: "dlr", outcome });
    expect((await entries()).find((e) => e.messageId === uuid)).toMatchObject({ outcome, final, status });
  });

  it("orders callbacks by Plivo's stage times: a late queued changes nothing after sent, nor a late sent after delivered", async () => {
    const sent = callback("uuid-0006", "sent", { Sequence: "2", SentTime: "2025-03-04 15:30:01.000000" });
    const queued = callback("uuid-0006", "queued", { Sequence: "1" });
    await sendPost(url, sent);
    await sendPost(url, queued);
    expect(await lookup("uuid-0006")).toEqual({ status: "sent", outcome: "pending" });
    await sendPost(url, callback("uuid-0006", "delivered", { Sequence: "3", DeliveryReportTime: "2025-03-04 15:30:09.000000" }));
    await sendPost(url, sent);
    expect(await lookup("uuid-0006")).toEqual({ status: "delivered", outcome: "delivered" });
  });

  it("answers 422 naming a field of the wrong form", async () => {
    const res = await sendPost(url, callback("uuid-0007", "sent", { TotalAmount: "free" }));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: "invalid_report", field: "TotalAmount" });
  });
});

describe("plivo behind a proxy", async () => {
  const { url } = await providerServer("plivo", ["--public-url", "https://sms.example.com:8443"], { SMS_STATUS_PLIVO_AUTH_TOKEN: TOKEN });
  const publicUrl = "https://sms.example.com:8443/sms/status/plivo";

  it("checks the signature over the public URL Plivo called, query included", async () => {
    expect((await sendPost(url, callback("uuid-1001", "sent"), publicUrl)).status).toBe(200);
    expect((await sendPost(`${url}?b=2&a=1`, callback("uuid-1002", "sent"), `${publicUrl}?b=2&a=1`)).status).toBe(200);
    expect((await sendPost(url, callback("uuid-1003", "sent"), url)).status).toBe(401);
  });
});

describe("plivo's secret and limits", () => {
  it("is required: exit 2 without it, naming the variable, the file flag and --plivo-unsigned", () => {
    const { code, stderr } = runCli(["serve", "--provider", "plivo", "--port", "0"]);
    expect(code).toBe(2);
    expect(stderr).toContain("SMS_STATUS_PLIVO_AUTH_TOKEN");
    expect(stderr).toContain("--plivo-auth-token-file");
    expect(stderr).toContain("--plivo-unsigned");
  });

  it("--plivo-unsigned accepts unsigned callbacks, and a form over --body-limit is 413 and not written", async () => {
    const { url, entries } = await providerServer("plivo", ["--plivo-unsigned", "--body-limit", "1024"]);
    expect((await postForm(url, callback("uuid-2001", "sent"))).status).toBe(200);
    expect((await fetch(`${url}?${new URLSearchParams(callback("uuid-2002", "sent"))}`)).status).toBe(200);
    expect((await postForm(url, callback("uuid-2003", "sent", { Extra: "x".repeat(2000) }))).status).toBe(413);
    expect((await entries()).map((e) => e.messageId)).toEqual(["uuid-2001", "uuid-2002"]);
  });
});
