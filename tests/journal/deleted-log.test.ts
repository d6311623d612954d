import { describe, expect, it } from "bun:test";
import { existsSync, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import { FileJournal } from "../../src/journal/file-journal.ts";
import { smsStatus } from "../../src/http/plugin.ts";
import { logEntries, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("deleted-log-");

describe("a log deleted underneath", () => {
  it("the journal writes the next batch to a new file at the path", async () => {
    const path = join(dir, "journal", "status.log");
    mkdirSync(join(dir, "journal"));
    const journal = new FileJournal(path);
    await journal.append("before\n");
    unlinkSync(path);
    await journal.append("after-1\n");
    await journal.append("after-2\n");
    await journal.close();
    expect(readFileSync(path, "utf8")).toBe("after-1\nafter-2\n");
  });

  it("reports acknowledged after the delete are in the new log", async () => {
    const log = join(dir, "plugin.log");
    const app = new Elysia().use(smsStatus({ log }));
    const send = (body: unknown) => app.handle(post("http://localhost/sms/status", body));
    expect((await send(routeeReport())).status).toBe(200);
    unlinkSync(log);
    const later = [routeeReport(), routeeReport(), routeeReport()];
    for (const report of later) expect((await send(report)).status).toBe(200);
    expect(existsSync(log)).toBe(true);
    expect((await logEntries(log)).map((e) => e.messageId)).toEqual(later.map((r) => r.messageId));
  });
});
