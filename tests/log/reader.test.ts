import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type LogEntry } from "../../src/core/entry.ts";
import { renderText } from "../../src/core/render.ts";
import { lastLines, parseEntry, parseStatusFields, readLines, receivedAtOf } from "../../src/log/reader.ts";
import { LogReadError, TextFormatLogError } from "../../src/core/errors.ts";
import { dlrLine, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir();

async function allLines(files: string[]): Promise<string[]> {
  const out: string[] = [];
  await readLines(files, (lines) => out.push(...lines.filter((l) => l !== "")));
  return out;
}

const lines = Array.from({ length: 5000 }, (_, i) =>
  dlrLine({ messageId: `m${i}`, smsId: `s${i}` }, new Date(Date.UTC(2024, 4, 1) + i * 1000)),
);

describe("log reader", () => {
  it("streams every line of a plain file, across chunk boundaries", async () => {
    const path = join(dir, "plain.log");
    writeFileSync(path, lines.join(""));
    const read = await allLines([path]);
    expect(read.length).toBe(5000);
    expect(read[4999]).toBe(lines[4999]!.trimEnd());
  });

  it("reads gzip-compressed files, whatever their name, and files in the order given", async () => {
    const gz = join(dir, "rotated.log.1.gz");
    const odd = join(dir, "rotated-no-suffix");
    const plain = join(dir, "current.log");
    writeFileSync(gz, gzipSync(lines.slice(0, 3000).join("")));
    writeFileSync(odd, gzipSync(lines.slice(3000, 4000).join("")));
    writeFileSync(plain, lines.slice(4000).join(""));
    const read = await allLines([gz, odd, plain]);
    expect(read).toEqual(lines.map((l) => l.trimEnd()));
  });

  it("reads a last line without a newline and CRLF line ends", async () => {
    const path = join(dir, "crlf.log");
    writeFileSync(path, lines[0]!.trimEnd() + "\r\n" + lines[1]!.trimEnd());
    expect(await allLines([path])).toEqual([lines[0]!.trimEnd(), lines[1]!.trimEnd()]);
  });

  it("refuses a text-format log, naming the file", async () => {
    const path = join(dir, "text.log");
    const entry = parseEntry(lines[0]!.trimEnd())!;
    writeFileSync(path, renderText(entry) + renderText({ ...entry, outcome: "pending", status: "Sent" }));
    const error = await readLines([path], () => {}).catch((e) => e);
    expect(error).toBeInstanceOf(TextFormatLogError);
    expect(error.message).toBe(`${path} looks like a text-format log; report/lookup/tail need --format jsonl`);
  });

  it("says which file is missing or not gzip after all", async () => {
    const missing = join(dir, "nope.log");
    await expect(readLines([missing], () => {})).rejects.toThrow(`cannot read ${missing}: no such file`);
    const broken = join(dir, "broken.gz");
    writeFileSync(broken, gzipSync(lines.join("")).subarray(0, 2000));
    const error = await readLines([broken], () => {}).catch((e) => e);
    expect(error).toBeInstanceOf(LogReadError);
    expect(error.message).toContain(broken);
  });

  it("reads the last matching lines backwards, plain or gzip", async () => {
    const path = join(dir, "plain.log");
    const keepOdd = (line: string) => Number(parseEntry(line)!.messageId!.slice(1)) % 2 === 1;
    expect(await lastLines(path, 3, keepOdd)).toEqual([lines[4995]!, lines[4997]!, lines[4999]!].map((l) => l.trimEnd()));
    expect((await lastLines(path, 10_000, () => true)).length).toBe(5000);
    const gz = join(dir, "rotated.log.1.gz");
    expect(await lastLines(gz, 2, () => true)).toEqual([lines[2998]!.trimEnd(), lines[2999]!.trimEnd()]);
  });
});

describe("parsing lines", () => {
  it("reads the status fields without the report body, the same as a full parse", () => {
    const line = dlrLine({ status: status("Delivered", "2024-05-01T10:00:00Z"), label: 'has ,"report": inside' }, "2024-05-01T10:00:01Z").trimEnd();
    const full = parseEntry(line)! as Partial<LogEntry>;
    const fields = parseStatusFields(line)!;
    delete full.report;
    expect(fields).toEqual(full as never);
  });

  it("falls back to a full parse for other field orders and rejects what is not an entry", () => {
    const { report, ...rest } = parseEntry(lines[0]!.trimEnd())!;
    const reordered = JSON.stringify({ report, ...rest });
    expect(parseStatusFields(reordered)?.messageId).toBe("m0");
    expect(parseStatusFields('{"receivedAt":"2024-05-01T10:00:00.000Z","kind":"dlr","report":')).toBeNull();
    expect(parseStatusFields("[1,2]")).toBeNull();
    expect(parseStatusFields("Your message to +30 was DELIVERED.")).toBeNull();
  });

  it("reads receivedAt from the start of the line without parsing", () => {
    expect(receivedAtOf(lines[1]!)).toBe("2024-05-01T00:00:01.000Z");
    expect(receivedAtOf('{"kind":"dlr"}')).toBeNull();
  });
});
