import { describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileJournal } from "../src/journal.ts";
import { tempDir } from "./utils.ts";

const dir = tempDir("sms-status-reopen-");
let n = 0;
const logPath = () => join(dir, `status-${++n}.log`);

describe("opening an existing log", () => {
  // Regression: the file was opened O_WRONLY ("a"), so reading its last byte failed with EBADF
  // and the server could not start again on any non-empty log.
  it("appends after complete entries without changing a byte", async () => {
    const path = logPath();
    writeFileSync(path, '{"n":1}\n{"n":2}\n');
    const journal = new FileJournal(path);
    await journal.append('{"n":3}\n');
    await journal.close();
    expect(readFileSync(path, "utf8")).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it("ends a torn last line with a newline, so the next entry starts on its own line", async () => {
    const path = logPath();
    writeFileSync(path, '{"n":1}\n{"n":2,"ha');
    const journal = new FileJournal(path);
    await journal.append('{"n":3}\n');
    await journal.close();
    expect(readFileSync(path, "utf8")).toBe('{"n":1}\n{"n":2,"ha\n{"n":3}\n');
  });

  it("repairs a torn line once, however often the log is reopened", async () => {
    const path = logPath();
    writeFileSync(path, '{"n":1}\n{"n');
    for (let i = 0; i < 3; i++) await new FileJournal(path).close();
    expect(readFileSync(path, "utf8")).toBe('{"n":1}\n{"n\n');
  });
});
