/**
 * Hostile input: malformed, oversized, forged and abusive requests against a real server with a
 * token and an allowlist. Each has its expected status; afterwards the server still serves and
 * every line of the log is a valid entry.
 */
import { afterAll, beforeAll, describe, expect, it, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { LogEntry } from "../../src/core/entry.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { logEntries, logLines, routeeReport, tempDir } from "../helpers/utils.ts";

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

  it("two identical Content-Length headers do not lift the body limit -> 413, nothing logged", async () => {
    const body = json(routeeReport({ message: "x".repeat(70_000) })); // over 65536, under the transport's slack
    const length = Buffer.byteLength(body);
    const head = `POST /sms/status?token=${TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nContent-Length: ${length}\r\n\r\n`;
    expect(await rawStatus(head + body)).toBe(413);
  });

  it.each([
    ["deep nesting", `{"a":${"[".repeat(30_000)}${"]".repeat(30_000)}}`],
    ["a flat array of objects", `{"a":[${"{},".repeat(20_000)}{}]}`],
    ["thousands of keys", `{${Array.from({ length: 6000 }, (_, i) => `"k${i}":0`).join(",")}}`],
  ])("%s under the size limit -> 422 body_too_complex, logged as rejected with the raw text", async (_shape, body) => {
    expect(Buffer.byteLength(body)).toBeLessThan(65536);
    const res = await send(body);
    expectStatus(res, 422);
    expect(((await res.json()) as { error: string }).error).toBe("body_too_complex");
    const last = (await logEntries(log)).at(-1)!;
    expect([last.kind, last.report, last.error.reason]).toEqual(["rejected", body, "body_too_complex"]);
  });

  it("nesting as deep as a real callback might go -> 200", async () => {
    const deep = JSON.parse(`${"[".repeat(20)}"x"${"]".repeat(20)}`);
    expectStatus(await send(json(routeeReport({ extra: deep }))), 200);
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

  it("invalid UTF-8 -> 400 invalid_utf8, the exact bytes logged as base64", async () => {
    const enc = new TextEncoder();
    const body = new Uint8Array([...enc.encode('{"messageId":"utf-'), 0xff, 0xfe, 0xc3, 0x28, ...enc.encode('"}')]);
    const res = await send(body);
    expectStatus(res, 400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_utf8");
    const last = (await logEntries(log)).at(-1)!;
    expect([last.kind, last.error.reason]).toEqual(["rejected", "invalid_utf8"]);
    expect(Buffer.from(last.report, "base64")).toEqual(Buffer.from(body));
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
    let rejected = 0;
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(Value.Check(LogEntry, entry)).toBe(true);
      expect(line).not.toMatch(/[\r\u2028\u2029]/);
      if (entry.kind === "rejected") rejected += 1;
    }
    // The readers take every entry, the rejected ones (base64 bodies included) counted apart.
    const report = await new LogStatus([log]).report({});
    expect([report.lines.read, report.lines.unparseable, report.callbacks.rejected]).toEqual([lines.length, 0, rejected]);
  });
});

describe("hosts shorter than 4 characters", () => {
  // Elysia looks for the path from the 11th character of the URL (http://a.bc), so a short Host
  // hid every route it serves.
  it.each([["x"], ["a:1"], ["abc"]])("Host: %s -> /healthz 200, GET on the report path 405", async (host) => {
    expect(await rawStatus(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toBe(200);
    expect(await rawStatus(`GET /sms/status HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toBe(405);
    expect(await rawStatus(`GET /nope HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toBe(404);
  });
});

describe("Bun's limits", () => {
  // Bun closes a connection, answering nothing, when a pipelined request arrives while an async
  // handler is still running (oven-sh/bun#35036, #38128). The server's handler waits for the
  // journal, so it cannot avoid this; docs/security.md says so. When Bun fixes it, this fails.
  test.failing("a plain Bun.serve answers pipelined requests to an async handler", async () => {
    using plain = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const body = await request.text();
        await new Promise((done) => setImmediate(done));
        return new Response(body);
      },
    });
    const request = (body: string) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const answers = await rawExchange(plain.port!, request("a") + request("b") + request("c"), 3);
    expect(answers).toEqual(["a", "b", "c"]);
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

/** Send raw bytes to `port`; the bodies of the answers, once `count` came or the server closed. */
function rawExchange(port: number, bytes: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let text = "";
    const bodies = () => [...text.matchAll(/\r\n\r\n(\w*)/g)].map((m) => m[1]!);
    socket.on("data", (d) => {
      text += d.toString();
      if (bodies().length >= count) socket.destroy();
    });
    socket.on("close", () => resolve(bodies()));
    socket.on("error", reject);
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
