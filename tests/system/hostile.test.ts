/**
 * Hostile input: malformed, oversized, forged and abusive requests against a real server with a
 * token and an allowlist. Each has its expected status; afterwards the server still serves and
 * every line of the log is a valid entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { LogEntry } from "../../src/core/entry.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { logLines, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("hostile-");
const TOKEN = "hostile-token-0123456789";
const log = join(dir, "status.log");
let server: RunningServer;
let guarded: RunningServer;
let url: string;

beforeAll(async () => {
  const common = ["--host", "127.0.0.1", "--port", "0", "--idle-timeout", "1", "--body-limit", "65536"];
  server = await startServer(parseServeConfig([...common, "--log", log, "--token", TOKEN, "--allow", "127.0.0.1"], {}));
  guarded = await startServer(parseServeConfig([...common, "--log", join(dir, "guarded.log"), "--allow", "192.0.2.0/24"], {}));
  url = `http://127.0.0.1:${server.port}/sms/status`;
});
afterAll(async () => {
  await server.stop();
  await guarded.stop();
});

type Body = string | Uint8Array;
const send = (body: Body, init: { headers?: Record<string, string>; method?: string; query?: string } = {}) =>
  fetch(`${url}${init.query ?? `?token=${TOKEN}`}`, {
    method: init.method ?? "POST",
    body: init.method === "GET" || init.method === "HEAD" ? undefined : body,
    headers: { "content-type": "application/json", ...init.headers },
  });

/** Answers that must have left exactly one line in the log (written reports and rejected bodies). */
let expectedLines = 0;
function expectStatus(res: Response, status: number) {
  expect(res.status).toBe(status);
  if (status === 400 || status === 422) expectedLines += 1;
}

const json = (v: unknown) => JSON.stringify(v);
const FIELDS: [string, unknown][] = [
  ["messageId", 1], ["smsId", {}], ["campaignTrackingId", true], ["part", "one"], ["parts", []],
  ["label", 5], ["to", 306948530920], ["from", false], ["country", ["GR"]], ["operator", 1],
  ["groups", [1, 2]], ["campaignName", {}], ["message", 1], ["applicationName", []],
  ["latency", "slow"], ["price", "free"], ["direction", 0], ["originatingService", {}],
  ["trackingId", 1], ["campaignStatus", 2],
];
const STATUS_FIELDS: [string, unknown, string][] = [
  ["status", 7, "status"],
  ["status", { name: 1 }, "status.name"],
  ["status", { name: "Failed", reason: "x" }, "status.reason"],
  ["status", { name: "Failed", reason: { detailedStatus: 1 } }, "status.reason.detailedStatus"],
  ["status", { name: "Failed", reason: { description: [] } }, "status.reason.description"],
  ["status", { name: "Failed", updatedDate: 20190705 }, "status.updatedDate"],
];
const STRING_FIELDS = ["messageId", "smsId", "to", "from", "country", "operator", "label", "campaignName", "message", "applicationName", "direction", "originatingService"];
const BREAKERS = "\n\r\u2028\u2029\u0000\u001b[2J\u0085\t";

describe("hostile input", () => {
  it.each([["{bad"], ["nul"], ['{"a":}'], ["{'single':1}"], ["<xml/>"], ["messageId=m&to=1"]])(
    "not JSON: %j -> 400",
    async (body) => expectStatus(await send(body), 400),
  );

  it.each([['{"messageId":"m"'], ['{"messageId":'], ['{"status":{"name":"Deliv'], ["{"]])(
    "truncated JSON: %j -> 400",
    async (body) => expectStatus(await send(body), 400),
  );

  it.each([[""], ["   "], ["\n"]])("empty body %j -> 400", async (body) => expectStatus(await send(body), 400));

  it.each(FIELDS)("wrong type in %s -> 422 naming it", async (field, value) => {
    const res = await send(json(routeeReport({ [field]: value })));
    expectStatus(res, 422);
    expect(((await res.json()) as { field: string }).field).toStartWith(field); // groups.0 for groups
  });

  it.each(STATUS_FIELDS)("wrong type in %s (%j) -> 422 naming %s", async (_f, value, path) => {
    const res = await send(json(routeeReport({ status: value })));
    expectStatus(res, 422);
    expect(((await res.json()) as { field: string }).field).toBe(path);
  });

  it.each([["1"], ['"text"'], ["true"], ["null"], ["[]"], ['[{"messageId":"m"}]']])(
    "non-object JSON %s -> 422",
    async (body) => expectStatus(await send(body), 422),
  );

  it("a body over the limit -> 413, nothing logged", async () => {
    expectStatus(await send(json(routeeReport({ message: "x".repeat(70_000) }))), 413);
  });

  it("a body that claims to be larger than the limit -> 413 before it is sent", async () => {
    const head = `POST /sms/status?token=${TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n`;
    expect(await rawStatus(head + "{}")).toBe(413);
  });

  it("a Content-Length shorter than the body -> the cut body is 400, the rest is not a request", async () => {
    const body = json(routeeReport());
    const head = `POST /sms/status?token=${TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n`;
    expect(await rawStatus(head + body)).toBe(400);
    expectedLines += 1; // the five bytes, logged as rejected
  });

  it("deeply nested JSON under the limit -> 200 as kind other", async () => {
    const depth = 20_000;
    expectStatus(await send(`{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`), 200);
    expectedLines += 1;
  });

  it.each([
    ['{"__proto__":{"polluted":1}}'],
    ['{"constructor":{"prototype":{"polluted":1}}}'],
    ['{"messageId":"pp-1","status":{"__proto__":{"name":"Delivered"}}}'],
    ['{"messageId":"pp-2","__proto__":{"status":{"name":"Delivered"}}}'],
  ])("prototype-pollution keys %s -> 200, no pollution, no forged status", async (body) => {
    const res = await send(body);
    expectStatus(res, 200);
    expectedLines += 1;
    const answer = (await res.json()) as { outcome: string };
    expect(answer.outcome).toBe("unknown");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).status).toBeUndefined();
  });

  it.each(STRING_FIELDS)("control characters and line separators in %s -> 200, one line", async (field) => {
    expectStatus(await send(json(routeeReport({ [field]: `x${BREAKERS}{"kind":"dlr"}\n` }))), 200);
    expectedLines += 1;
  });

  it("control characters in status names and reasons -> 200, one line", async () => {
    const status = { name: `Delivered${BREAKERS}`, reason: { detailedStatus: BREAKERS, description: BREAKERS }, updatedDate: BREAKERS };
    expectStatus(await send(json(routeeReport({ status }))), 200);
    expectedLines += 1;
  });

  it("invalid UTF-8 -> 200 with replacement characters", async () => {
    const enc = new TextEncoder();
    const body = new Uint8Array([...enc.encode('{"messageId":"utf-'), 0xff, 0xfe, 0xc3, 0x28, ...enc.encode('"}')]);
    expectStatus(await send(body), 200);
    expectedLines += 1;
  });

  it.each([["text/plain"], ["application/x-www-form-urlencoded"], ["application/octet-stream"], ["multipart/form-data; boundary=x"]])(
    "a JSON report sent as %s is still read as JSON -> 200",
    async (type) => {
      expectStatus(await send(json(routeeReport()), { headers: { "content-type": type } }), 200);
      expectedLines += 1;
    },
  );

  it.each([["GET"], ["PUT"], ["DELETE"], ["PATCH"], ["OPTIONS"]])("method %s -> 405", async (method) => {
    expectStatus(await send(json(routeeReport()), { method }), 405);
  });

  it.each([
    ["no token", ""],
    ["wrong token", "?token=hostile-token-0123456780"],
    ["token prefix", "?token=hostile-token"],
    ["token in another parameter", `?secret=${TOKEN}`],
    ["empty token", "?token="],
  ])("%s -> 401", async (_name, query) => {
    expectStatus(await send(json(routeeReport()), { query }), 401);
  });

  it("a wrong bearer token -> 401", async () => {
    expectStatus(await send(json(routeeReport()), { query: "", headers: { authorization: "Bearer nope-nope-nope-nope" } }), 401);
  });

  it("a source address outside the allowlist -> 403", async () => {
    const res = await fetch(`http://127.0.0.1:${guarded.port}/sms/status`, { method: "POST", body: json(routeeReport()) });
    expect(res.status).toBe(403);
  });

  it("a spoofed X-Forwarded-For from an untrusted peer -> 403", async () => {
    const res = await fetch(`http://127.0.0.1:${guarded.port}/sms/status`, {
      method: "POST",
      body: json(routeeReport()),
      headers: { "x-forwarded-for": "192.0.2.1", "x-real-ip": "192.0.2.1", forwarded: "for=192.0.2.1" },
    });
    expect(res.status).toBe(403);
  });

  it("idle and slowly-dripping connections are closed and do not block others", async () => {
    // Bun drops a connection whose request headers are not complete after about 10 s, however
    // slowly bytes keep arriving; --idle-timeout covers the time between requests.
    const idle = Array.from({ length: 20 }, () => openAndWait(""));
    const drip = Array.from({ length: 20 }, () => openAndWait(`POST /sms/status?token=${TOKEN} HTTP/1.1\r\nHost: x\r\n`, true));
    await Bun.sleep(500);
    expectStatus(await send(json(routeeReport())), 200);
    expectedLines += 1;
    const closedAfter = await Promise.all([...idle, ...drip]);
    expect(Math.max(...closedAfter)).toBeLessThan(16_000);
  }, 30_000);

  it("afterwards the server still serves and the log is valid line by line", async () => {
    expectStatus(await send(json(routeeReport())), 200);
    expectedLines += 1;
    const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(health.status).toBe(200);
    const lines = await logLines(log);
    expect(lines).toHaveLength(expectedLines);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(Value.Check(LogEntry, entry)).toBe(true);
      expect(line).not.toMatch(/[\r\u2028\u2029]/);
    }
  });
});

/** Send raw bytes, return the status of the first answer. */
function rawStatus(bytes: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(bytes));
    let text = "";
    socket.on("data", (d) => {
      text += d.toString();
      const m = text.match(/^HTTP\/1\.1 (\d{3})/);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on("error", reject);
    setTimeout(() => reject(new Error(`no answer: ${JSON.stringify(text)}`)), 5000);
  });
}

/** Open a raw connection, send `preamble` (then a byte every 1.5 s with `drip`), and time its close. */
function openAndWait(preamble: string, drip = false): Promise<number> {
  return new Promise((resolve) => {
    const began = Date.now();
    const socket = connect(server.port, "127.0.0.1", () => {
      if (preamble) socket.write(preamble);
    });
    // A drip slower than the idle timeout: the connection must still be dropped.
    const timer = drip ? setInterval(() => socket.write("X"), 1500) : null;
    const done = () => {
      if (timer) clearInterval(timer);
      socket.destroy();
      resolve(Date.now() - began);
    };
    socket.on("close", done);
    socket.on("error", done);
    setTimeout(done, 20_000);
  });
}
