import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { logEntries, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("server-");
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => {});
});

async function start(args: string[] = []) {
  const log = join(dir, `status-${servers.length}.log`);
  const config = parseServeConfig(["--port", "0", "--host", "127.0.0.1", "--log", log, ...args], {});
  const server = await startServer(config);
  servers.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  const send = (body: unknown, init: RequestInit = {}) =>
    fetch(`${base}/sms/status`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json" },
      ...init,
    });
  return { server, base, log, send };
}

describe("the server on a real port", () => {
  it("logs a report and answers 200", async () => {
    const { send, log } = await start();
    const report = routeeReport({ messageId: "real-1" });
    const res = await send(report);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json; ?charset=utf-8$/);
    expect(await res.json()).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    const again = await send(report);
    expect(again.headers.get("content-type")).toMatch(/^application\/json; ?charset=utf-8$/);
    expect(await again.json()).toEqual({ ok: true, duplicate: true });
    expect((await logEntries(log))[0]!.messageId).toBe("real-1");
  });

  it("answers 413 over the body limit (enforced by the transport too) and keeps serving", async () => {
    const { server, send, log } = await start(["--body-limit", "2048"]);
    const big = JSON.stringify(routeeReport({ message: "x".repeat(4096) }));
    const refused = await send(big);
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({ error: "body_too_large", message: "the body is larger than 2048 bytes" });
    // Chunked, with no content-length: the limit still holds.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    expect((await send("", { body: stream })).status).toBe(413);
    expect((await send(routeeReport())).status).toBe(200);
    expect(await logEntries(log)).toHaveLength(1);
    expect(server.metrics.render()).toContain('sms_status_rejected_total{reason="body_too_large"} 2\n');
  });

  it("counts bytes against the limit, and refuses bytes that are not UTF-8 rather than changing them", async () => {
    const { send, log } = await start(["--body-limit", "1000"]);
    const enc = new TextEncoder();
    // 425 bytes: under the limit, though decoding with U+FFFD for each 0xFF would make 1225.
    const bad = new Uint8Array([...enc.encode('{"messageId":"bad-utf8","label":"'), ...new Array(400).fill(0xff), ...enc.encode('"}')]);
    const refused = await send("", { body: bad });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: "invalid_utf8", message: "the body is not valid UTF-8" });
    expect(Buffer.from((await logEntries(log))[0]!.report, "base64")).toEqual(Buffer.from(bad));
    // 600 two-byte characters, chunked: 640 characters but 1240 bytes.
    const wide = enc.encode(JSON.stringify({ messageId: "wide", label: "é".repeat(600) }));
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(wide);
        c.close();
      },
    });
    expect((await send("", { body: stream })).status).toBe(413);
  });

  it("answers 404 and 405 as JSON, without internals", async () => {
    const { base } = await start();
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not_found", message: "no such route" });
    const wrongMethod = await fetch(`${base}/sms/status`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(await wrongMethod.json()).toEqual({ error: "method_not_allowed", message: "use POST" });
  });

  it("answers 503 while the log cannot be written, and recovers by itself", async () => {
    const { server, base, log, send } = await start();
    expect((await send(routeeReport())).status).toBe(200);
    rmSync(log);
    symlinkSync("/dev/full", log); // every write now fails with ENOSPC
    await server.store.reopen();

    const report = routeeReport({ messageId: "during-outage" });
    const failed = await send(report);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("30");
    expect(await failed.json()).toEqual({
      error: "log_unavailable",
      message: "the log cannot be written right now; retry later",
    });
    const sick = await fetch(`${base}/healthz`);
    expect(sick.status).toBe(503);
    expect(await sick.json()).toEqual({ status: "unavailable", error: "ENOSPC" });

    rmSync(log);
    writeFileSync(log, "");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Routee's retry of the refused report is written now, once.
    expect((await send(report)).status).toBe(200);
    expect((await logEntries(log)).map((e) => e.messageId)).toEqual(["during-outage"]);
  });

  it("stops cleanly: requests in flight are answered and logged", async () => {
    const { server, send, log } = await start();
    const inFlight = Array.from({ length: 50 }, () => send(routeeReport()));
    // Stop once the server is answering: the rest are in flight or refused, never half-written.
    await Promise.race(inFlight);
    await server.stop();
    const answers = await Promise.allSettled(inFlight);
    const acked = answers.filter((a) => a.status === "fulfilled" && a.value.status === 200).length;
    expect(acked).toBeGreaterThan(0);
    expect((await logEntries(log)).length).toBe(acked);
    expect(readFileSync(log, "utf8").endsWith("\n")).toBe(true);
  });
});
