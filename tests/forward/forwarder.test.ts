/**
 * Durable forwarding against real HTTP receivers that fail: every entry arrives at least once, in
 * log order per message, with a signature the `standardwebhooks` package verifies; the position
 * survives a stop and a rotation; 410 stops forwarding.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { appendFileSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { FORWARD_EVERYTHING, type ForwardFilter } from "../../src/forward/filter.ts";
import { Forwarder } from "../../src/forward/forwarder.ts";
import { ForwarderThread } from "../../src/forward/thread.ts";
import { PositionError, readPosition, statePathFor, writePosition } from "../../src/forward/state.ts";
import { ROUTEE_CALLBACKS } from "../helpers/routee-callbacks.ts";
import { reportLine, routeeReport, runCli, status as routeeStatus, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir("forward-");
const SECRET = "whsec_" + Buffer.from("forwarding-test-key-0123456789abcdef").toString("base64");
const verifier = new Webhook(SECRET);
const forwarders: (Forwarder | ForwarderThread)[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(forwarders.map((f) => f.stop()));
  for (const s of servers) s.close();
});

/** Log lines for `messages` messages of 3 reports each (Queued, Sent, Delivered), interleaved. */
function lines(prefix: string, messages: number): { text: string; messageId: string; status: string }[] {
  const out: { text: string; messageId: string; status: string }[] = [];
  for (const [i, status] of ["Queued", "Sent", "Delivered"].entries())
    for (let m = 0; m < messages; m++) {
      const messageId = `${prefix}-${m}`;
      const report = routeeReport({ messageId, smsId: `${messageId}-1`, status: routeeStatus(status, `2024-05-01T10:00:0${i}Z`) });
      out.push({ text: reportLine(report, new Date(Date.UTC(2024, 4, 1, 10, 0, i, m))), messageId, status });
    }
  return out;
}

interface Received {
  /** Successful deliveries in the order answered 2xx: [messageId, status, webhook-id or, in a batch, the entry's id]. */
  delivered: [string, string, string][];
  badSignatures: number;
  /** Entries per webhook answered 2xx. */
  sizes: number[];
}

type Payload = { type: string; data: { messageId: string; status: string } };
type BatchPayload = { type: "sms_status.batch"; data: (Payload & { id: string })[] };

/**
 * A receiver that fails about half the time (500, a reset connection, or an answer slower than
 * the forwarder's timeout) and verifies every signature with `standardwebhooks`.
 */
async function flakyReceiver(flaky = true): Promise<{ url: string; got: Received; server: Server }> {
  const got: Received = { delivered: [], badSignatures: 0, sizes: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let payload: Payload | BatchPayload;
      try {
        payload = verifier.verify(body, req.headers as Record<string, string>) as typeof payload;
      } catch {
        got.badSignatures += 1;
        res.writeHead(400).end();
        return;
      }
      const roll = flaky ? Math.random() : 1;
      if (roll < 0.2) return void res.writeHead(500).end("no");
      if (roll < 0.35) return void req.socket.destroy(); // connection reset
      if (roll < 0.45) return void setTimeout(() => res.writeHead(200).end(), 400); // past the timeout
      if (payload.type === "sms_status.batch") {
        const batch = (payload as BatchPayload).data;
        for (const { id, data } of batch) got.delivered.push([data.messageId, data.status, id]);
        got.sizes.push(batch.length);
      } else {
        const { data } = payload as Payload;
        got.delivered.push([data.messageId, data.status, String(req.headers["webhook-id"])]);
        got.sizes.push(1);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/sms`, got, server };
}

/** A receiver that verifies and keeps every body with its webhook-id, in arrival order, and answers 204. */
function recorder(): { url: string; bodies: { id: string; body: string }[]; stop: () => void } {
  const bodies: { id: string; body: string }[] = [];
  const app = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      verifier.verify(body, Object.fromEntries(request.headers));
      bodies.push({ id: request.headers.get("webhook-id")!, body });
      return new Response(null, { status: 204 });
    },
  });
  return { url: `http://127.0.0.1:${app.port}/`, bodies, stop: () => app.stop(true) };
}

function forwarder(log: string, url: string, statePath: string, batch = 1): Forwarder {
  const f = new Forwarder({ log, url, secret: SECRET, statePath, timeoutMs: 200, backoffMs: 5, pollMs: 10, concurrency: 8, batch, warn: () => {} });
  forwarders.push(f);
  return f;
}

/** Every message's successful deliveries in log order (Queued, Sent, Delivered), and every entry there. */
function expectComplete(got: Received, sent: { messageId: string; status: string }[]): void {
  expect(got.badSignatures).toBe(0);
  const byMessage = new Map<string, string[]>();
  for (const [messageId, status] of got.delivered) byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), status]);
  for (const { messageId } of sent) {
    const statuses = byMessage.get(messageId) ?? [];
    // At least once each, first delivered in log order (a restart may send some again).
    expect(statuses.filter((s, i) => statuses.indexOf(s) === i)).toEqual(["Queued", "Sent", "Delivered"]);
  }
}

describe.each([1, 20])("forwarding, up to %i entries per webhook", (batch) => {
  it("delivers every entry at least once, in order per message, signed, through 500s, resets and timeouts", async () => {
    const log = join(dir, `${batch}-flaky.log`);
    writeFileSync(log, "");
    const receiver = await flakyReceiver();
    const f = forwarder(log, receiver.url, join(dir, `${batch}-flaky.state`), batch);
    f.start();
    const sent = lines(`flaky${batch}`, 40);
    for (const line of sent) appendFileSync(log, line.text);
    await until(() => new Set(receiver.got.delivered.map(([, , id]) => id)).size === sent.length, 30_000);
    expectComplete(receiver.got, sent);
    expect(f.stats.failures).toBeGreaterThan(0);
    // Batches when asked for, never above the size asked.
    expect(Math.max(...receiver.got.sizes)).toBeLessThanOrEqual(batch);
    if (batch > 1) expect(Math.max(...receiver.got.sizes)).toBeGreaterThan(1);
    await until(() => readPosition(join(dir, `${batch}-flaky.state`))?.offset === Bun.file(log).size, 5_000);
  });

  it("keeps entries while the application is down and delivers them when it comes back", async () => {
    const log = join(dir, `${batch}-down.log`);
    writeFileSync(log, "");
    const receiver = await flakyReceiver(false);
    const { url } = receiver;
    await new Promise<void>((r) => receiver.server.close(() => r()));
    const f = forwarder(log, url, join(dir, `${batch}-down.state`), batch);
    f.start();
    const sent = lines(`down${batch}`, 10);
    for (const line of sent) appendFileSync(log, line.text);
    await until(() => f.stats.failures >= 10, 10_000);
    expect(receiver.got.delivered).toEqual([]);
    await new Promise<void>((r) => receiver.server.listen(Number(new URL(url).port), "127.0.0.1", r));
    await until(() => new Set(receiver.got.delivered.map(([, , id]) => id)).size === sent.length, 30_000);
    expectComplete(receiver.got, sent);
  });

  it("resumes from its saved position after a stop and across a rotation, skipping nothing", async () => {
    const log = join(dir, `${batch}-resume.log`);
    const state = join(dir, `${batch}-resume.state`);
    writeFileSync(log, "");
    const receiver = await flakyReceiver();
    const first = forwarder(log, receiver.url, state, batch);
    first.start();
    const before = lines(`before${batch}`, 20);
    for (const line of before) appendFileSync(log, line.text);
    await until(() => receiver.got.delivered.length >= 10, 30_000);
    await first.stop();
    // While it is stopped: more entries, then a rotation, then entries in the new file.
    const middle = lines(`middle${batch}`, 10);
    for (const line of middle) appendFileSync(log, line.text);
    renameSync(log, `${log}.1`);
    const after = lines(`after${batch}`, 10);
    writeFileSync(log, after.map((l) => l.text).join(""));
    const second = forwarder(log, receiver.url, state, batch);
    second.start();
    const all = [...before, ...middle, ...after];
    await until(() => new Set(receiver.got.delivered.map(([m, s]) => `${m}/${s}`)).size === all.length, 30_000);
    expectComplete(receiver.got, all);
  });
});

describe("forwarding", () => {
  it("says once that forwarding fails and once that it works again, not at every retry", async () => {
    const log = join(dir, "outage.log");
    writeFileSync(log, "");
    const receiver = await flakyReceiver(false);
    const port = Number(new URL(receiver.url).port);
    await new Promise<void>((r) => receiver.server.close(() => r()));
    const warnings: string[] = [];
    const f = new Forwarder({ log, url: receiver.url, secret: SECRET, statePath: join(dir, "outage.state"), backoffMs: 5, pollMs: 10, warn: (m) => warnings.push(m) });
    forwarders.push(f);
    f.start();
    for (const line of lines("outage", 3)) appendFileSync(log, line.text);
    await until(() => f.stats.failures >= 10, 10_000);
    await new Promise<void>((r) => receiver.server.listen(port, "127.0.0.1", r));
    await until(() => f.stats.delivered === 9, 10_000);
    const about = warnings.filter((w) => !w.includes("starting at the end"));
    expect(about).toEqual([
      "sms-status: forwarding to " + receiver.url + " fails (no answer); retrying with backoff",
      "sms-status: forwarding to " + receiver.url + " works again",
    ]);
  });

  it("stops forwarding to a URL that answers 410 Gone", async () => {
    const log = join(dir, "gone.log");
    writeFileSync(log, "");
    let calls = 0;
    const server = createServer((_req, res) => {
      calls += 1;
      res.writeHead(410).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    servers.push(server);
    const f = forwarder(log, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, join(dir, "gone.state"));
    f.start();
    for (const line of lines("gone", 5)) appendFileSync(log, line.text);
    await until(() => !f.stats.active, 5_000);
    await f.stop();
    // No retry after a 410: at most the attempts already in flight, one per message.
    expect(calls).toBe(f.stats.attempts);
    expect(calls).toBeLessThanOrEqual(5);
    expect(f.stats.delivered).toBe(0);
  });
  it("sends the log line itself as data, byte for byte (a U+2028 stays escaped as the log has it)", async () => {
    const log = join(dir, "bytes.log");
    writeFileSync(log, "");
    const app = recorder();
    const f = forwarder(log, app.url, join(dir, "bytes.state"));
    f.start();
    const line = reportLine(routeeReport({ messageId: "bytes-1", smsId: "bytes-1-1", message: "Code 12\u2028 é" }), "2024-05-01T10:00:00.000Z");
    expect(line).toContain("\\u2028");
    appendFileSync(log, line);
    await until(() => app.bodies.length === 1, 5_000);
    app.stop();
    expect(app.bodies[0]!.body).toBe(`{"type":"sms_status.dlr","timestamp":"2024-05-01T10:00:00.000Z","data":${line.trimEnd()}}`);
  });

  it("batches: the same line in the same envelope, with the id it has as a webhook of its own", async () => {
    const app = recorder();
    const { bodies } = app;
    const line = reportLine(routeeReport({ messageId: "batch-1", smsId: "batch-1-1" }), "2024-05-01T10:00:00.000Z");
    const log = join(dir, "envelope.log");
    writeFileSync(log, line);
    const state = join(dir, "envelope.state");
    // The same entry forwarded twice from the log's start: alone, then in a batch.
    for (const batch of [1, 5]) {
      writePosition(state, { ino: statSync(log).ino, offset: 0 });
      const f = new Forwarder({ log, url: app.url, secret: SECRET, statePath: state, pollMs: 10, batch, warn: () => {} });
      forwarders.push(f);
      f.start();
      await until(() => f.stats.delivered === 1, 5_000);
      await f.stop();
    }
    app.stop();
    const single = `{"type":"sms_status.dlr","timestamp":"2024-05-01T10:00:00.000Z","data":${line.trimEnd()}}`;
    expect(bodies[0]!.body).toBe(single);
    const inBatch = JSON.parse(bodies[1]!.body);
    expect(inBatch.type).toBe("sms_status.batch");
    expect(inBatch.timestamp).toBe("2024-05-01T10:00:00.000Z");
    expect(inBatch.data).toHaveLength(1);
    expect(bodies[1]!.body).toBe(`{"type":"sms_status.batch","timestamp":"2024-05-01T10:00:00.000Z","data":[{"id":"${inBatch.data[0].id}",${single.slice(1)}]}`);
    // The entry keeps its id in a batch; the application drops repeats by it (the batch has its own).
    expect(inBatch.data[0].id).toBe(bodies[0]!.id);
    expect(bodies[1]!.id).not.toBe(bodies[0]!.id);
  });

  it("batches: a body stays within 1 MiB in UTF-8 bytes, whatever the script of the reports", async () => {
    const app = recorder();
    // One message, so one lane: 20 reports of 60 KB each in UTF-8 (20,000 three-byte characters).
    const text = "語".repeat(20_000);
    const sent = Array.from({ length: 20 }, (_, i) =>
      reportLine(routeeReport({ messageId: "wide-1", smsId: `wide-1-${i}`, message: text }), "2024-05-01T10:00:00.000Z"),
    );
    const log = join(dir, "wide.log");
    writeFileSync(log, sent.join(""));
    const state = join(dir, "wide.state");
    writePosition(state, { ino: statSync(log).ino, offset: 0 });
    const f = new Forwarder({ log, url: app.url, secret: SECRET, statePath: state, pollMs: 10, batch: 1000, warn: () => {} });
    forwarders.push(f);
    f.start();
    await until(() => f.stats.delivered === sent.length, 10_000);
    await f.stop();
    app.stop();
    const sizes = app.bodies.map(({ body }) => Buffer.byteLength(body));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1 << 20);
    expect(app.bodies.map(({ body }) => JSON.parse(body).data.length).reduce((a, b) => a + b)).toBe(sent.length);
  });

  it("reads on as soon as deliveries make room in a full window, without waiting for the next poll", async () => {
    const log = join(dir, "window.log");
    const state = join(dir, "window.state");
    const sent = lines("window", 20);
    writeFileSync(log, sent.map((l) => l.text).join(""));
    writePosition(state, { ino: statSync(log).ino, offset: 0 });
    const receiver = await flakyReceiver(false);
    // The poll is a minute away: only a wake on delivery can get past the first window.
    const f = new Forwarder({ log, url: receiver.url, secret: SECRET, statePath: state, window: 8, pollMs: 60_000, warn: () => {} });
    forwarders.push(f);
    f.start();
    await until(() => f.stats.delivered === sent.length, 10_000);
    expectComplete(receiver.got, sent);
  });

  it("runs in its own thread: delivers, reports its figures to this one, and saves its position on stop", async () => {
    const log = join(dir, "thread.log");
    const state = join(dir, "thread.state");
    writeFileSync(log, "");
    const receiver = await flakyReceiver(false);
    const f = new ForwarderThread({ log, url: receiver.url, secret: SECRET, statePath: state, pollMs: 10, warn: () => {} });
    forwarders.push(f);
    await f.start();
    // Started means the position is held: entries appended now are forwarded.
    const sent = lines("thread", 10);
    for (const line of sent) appendFileSync(log, line.text);
    await until(() => f.stats.delivered === sent.length, 10_000);
    expectComplete(receiver.got, sent);
    await f.stop();
    expect(readPosition(state)?.offset).toBe(Bun.file(log).size);
  });
});

describe("--forward-filter", () => {
  /** Each verified body's `data`, in arrival order. */
  function collector(): { url: string; got: Record<string, any>[]; stop: () => void } {
    const app = recorder();
    return {
      url: app.url,
      get got() {
        return app.bodies.map(({ body }) => JSON.parse(body).data as Record<string, any>);
      },
      stop: app.stop,
    };
  }

  function filtered(name: string, url: string, filter: Partial<ForwardFilter>): Forwarder {
    const log = join(dir, `${name}.log`);
    const f = new Forwarder({ log, url, secret: SECRET, statePath: join(dir, `${name}.state`), pollMs: 10, concurrency: 1, filter: { ...FORWARD_EVERYTHING, ...filter }, warn: () => {} });
    forwarders.push(f);
    return f;
  }

  const line = (messageId: string, smsId: string, status: string, date: string, parts = 1) =>
    reportLine(routeeReport({ messageId, smsId, parts, status: routeeStatus(status, date) }), date);
  const inbound = reportLine(ROUTEE_CALLBACKS.find((c) => c.name === "inbound SMS")!.body, "2024-05-01T10:00:00.000Z");

  it("keeps only the kinds and outcomes named", async () => {
    const app = collector();
    const log = join(dir, "kinds.log");
    writeFileSync(log, "");
    const f = filtered("kinds", app.url, { kinds: ["dlr"], outcomes: ["failed", "delivered"] });
    f.start();
    appendFileSync(log, inbound + line("k-1", "k-1-1", "Sent", "2024-05-01T10:00:01Z") + line("k-1", "k-1-1", "Failed", "2024-05-01T10:00:02Z") + line("k-2", "k-2-1", "Delivered", "2024-05-01T10:00:03Z"));
    await until(() => f.stats.pending === 0 && readPosition(join(dir, "kinds.state"))?.offset === Bun.file(log).size, 5_000);
    app.stop();
    expect(app.got.map((d) => `${d.messageId} ${d.status}`).sort()).toEqual(["k-1 Failed", "k-2 Delivered"]);
    expect(f.stats.delivered).toBe(2);
  });

  it("changes: only reports that change their message's status, remembered across a restart", async () => {
    const app = collector();
    const log = join(dir, "changes.log");
    const state = join(dir, "changes.state");
    writeFileSync(log, "");
    const first = filtered("changes", app.url, { changes: true });
    first.start();
    appendFileSync(
      log,
      [
        line("c-1", "c-1-1", "Queued", "2024-05-01T10:00:00Z"),
        line("c-1", "c-1-1", "Sent", "2024-05-01T10:00:01Z"), // status name changed
        line("c-1", "c-1-1", "Sent", "2024-05-01T10:00:02Z"), // the same status again: no change
        line("c-1", "c-1-1", "Delivered", "2024-05-01T10:00:03Z"),
        line("c-1", "c-1-1", "Sent", "2024-05-01T10:00:01Z"), // late: a Sent never undoes Delivered
        inbound, // not a delivery report
        line("c-2", "c-2-1", "Delivered", "2024-05-01T10:00:04Z", 2),
        line("c-2", "c-2-2", "Delivered", "2024-05-01T10:00:05Z", 2), // the second part delivered
      ].join(""),
    );
    await until(() => readPosition(state)?.offset === Bun.file(log).size, 5_000);
    await first.stop();
    // In order per message; messages go in parallel, so grouped by message first.
    const byMessage = (got: Record<string, any>[]) => [...got].sort((a, b) => a.messageId.localeCompare(b.messageId)).map((d) => `${d.messageId}/${d.smsId} ${d.status}`);
    expect(byMessage(app.got)).toEqual([
      "c-1/c-1-1 Queued",
      "c-1/c-1-1 Sent",
      "c-1/c-1-1 Delivered",
      "c-2/c-2-1 Delivered",
      "c-2/c-2-2 Delivered",
    ]);
    // After a restart it still knows c-1 was delivered: its repeat is no change; c-3 is new.
    const before = app.got.length;
    const second = filtered("changes", app.url, { changes: true });
    second.start();
    appendFileSync(log, line("c-1", "c-1-1", "Delivered", "2024-05-01T10:00:09Z") + line("c-3", "c-3-1", "Queued", "2024-05-01T10:00:10Z"));
    await until(() => readPosition(state)?.offset === Bun.file(log).size, 5_000);
    app.stop();
    expect(app.got.slice(before).map((d) => `${d.messageId} ${d.status}`)).toEqual(["c-3 Queued"]);
  });

  it("changes: after the log was truncated in place below the saved position, the new lines are news, not known statuses", async () => {
    const app = collector();
    const log = join(dir, "changes-truncated.log");
    const state = join(dir, "changes-truncated.state");
    writeFileSync(log, [1, 2, 3, 4].map((i) => line(`old-${i}`, `old-${i}-1`, "Delivered", "2024-05-01T10:00:00Z")).join(""));
    writePosition(state, { ino: statSync(log).ino, offset: statSync(log).size });
    // Truncated (copytruncate) and written again, shorter than the position: the forwarder reads it from its start.
    writeFileSync(log, line("t-1", "t-1-1", "Delivered", "2024-05-01T10:00:01Z"));
    const f = filtered("changes-truncated", app.url, { changes: true });
    f.start();
    await until(() => readPosition(state)?.offset === Bun.file(log).size, 5_000);
    app.stop();
    expect(app.got.map((d) => `${d.messageId} ${d.status}`)).toEqual(["t-1 Delivered"]);
  });

  it("changes: a message without a messageId (Viber, two-step verification) is known by its trackingId", async () => {
    const app = collector();
    const log = join(dir, "changes-tracking.log");
    writeFileSync(log, "");
    const f = filtered("changes-tracking", app.url, { changes: true });
    f.start();
    const callback = (name: string) => reportLine(ROUTEE_CALLBACKS.find((c) => c.name === name)!.body, "2024-05-01T10:00:00.000Z");
    const viber = callback("Viber message status");
    // The repeat changes nothing: the tracker knows the message by its trackingId.
    appendFileSync(log, viber + viber + callback("two-step verification"));
    await until(() => readPosition(join(dir, "changes-tracking.state"))?.offset === Bun.file(log).size, 5_000);
    app.stop();
    expect(app.got.map((d) => `${d.channel} ${d.trackingId} ${d.status}`).sort()).toEqual([
      "verification 2f1d3e4c-0001-4a2b-9c8d-000000000001 Verified",
      "viber 0a047b46-a4dd-4ca8-b817-a6a134dd0001 DELIVERED",
    ]);
  });
});

describe("a state file that holds no position", () => {
  it("stops the start with a clear message, never a silent start at the log's end", () => {
    const log = join(dir, "corrupt.log");
    writeFileSync(log, lines("corrupt", 1)[0]!.text);
    const url = "http://127.0.0.1:9/hooks";
    const state = statePathFor(log, url);
    writeFileSync(state, "{\"ino\":"); // cut short, as by a full disk outside the atomic rename
    const secretFile = join(dir, "corrupt.secret");
    writeFileSync(secretFile, SECRET);
    expect(() => new ForwarderThread({ log, url, secret: SECRET, statePath: state })).toThrow(`${state} holds no forwarding position`);
    expect(() => new Forwarder({ log, url, secret: SECRET, statePath: state, warn: () => {} }).start()).toThrow(PositionError);
    const { code, stderr } = runCli(["--host", "127.0.0.1", "--port", "0", "--no-db", "--log", log, "--forward", url, "--forward-secret-file", secretFile]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${state} holds no forwarding position: fix it, or delete it`);
    // Nothing was written over it.
    expect(readFileSync(state, "utf8")).toBe("{\"ino\":");
    expect(readPosition(join(dir, "never-written.state"))).toBeNull();
  });
});

describe("stopping", () => {
  it("does not wait out a retry's backoff (a minute here)", async () => {
    const log = join(dir, "stop.log");
    writeFileSync(log, "");
    // A port nothing listens on: every attempt fails at once and waits a minute before the next.
    const f = new Forwarder({ log, url: "http://127.0.0.1:9/", secret: SECRET, statePath: join(dir, "stop.state"), backoffMs: 60_000, pollMs: 10, warn: () => {} });
    f.start();
    for (const line of lines("stop", 2)) appendFileSync(log, line.text);
    await until(() => f.stats.failures >= 2, 5_000);
    // Resolves at once; had it waited for the backoff, the test would time out.
    await f.stop();
    expect(f.stats.delivered).toBe(0);
  });
});
