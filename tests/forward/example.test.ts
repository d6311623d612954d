/** The example receiver in examples/ gets the real server's forwarded webhooks and keeps the right status. */
import { afterAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { killServers, spawnServer } from "../../scripts/lib/startup.ts";
import { Webhook } from "standardwebhooks";
import { forwardReceiver } from "../../examples/forward-receiver.ts";
import { routeeReport, status, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir("forward-example-");
const SECRET = "whsec_" + Buffer.from("example-forwarding-key-0123456789ab").toString("base64");
writeFileSync(join(dir, "secret"), SECRET);
afterAll(killServers);

describe("examples/forward-receiver.ts", () => {
  it.each([[[]], [["--forward-batch", "10"]]])("verifies, drops repeats, and keeps Delivered when a late Sent arrives after it (%j)", async (flags: string[]) => {
    const receiver = forwardReceiver(SECRET);
    const app = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: receiver.handle });
    const server = await spawnServer([
      "--host", "127.0.0.1", "--port", "0", "--log", join(dir, `status${flags.length}.log`),
      "--forward", `http://127.0.0.1:${app.port}/hooks/sms`, "--forward-secret-file", join(dir, "secret"), ...flags,
    ]);
    const post = (body: unknown) => fetch(`${server.url}/sms/status`, { method: "POST", body: JSON.stringify(body) });
    const part = (n: number, name: string, at: string) =>
      routeeReport({ messageId: "m-1", smsId: `m-1-${n}`, part: n, parts: 2, status: status(name, at) });
    await post(part(1, "Delivered", "2024-05-01T10:00:05Z"));
    await post(part(1, "Sent", "2024-05-01T10:00:01Z")); // late
    await post(part(2, "Sent", "2024-05-01T10:00:02Z"));
    await until(() => (receiver.db.query("SELECT count(*) AS n FROM seen").get() as { n: number }).n === 3, 10_000);
    expect(receiver.outcome("m-1")).toBe("pending");
    await post(part(2, "Delivered", "2024-05-01T10:00:06Z"));
    await until(() => receiver.outcome("m-1") === "delivered", 10_000);
    const forged = await receiver.handle(new Request("http://x/", { method: "POST", body: "{}", headers: { "webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA" } }));
    expect(forged.status).toBe(401);
    server.proc.kill("SIGTERM");
    await server.proc.exited;
    app.stop(true);
  });

  it("drops an entry it has by its id, alone or in any batch, and stores all of a batch or none of it", async () => {
    const receiver = forwardReceiver(SECRET);
    const signer = new Webhook(SECRET);
    const send = (id: string, payload: unknown) => {
      const body = JSON.stringify(payload);
      const at = new Date();
      const headers = { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signer.sign(id, at, body) };
      return receiver.handle(new Request("http://x/", { method: "POST", body, headers }));
    };
    const entry = (id: string, message: string, outcome: string | undefined) => ({
      id,
      type: "sms_status.dlr",
      timestamp: "2024-05-01T10:00:00.000Z",
      data: { messageId: message, smsId: `${message}-1`, outcome, final: true, status: "Delivered", updatedDate: "2024-05-01T10:00:00Z" },
    });
    const batch = (...data: unknown[]) => ({ type: "sms_status.batch", timestamp: "2024-05-01T10:00:00.000Z", data });
    const seen = () => (receiver.db.query("SELECT webhook_id FROM seen ORDER BY webhook_id").all() as { webhook_id: string }[]).map((r) => r.webhook_id);
    expect((await send("msg_b1", batch(entry("msg_e1", "x-1", "delivered"), entry("msg_e2", "x-2", "delivered")))).status).toBe(204);
    // The same entries again: in another grouping, and one alone with its own id as the webhook's.
    expect((await send("msg_b2", batch(entry("msg_e2", "x-2", "failed")))).status).toBe(204);
    const { id: _id, ...alone } = entry("msg_e1", "x-1", "failed");
    expect((await send("msg_e1", alone)).status).toBe(204);
    expect(seen()).toEqual(["msg_e1", "msg_e2"]);
    expect([receiver.outcome("x-1"), receiver.outcome("x-2")]).toEqual(["delivered", "delivered"]);
    // An entry the table refuses (no outcome) fails the webhook, and the good entry before it is not kept either.
    await expect(send("msg_b3", batch(entry("msg_e3", "x-3", "delivered"), entry("msg_e4", "x-4", undefined)))).rejects.toThrow();
    expect(seen()).toEqual(["msg_e1", "msg_e2"]);
    expect(receiver.outcome("x-3")).toBeNull();
  });
});
