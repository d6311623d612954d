/**
 * Forwarding across crashes on both sides: the server is killed with SIGKILL at random moments
 * while reports arrive, and the application fails the first attempt of a fifth of them; after the last restart
 * every report the server acknowledged reaches the application, signed, at least once.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { killServers, spawnServer } from "../../scripts/lib/startup.ts";
import { routeeReport, status, tempDir, until } from "../helpers/utils.ts";

const dir = tempDir("forward-crash-");
const SECRET = "whsec_" + Buffer.from("crash-test-forwarding-key-0123456789").toString("base64");
writeFileSync(join(dir, "secret"), SECRET + "\n");
afterAll(killServers);

describe("forwarding under kill -9", () => {
  it.each([[[]], [["--forward-batch", "20"]]])("delivers every acknowledged report at least once, whatever the moment of the kills (%j)", async (flags: string[]) => {
    const verifier = new Webhook(SECRET);
    const delivered = new Set<string>();
    const refusedOnce = new Set<string>();
    let badSignatures = 0;
    let largest = 0;
    const app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        try {
          type Entry = { smsId: string; status: string };
          const payload = verifier.verify(Buffer.concat(chunks).toString(), req.headers as Record<string, string>) as
            | { type: "sms_status.dlr"; data: Entry }
            | { type: "sms_status.batch"; data: { data: Entry }[] };
          // A fifth of the entries fail their first attempt: retried, then delivered.
          const id = String(req.headers["webhook-id"]);
          if (id.charCodeAt(id.length - 1) % 5 === 0 && !refusedOnce.has(id)) {
            refusedOnce.add(id);
            return void res.writeHead(503).end();
          }
          const entries = payload.type === "sms_status.batch" ? payload.data.map((e) => e.data) : [payload.data];
          for (const data of entries) delivered.add(`${data.smsId}/${data.status}`);
          largest = Math.max(largest, entries.length);
          res.writeHead(200).end();
        } catch {
          badSignatures += 1;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/sms-events`;
    const log = join(dir, `status${flags.length}.log`);
    const args = ["--host", "127.0.0.1", "--port", "0", "--log", log, "--forward", appUrl, "--forward-secret-file", join(dir, "secret"), ...flags];

    const acknowledged = new Set<string>();
    let n = 0;
    for (let round = 0; round < 4; round++) {
      const server = await spawnServer(args);
      const killAt = Date.now() + 150 + Math.random() * 400;
      // Reports keep arriving until the kill, some of them in flight when it lands.
      while (Date.now() < killAt) {
        const batch = Array.from({ length: 8 }, () => {
          const smsId = `s-${++n}`;
          const name = n % 2 ? "Sent" : "Delivered";
          const report = routeeReport({ messageId: `m-${Math.ceil(n / 2)}`, smsId, status: status(name, "2024-05-01T10:00:00Z") });
          return fetch(`${server.url}/sms/status`, { method: "POST", body: JSON.stringify(report) }).then(
            (res) => void (res.status === 200 && acknowledged.add(`${smsId}/${name}`)),
            () => {},
          );
        });
        await Promise.all(batch);
      }
      server.proc.kill("SIGKILL");
      await server.proc.exited;
    }
    // The last restart forwards what the kills left behind.
    const last = await spawnServer(args);
    await until(() => [...acknowledged].every((key) => delivered.has(key)), 60_000);
    last.proc.kill("SIGTERM");
    await last.proc.exited;
    app.close();
    expect(acknowledged.size).toBeGreaterThan(100);
    expect(badSignatures).toBe(0);
    expect(refusedOnce.size).toBeGreaterThan(0);
    // With --forward-batch the backlog a kill leaves goes in batches.
    if (flags.length > 0) expect(largest).toBeGreaterThan(1);
    else expect(largest).toBe(1);
    expect([...acknowledged].filter((key) => !delivered.has(key))).toEqual([]);
  });
});
