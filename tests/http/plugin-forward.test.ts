/**
 * The plugin's `forward` option: what the host app's plugin writes reaches the application,
 * signed (verified with `standardwebhooks`), at least once, across the app being stopped while
 * the application is down; filters and batches as the server's flags; options it cannot honour
 * throw at once.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { Elysia } from "elysia";
import { Webhook } from "standardwebhooks";
import { smsStatus } from "../../src/http/plugin.ts";
import { Metrics } from "../../src/http/metrics.ts";
import { readPosition, statePathFor } from "../../src/forward/state.ts";
import type { SmsStatusOptions } from "../../src/http/options.ts";
import { logLines, post, routeeReport, status, tempDir, until } from "../helpers/utils.ts";

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
    await until(() => metrics.render().includes(`sms_status_forward_delivered_total{url="${url}"} 3`), 5_000);

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

  it.each([
    ["a store instead of the log", { store: {} as never }, "forward reads the plugin's own JSONL log back"],
    ["the text format", { format: "text" as const }, "forward reads the plugin's own JSONL log back"],
    ["an ftp URL", { forward: { url: "ftp://x/", secret: SECRET } }, 'forward.url: "ftp://x/" is not an http or https URL'],
    ["a secret without whsec_", { forward: { url, secret: "hunter2" } }, "forward: the forwarding secret must be whsec_"],
    ["an unknown filter term", { forward: { url, secret: SECRET, filter: "dlr,sometimes" } }, 'forward: "sometimes" is not a kind'],
    ["a batch of 0", { forward: { url, secret: SECRET, batch: 0 } }, "forward.batch must be a whole number from 1 to 1000 (got 0)"],
  ] as [string, Partial<SmsStatusOptions>, string][])("refuses %s", (_what, options, message) => {
    const forward = options.forward ?? { url, secret: SECRET };
    expect(() => smsStatus({ log: join(dir, "refused.log"), ...options, forward })).toThrow(message);
  });
});
