/**
 * The log as an outbox (forwarding and the SQLite view read through it) across a rotation as
 * logrotate does it: rename, create an empty file, then SIGHUP. Until the writer reopens the path
 * it still appends to the renamed file; those entries must be read too, before the new file's.
 */
import { describe, expect, it } from "bun:test";
import { appendFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Outbox } from "../../src/log/outbox.ts";
import { tempDir } from "../helpers/utils.ts";

const dir = tempDir("outbox-");
const line = (name: string) => `{"entry":"${name}"}\n`;
const texts = (outbox: Outbox) => outbox.read(100).map((l) => l.text);

describe("Outbox across a rotation", () => {
  it("reads what the writer appends to the renamed file before its reopen, then the new file", () => {
    const log = join(dir, "late.log");
    writeFileSync(log, line("a") + line("b"));
    const outbox = new Outbox(log, { ino: statSync(log).ino, offset: 0 });
    expect(texts(outbox)).toEqual(['{"entry":"a"}', '{"entry":"b"}']);
    // logrotate: rename, then create the new file; the server has not had its SIGHUP yet.
    renameSync(log, `${log}.1`);
    writeFileSync(log, "");
    expect(texts(outbox)).toEqual([]);
    appendFileSync(`${log}.1`, line("c")); // written to the renamed file before the reopen
    expect(texts(outbox)).toEqual(['{"entry":"c"}']);
    // The reopen: the next entries go to the new file; one more had reached the old one just before.
    appendFileSync(`${log}.1`, line("d"));
    appendFileSync(log, line("e"));
    expect(texts(outbox)).toEqual(['{"entry":"d"}', '{"entry":"e"}']);
    appendFileSync(log, line("f"));
    const [f] = outbox.read(100);
    expect(f).toEqual({ ino: statSync(log).ino, end: 2 * line("e").length, text: '{"entry":"f"}' });
    outbox.close();
  });

  it("goes on to the new file at once when the writer has already moved to it", () => {
    const log = join(dir, "moved.log");
    writeFileSync(log, line("a"));
    const outbox = new Outbox(log, { ino: statSync(log).ino, offset: 0 });
    renameSync(log, `${log}.1`);
    writeFileSync(log, line("b"));
    expect(texts(outbox)).toEqual(['{"entry":"a"}', '{"entry":"b"}']);
    outbox.close();
  });
});
