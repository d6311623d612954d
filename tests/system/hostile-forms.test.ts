/**
 * Hostile form-encoded and query-string callbacks (Twilio posts forms, Plivo and Vonage may call
 * with GET): each gets its expected answer, the server keeps serving, and every line of the log
 * stays one valid entry.
 */
import { describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { Value } from "@sinclair/typebox/value";
import { LogEntry } from "../../src/core/entry.ts";
import { postForm, providerServer } from "../helpers/provider-server.ts";
import { logLines } from "../helpers/utils.ts";

const twilio = await providerServer("twilio", ["--twilio-unsigned", "--provider", "plivo", "--plivo-unsigned", "--provider", "routee", "--body-limit", "4096"]);
const plivoUrl = twilio.url.replace(/twilio$/, "plivo");
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const status = (sid: string, extra: Record<string, string> = {}) => ({ MessageSid: sid, MessageStatus: "delivered", To: "+15558675310", ...extra });

/** Send raw bytes over a socket: what a client may do that fetch never would. */
function raw(bytes: Uint8Array | string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(twilio.server.port, "127.0.0.1", () => socket.write(bytes));
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString("latin1");
      if (answer.includes("\r\n\r\n")) socket.end();
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", () => resolve(answer));
  });
}

describe("hostile form and query callbacks", () => {
  it("a form body that is not UTF-8 -> 400 invalid_utf8, its bytes kept", async () => {
    const body = Buffer.concat([Buffer.from("MessageSid=SMbad&MessageStatus=delivered&To="), Buffer.from([0xff, 0xfe, 0x80])]);
    const answer = await raw(
      Buffer.concat([Buffer.from(`POST /sms/status/twilio HTTP/1.1\r\nHost: x.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`), body]),
    );
    expect(answer).toStartWith("HTTP/1.1 400");
    expect(answer).toContain("invalid_utf8");
  });

  it("a form body over the limit -> 413, nothing logged", async () => {
    const before = (await logLines(twilio.log)).length;
    const res = await postForm(twilio.url, status("SMbig", { Body: "x".repeat(5000) }));
    expect(res.status).toBe(413);
    expect(await logLines(twilio.log)).toHaveLength(before);
  });

  it("thousands of parameters within the limit are read once and answered", async () => {
    const many = "MessageSid=SMmany&MessageStatus=sent&" + "a=1&".repeat(900);
    const res = await fetch(twilio.url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: many });
    expect(res.status).toBe(200);
  });

  it("line breaks, escapes and controls in form values cannot forge a log line", async () => {
    const res = await postForm(twilio.url, status("SMctl", { To: "+1\n{\"kind\":\"dlr\"}\r\u2028\u001b[31m\u0085", ErrorMessage: "\u0000" }));
    expect(res.status).toBe(200);
  });

  it("a missing status -> 422 naming it, logged as rejected", async () => {
    const res = await postForm(twilio.url, { MessageSid: "SMnone" });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { field: string }).field).toBe("MessageStatus");
  });

  it("a form sent as JSON, or JSON sent as a form, is read as the provider sends it and refused when it is not", async () => {
    const asJson = await fetch(twilio.url, { method: "POST", headers: { "content-type": "application/json" }, body: form(status("SMjson")) });
    expect(asJson.status).toBe(200);
    const json = await fetch(twilio.url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: '{"MessageSid":"x"}' });
    expect(json.status).toBe(422);
  });

  it("a GET whose query string is far over Bun's header limit is refused and the server keeps serving", async () => {
    const answer = await raw(`GET /sms/status/plivo?MessageUUID=x&Status=sent&Pad=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x.example\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/);
    const ok = await fetch(`${plivoUrl}?${form({ MessageUUID: "pl-ok", Status: "delivered", To: "15558675310" })}`);
    expect(ok.status).toBe(200);
  });

  it("afterwards the log is valid line by line", async () => {
    const lines = await logLines(twilio.log);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(Value.Check(LogEntry, JSON.parse(line))).toBe(true);
  });
});

describe("values that throw when turned into text", () => {
  it("an object with a hostile toString in a Routee failover message is recorded, not a 500", async () => {
    const routee = twilio.url.replace(/\/twilio$/, "");
    const res = await fetch(routee, { method: "POST", body: JSON.stringify({ trackingId: "t-1", messages: [{ type: { toString: 1 } }] }) });
    expect(res.status).toBe(200);
  });
});
