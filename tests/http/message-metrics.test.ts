/** Message-level metrics: a message counts once when it reaches a final outcome, by outcome and channel. */
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { createServer } from "../../src/server/server.ts";
import { post, routeeReport, status, tempDir } from "../helpers/utils.ts";

describe("sms_status_messages_final_total", () => {
  it("counts a message once when it leaves pending, not its retries, pending reports or corrections", async () => {
    const { app, metrics, store } = createServer(parseServeConfig(["--log", join(tempDir("final-"), "final.log"), "--metrics-port", "0"], {}));
    const send = async (report: Record<string, unknown>) => expect((await app.handle(post("http://localhost/sms/status", report))).status).toBe(200);
    const sent = routeeReport({ messageId: "f-1", smsId: "f-1-1", status: status("Sent", "2024-05-01T10:00:00Z") });
    await send(sent);
    await send({ ...sent, status: status("Delivered", "2024-05-01T10:00:05Z") });
    await send({ ...sent, status: status("Delivered", "2024-05-01T10:00:05Z") }); // Routee's retry
    await send({ ...sent, status: status("Failed", "2024-05-01T10:00:09Z") }); // a late correction
    await send(routeeReport({ messageId: "f-2", status: status("Failed", "2024-05-01T10:00:00Z", "Expired") }));
    await send(routeeReport({ messageId: "f-3", status: status("Delivered", "2024-05-01T10:00:00Z"), originatingService: "Viber" }));
    const text = metrics.render();
    expect(text).toContain('sms_status_messages_final_total{outcome="delivered",channel="sms"} 1\n');
    expect(text).toContain('sms_status_messages_final_total{outcome="failed",channel="sms"} 1\n');
    expect(text).toContain('sms_status_messages_final_total{outcome="delivered",channel="viber"} 1\n');
    expect(text).not.toMatch(/sms_status_messages_final_total{outcome="pending"/);
    await store.close();
  });

  it("is not kept when nothing shows it (no --metrics-port, no --api-port): the server does not track messages then", async () => {
    const { app, metrics, store } = createServer(parseServeConfig(["--log", join(tempDir("final-"), "final.log")], {}));
    const res = await app.handle(post("http://localhost/sms/status", routeeReport({ status: status("Delivered", "2024-05-01T10:00:00Z") })));
    expect(res.status).toBe(200);
    expect(metrics.render()).not.toContain("sms_status_messages_final_total{");
    await store.close();
  });

  it("is kept for the dashboard with --api-port alone: /v1/health counts the message", async () => {
    const { app, metrics, store } = createServer(parseServeConfig(["--log", join(tempDir("final-"), "final.log"), "--api-port", "0"], {}));
    const res = await app.handle(post("http://localhost/sms/status", routeeReport({ status: status("Delivered", "2024-05-01T10:00:00Z") })));
    expect(res.status).toBe(200);
    expect(metrics.health().messagesFinal).toEqual({ delivered: { sms: 1 } });
    await store.close();
  });
});
