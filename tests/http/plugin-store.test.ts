/** The plugin with a ready store (`store: await openSqlStore(url)`): the database is the journal. */
import { describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { smsStatus } from "../../src/http/plugin.ts";
import { openSqlStore } from "../../src/store/sql/index.ts";
import { json, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("sms-status-plugin-store-");

describe("plugin with a store", () => {
  it("stores each report as a row, answers a retry as a duplicate, and writes no log file", async () => {
    const [a, b] = await Promise.all(["a", "b"].map((n) => openSqlStore(`sqlite://${join(dir, `${n}.sqlite`)}`)));
    const log = join(dir, "never.log");
    const app = new Elysia()
      .use(smsStatus({ store: a!, path: "/a", log }))
      .use(smsStatus({ store: b!, path: "/b", log }));
    const report = routeeReport();
    expect(await json(await app.handle(post("http://localhost/a", report)))).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
    expect(await json(await app.handle(post("http://localhost/a", report)))).toEqual({ ok: true, duplicate: true });
    expect((await app.handle(post("http://localhost/b", report))).status).toBe(200);
    for (const store of [a!, b!]) {
      const rows = await store.sql`SELECT message_id FROM sms_status_reports`;
      expect(rows).toEqual([{ message_id: report.messageId }]);
    }
    expect(existsSync(log)).toBe(false);
    await Promise.all([a!.close(), b!.close()]);
  });
});
