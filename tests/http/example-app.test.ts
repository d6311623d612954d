import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { post, routeeReport, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir();
// The example reads where to log at import; other test files share this process's environment.
process.env.SMS_STATUS_LOG = join(dir, "example.log");
const { app } = await import("../../examples/existing-app.ts");
delete process.env.SMS_STATUS_LOG;

const send = async (report: Record<string, unknown>) =>
  expect((await app.handle(post("http://localhost/sms/status", report))).status).toBe(200);

const part = (n: number, name: string, second: number) =>
  routeeReport({ messageId: "ex", smsId: `ex-s${n}`, part: n, parts: 2, status: status(name, `2024-05-01T10:00:${second}Z`) });

/** The outcome the app's own route shows for `id`, or null for 404. */
async function outcome(id: string): Promise<string | null> {
  const res = await app.handle(new Request(`http://localhost/messages/${id}/status`));
  return res.status === 200 ? ((await res.json()) as { outcome: string }).outcome : null;
}

/** The outcome shown once it is `expected`, or whatever is shown after about a second. */
async function shown(id: string, expected: string): Promise<string | null> {
  let seen = await outcome(id);
  for (let i = 0; i < 100 && seen !== expected; i++) {
    await Bun.sleep(10);
    seen = await outcome(id);
  }
  return seen;
}

describe("examples/existing-app.ts", () => {
  it("shows a 2-part message delivered only once both parts are; a late Sent changes nothing", async () => {
    await send(part(1, "Delivered", 10));
    expect(await shown("ex", "pending")).toBe("pending");
    await send(part(2, "Delivered", 11));
    expect(await shown("ex", "delivered")).toBe("delivered");
    await send(part(2, "Sent", 50));
    // Hooks run in the order reports are written: once a later message shows, the Sent was handled.
    const marker = routeeReport();
    await send(marker);
    expect(await shown(marker.messageId as string, "delivered")).toBe("delivered");
    expect(await outcome("ex")).toBe("delivered");
  });
});
