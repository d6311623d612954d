import { describe, expect, it } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { FileJournal } from "../../src/journal/file-journal.ts";
import { JournalOpenError, JournalWriteError } from "../../src/core/errors.ts";
import { tempDir } from "../helpers/utils.ts";

const dir = tempDir("journal-");
let n = 0;
const fresh = (name = "log") => join(dir, `${name}-${++n}`, "status.log");

describe("FileJournal", () => {
  it("creates parent directories and a file with mode 0640", async () => {
    const path = fresh();
    const journal = new FileJournal(path);
    await journal.append("one\n");
    await journal.close();
    expect(readFileSync(path, "utf8")).toBe("one\n");
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it("appends after a restart and never changes earlier bytes", async () => {
    const path = fresh();
    const first = new FileJournal(path);
    await first.append("a\n");
    await first.close();
    const before = readFileSync(path);
    const second = new FileJournal(path);
    await second.append("b\n");
    await second.close();
    const after = readFileSync(path);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(after.toString()).toBe("a\nb\n");
  });

  it("starts the next entry on its own line after a torn last line", async () => {
    const path = fresh();
    const first = new FileJournal(path);
    await first.append('{"complete":1}\n');
    await first.close();
    writeFileSync(path, '{"complete":1}\n{"torn":', { flag: "w" });
    const second = new FileJournal(path);
    await second.append('{"next":2}\n');
    await second.close();
    expect(readFileSync(path, "utf8")).toBe('{"complete":1}\n{"torn":\n{"next":2}\n');
  });

  it("repairs a torn line once, however often the log is reopened", async () => {
    const path = fresh();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{"n":1}\n{"n');
    for (let i = 0; i < 3; i++) await new FileJournal(path).close();
    expect(readFileSync(path, "utf8")).toBe('{"n":1}\n{"n\n');
  });

  it("shares one write among appends made in the same turn (group commit)", async () => {
    const path = fresh();
    const journal = new FileJournal(path);
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append(`${i}\n`)));
    expect(journal.stats.entries).toBe(200);
    expect(journal.stats.batches).toBeLessThan(5);
    await journal.close();
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(201);
  });

  it("resolves an append only once its bytes are in the file", async () => {
    const path = fresh();
    const journal = new FileJournal(path);
    for (let i = 0; i < 20; i++) {
      await journal.append(`line ${i}\n`);
      expect(readFileSync(path, "utf8").endsWith(`line ${i}\n`)).toBe(true);
    }
    await journal.close();
  });

  it("writes pending entries on close", async () => {
    const path = fresh();
    const journal = new FileJournal(path);
    const pending = journal.append("last\n");
    await journal.close();
    await pending;
    expect(readFileSync(path, "utf8")).toBe("last\n");
  });

  it("fails the batch with a safe error when the disk is full, then recovers once writable", async () => {
    const path = fresh();
    const journal = new FileJournal(path);
    await journal.append("kept\n");
    // Swap the path for /dev/full: every write now fails with ENOSPC.
    rmSync(path);
    symlinkSync("/dev/full", path);
    await journal.reopen();
    const failed = await journal.append("lost\n").catch((e) => e);
    expect(failed).toBeInstanceOf(JournalWriteError);
    expect(failed.message).toBe("log write failed (ENOSPC)");
    expect(journal.healthy).toBe(false);
    expect(journal.lastError).toBe("ENOSPC");
    expect(await journal.probe()).toBe(false); // a device: only a write can tell

    rmSync(path);
    writeFileSync(path, "kept\n");
    expect(await journal.probe()).toBe(true);
    await journal.append("after\n");
    await journal.close();
    expect(readFileSync(path, "utf8")).toBe("kept\nafter\n");
  });

  it("says which path cannot be opened and why", () => {
    const file = join(dir, "plain-file");
    writeFileSync(file, "");
    expect(() => new FileJournal(join(file, "status.log"))).toThrow(JournalOpenError);
    expect(() => new FileJournal(join(file, "status.log"))).toThrow(/cannot open log file .*plain-file\/status.log/);
  });

  it("refuses appends after close instead of losing them silently", async () => {
    const path = fresh();
    const journal = new FileJournal(path);
    await journal.close();
    expect(journal.append("x\n")).rejects.toBeInstanceOf(JournalWriteError);
    expect(existsSync(path)).toBe(true);
  });
});
