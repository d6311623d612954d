/**
 * The plugin's `forward` option: what the host app's plugin writes reaches the application,
 * signed (verified with `standardwebhooks`), at least once, across the app being stopped while
 * the application is down; filters and batches as the server's flags; options it cannot honour
 * throw at once.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { Webhook } from "standardwebhooks";
import { smsStatus } from "../../src/http/plugin.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { forwardId, readPosition, statePathFor } from "../../src/forward/state.ts";
import type { SmsStatusOptions } from "../../src/http/options.ts";
import { logLines, openFdsTo, post, routeeReport, status, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir("plugin-forward-");
const SECRET = "whsec_" + Buffer.from("plugin-forwarding-key-0123456789abc").toString("base64");
const verifier = new Webhook(SECRET);

type Entry = { messageId: string; status: string };
/** An application that verifies every webhook and keeps its entries; `down` makes it answer 503. */
const got: { type: string; data: Entry }[] = [];
let down = false;
const application = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const payload = verifier.verify(await request.text(), Object.fromEntries(request.headers)) as
      | { type: "sms_status.batch"; data: { type: string; data: Entry }[] }
      | { type: string; data: Entry };
    if (down) return new Response(null, { status: 503 });
    if (payload.type === "sms_status.batch") got.push(...(payload.data as { type: string; data: Entry }[]).map((e) => ({ type: "batch", data: e.data })));
    else got.push(payload as { type: string; data: Entry });
    return new Response(null, { status: 204 });
  },
});
const url = `http://127.0.0.1:${application.port}/hooks/sms`;
afterAll(() => application.stop(true));

function app(options: SmsStatusOptions) {
  const server = new Elysia().use(smsStatus(options)).listen({ port: 0, hostname: "127.0.0.1" });
  const send = (body: unknown) => server.handle(post("http://localhost/sms/status", body));
  return { server, send };
}

const report = (messageId: string, name: string, at: string) => routeeReport({ messageId, smsId: `${messageId}-1`, status: status(name, at) });

describe("smsStatus({ forward })", () => {
  it("forwards every entry it writes, signed, and after a stop while the application was down, the rest", async () => {
    const log = join(dir, "resume.log");
    const metrics = new Metrics();
    const first = app({ log, metrics, forward: { url, secret: SECRET } });
    for (const name of ["Queued", "Sent", "Delivered"]) expect((await first.send(report("p-1", name, "2024-05-01T10:00:00Z"))).status).toBe(200);
    await until(() => got.length === 3, 5_000);
    expect(got.map((e) => `${e.type} ${e.data.messageId} ${e.data.status}`)).toEqual(["sms_status.dlr p-1 Queued", "sms_status.dlr p-1 Sent", "sms_status.dlr p-1 Delivered"]);
    // Counted once the answer is back, a moment after the application has the entry.
    await until(() => metrics.render().includes(`sms_status_forward_delivered_total{url="${url}",id="${forwardId(url)}"} 3`), 5_000);

    // The application goes down; two more reports are acknowledged; the host app stops.
    down = true;
    for (const id of ["p-2", "p-3"]) expect((await first.send(report(id, "Delivered", "2024-05-01T10:00:01Z"))).status).toBe(200);
    await first.server.stop();
    down = false;
    const before = got.length;
    const second = app({ log, forward: { url, secret: SECRET } });
    await until(() => got.length >= before + 2, 10_000);
    expect(got.slice(before).map((e) => e.data.messageId)).toEqual(["p-2", "p-3"]);
    expect(await logLines(log)).toHaveLength(5);
    await second.server.stop();
  });

  it("follows its log through a logrotate rename: what it writes on into the renamed file is forwarded", async () => {
    const log = join(dir, "rotated.log");
    const host = app({ log, forward: { url, secret: SECRET } });
    const before = got.length;
    await host.send(report("r-1", "Delivered", "2024-05-01T10:00:00Z"));
    await until(() => got.length === before + 1, 5_000);
    // logrotate's create: rename, then a new empty file; the plugin gets no SIGHUP and writes on.
    renameSync(log, `${log}.1`);
    writeFileSync(log, "");
    // Let the forwarder see the new file (it polls every 100 ms) before the next entry is written.
    await Bun.sleep(400);
    await host.send(report("r-2", "Delivered", "2024-05-01T10:00:01Z"));
    await until(() => got.length === before + 2, 5_000);
    expect(got.slice(before).map((e) => e.data.messageId)).toEqual(["r-1", "r-2"]);
    expect(readFileSync(`${log}.1`, "utf8").split("\n")).toHaveLength(3);
    await host.server.stop();
  });

  it("renders two URLs that differ only in their query as two series, neither showing the query", () => {
    const metrics = new Metrics();
    const stats = (delivered: number) => ({ delivered, attempts: 0, failures: 0, givenUp: 0, pending: 0, lagSeconds: 0, active: true });
    metrics.watchForwarder("https://app.example/hooks?token=one", stats(1));
    metrics.watchForwarder("https://app.example/hooks?token=two", stats(2));
    const series = metrics.render().split("\n").filter((l) => l.startsWith("sms_status_forward_delivered_total{"));
    expect(series).toEqual([
      `sms_status_forward_delivered_total{url="https://app.example/hooks",id="${forwardId("https://app.example/hooks?token=one")}"} 1`,
      `sms_status_forward_delivered_total{url="https://app.example/hooks",id="${forwardId("https://app.example/hooks?token=two")}"} 2`,
    ]);
    expect(forwardId("https://app.example/hooks?token=one")).not.toBe(forwardId("https://app.example/hooks?token=two"));
  });

  it("takes the server's filter terms and batches", async () => {
    const log = join(dir, "changes.log");
    const host = app({ log, forward: { url, secret: SECRET, filter: "changes", batch: 10 } });
    const before = got.length;
    await host.send(report("c-1", "Queued", "2024-05-01T10:00:00Z"));
    await host.send(report("c-1", "Queued", "2024-05-01T10:00:05Z")); // the same status again: no change
    await host.send(report("c-1", "Delivered", "2024-05-01T10:00:09Z"));
    // Every entry decided: the saved position is the log's end (saved each second).
    await until(() => readPosition(statePathFor(log, url))?.offset === Bun.file(log).size, 5_000);
    expect(got.slice(before).map((e) => `${e.type} ${e.data.status}`)).toEqual(["batch Queued", "batch Delivered"]);
    expect(await logLines(log)).toHaveLength(3);
    await host.server.stop();
  });

  it("registers once with the same options: one forwarder, each entry sent once", async () => {
    const log = join(dir, "twice.log");
    const options = { log, healthPath: false as const, forward: { url, secret: SECRET } };
    const host = new Elysia().use(smsStatus(options)).use(smsStatus(options)).listen({ port: 0, hostname: "127.0.0.1" });
    expect((await host.handle(post("http://localhost/sms/status", report("t-1", "Delivered", "2024-05-01T10:00:00Z")))).status).toBe(200);
    await until(() => got.some((e) => e.data.messageId === "t-1"), 5_000);
    // A second forwarder on the same state file would have sent it too by now.
    await Bun.sleep(300);
    expect(got.filter((e) => e.data.messageId === "t-1")).toHaveLength(1);
    await host.stop();
  });

  it("starts nothing for an instance that is never registered: no descriptor, no state file", () => {
    const log = join(dir, "unused.log");
    smsStatus({ log, forward: { url, secret: SECRET } });
    expect(openFdsTo(log)).toBe(0);
    expect(existsSync(statePathFor(log, url))).toBe(false);
  });

  it("starts with the first report when the app is served through app.fetch (Deno, Node)", async () => {
    const log = join(dir, "fetch.log");
    const host = new Elysia().use(smsStatus({ log, forward: { url, secret: SECRET } }));
    expect((await host.fetch(post("http://localhost/sms/status", report("f-1", "Delivered", "2024-05-01T10:00:00Z")))).status).toBe(200);
    await until(() => got.some((e) => e.data.messageId === "f-1"), 5_000);
    // Never listening, so app.stop() would refuse: its stop hooks by hand.
    for (const hook of host.event.stop ?? []) await hook.fn(host);
  });

  it("keeps its position in a stateDir that does not exist yet", async () => {
    const log = join(dir, "state-dir.log");
    const stateDir = join(dir, "positions", "sms");
    const host = app({ log, forward: { url, secret: SECRET, stateDir } });
    expect((await host.send(report("s-1", "Delivered", "2024-05-01T10:00:00Z"))).status).toBe(200);
    await until(() => readPosition(statePathFor(log, url, stateDir))?.offset === Bun.file(log).size, 5_000);
    await host.server.stop();
  });

  it("forwards where AbortSignal.any is missing (Node 20.0 to 20.2)", async () => {
    const any = AbortSignal.any;
    // @ts-expect-error: a runtime without it
    delete AbortSignal.any;
    try {
      const host = app({ log: join(dir, "old-node.log"), forward: { url, secret: SECRET } });
      expect((await host.send(report("n-1", "Delivered", "2024-05-01T10:00:00Z"))).status).toBe(200);
      await until(() => got.some((e) => e.data.messageId === "n-1"), 5_000);
      await host.server.stop();
    } finally {
      AbortSignal.any = any;
    }
  });

  it("keeps the secret out of the Elysia seed", () => {
    const plugin = smsStatus({ log: join(dir, "seed.log"), forward: { url, secret: SECRET } });
    expect(JSON.stringify(plugin.config.seed)).not.toContain(SECRET.slice("whsec_".length, 20));
  });

  it.each([
    ["a store instead of the log", { store: {} as never }, "forward reads the plugin's own JSONL log back"],
    ["the text format", { format: "text" as const }, "forward reads the plugin's own JSONL log back"],
    ["an ftp URL", { forward: { url: "ftp://x/", secret: SECRET } }, 'forward.url: "ftp://x/" is not an http or https URL'],
    ["a secret without whsec_", { forward: { url, secret: "hunter2" } }, "forward: the forwarding secret must be whsec_"],
    ["an unknown filter term", { forward: { url, secret: SECRET, filter: "dlr,sometimes" } }, 'forward: "sometimes" is not a kind'],
    ["the same URL twice", { forward: { url: [url, url], secret: SECRET } }, `forward.url: ${JSON.stringify(url)} is given twice`],
    ["a batch of 0", { forward: { url, secret: SECRET, batch: 0 } }, "forward.batch must be a whole number from 1 to 1000 (got 0)"],
    ["a secret that is not a string", { forward: { url, secret: 42 as never } }, "forward.secret must be a whsec_ string"],
    ["a filter that is not a string", { forward: { url, secret: SECRET, filter: ["dlr"] as never } }, "forward.filter must be a string of terms"],
    ["a URL list with a number", { forward: { url: [url, 8080] as never, secret: SECRET } }, "forward.url must be an http or https URL, or a list of them"],
    ["a timeout over 5 minutes", { forward: { url, secret: SECRET, timeoutMs: 600_000 } }, "forward.timeoutMs must be a number of milliseconds from 1 to 300000 (got 600000)"],
    ["one URL twice in different case", { forward: { url: ["http://LOCALHOST:9/h", "http://localhost:9/h"], secret: SECRET } }, 'forward.url: "http://localhost:9/h" is given twice'],
    ["a URL without its scheme", { forward: { url: "127.0.0.1:8471/hooks", secret: SECRET } }, 'forward.url: "127.0.0.1:8471/hooks" is not an http or https URL'],
    ["an option it does not have", { forward: { url, secret: SECRET, batchSize: 20 } as never }, "forward.batchSize is not an option (url, secret, filter, batch, timeoutMs, stateDir)"],
    ["a batch given as a string", { forward: { url, secret: SECRET, batch: "20" as never } }, 'forward.batch must be a whole number from 1 to 1000 (got "20")'],
    ["a URL whose token would show", { forward: { url: "ftp://x/?token=secret-token", secret: SECRET } }, 'forward.url: "ftp://x/" is not an http or https URL'],
  ] as [string, Partial<SmsStatusOptions>, string][])("refuses %s", (_what, options, message) => {
    const forward = options.forward ?? { url, secret: SECRET };
    expect(() => smsStatus({ log: join(dir, "refused.log"), ...options, forward })).toThrow(message);
  });
});
