import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEntry, parseStatusFields } from "../../src/log/reader.ts";
import { dlrLine, runCli, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir("hand-edited-");
const good = dlrLine({ messageId: "m1", smsId: "s1", price: 0.05, status: status("Delivered", "2024-05-01T10:00:00Z") }, "2024-05-01T10:00:00.000Z").trimEnd();
/** The good line with one field replaced (`undefined` removes it). */
function edited(field: string, value: unknown): string {
  const entry = JSON.parse(good);
  if (value === undefined) delete entry[field];
  else entry[field] = value;
  return JSON.stringify(entry);
}

describe("hand-edited log lines", () => {
  it.each([
    ["receivedAt", 5],
    ["receivedAt", undefined],
    ["kind", null],
    ["provider", undefined],
    ["smsId", 7],
    ["messageId", {}],
    ["part", "first"],
    ["price", "abc"],
    ["status", ["Delivered"]],
    ["updatedDate", 20240501],
    ["outcome", "great"],
    ["final", "yes"],
    ["error", "oops"],
  ])("a line whose %s is %j is not an entry", (field, value) => {
    expect(parseEntry(edited(field, value))).toBeNull();
    // `error` comes after the report, which parseStatusFields never reads.
    if (field !== "error") expect(parseStatusFields(edited(field, value))).toBeNull();
  });

  it("fills what a reader needs when a field is missing, and reads a number written as a string", () => {
    const entry = parseEntry(edited("outcome", undefined).replace('"smsId":"s1",', "").replace('"price":0.05', '"price":"0.05"'))!;
    expect(entry).toMatchObject({ outcome: "unknown", smsId: null, price: 0.05 });
    expect(parseStatusFields(edited("outcome", undefined))!.outcome).toBe("unknown");
  });

  it("tail prints an entry without an outcome instead of crashing", () => {
    const log = join(dir, "tail.log");
    writeFileSync(log, edited("outcome", undefined) + "\n" + '{"receivedAt":"2001-01-01T00:00:00.000Z","kind":"dlr"}\n');
    const { code, stdout, stderr } = runCli(["tail", log]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toStartWith("2024-05-01T10:00:00.000Z  unknown  ");
    expect(stdout.trimEnd().split("\n")).toHaveLength(1);
  });

  it("lookup sums a price written as a string, skips one that is not a number, and escapes receivedAt", () => {
    const log = join(dir, "lookup.log");
    const second = JSON.parse(good);
    second.smsId = "s2";
    second.part = 2;
    second.parts = 2;
    second.price = "0.05";
    second.receivedAt = "2024-05-01T10:00:01.000Z\u001b[2J";
    const third = { ...second, smsId: "s3", price: "abc" };
    writeFileSync(log, [good, JSON.stringify(second), JSON.stringify(third)].join("\n") + "\n");
    const { code, stdout } = runCli(["lookup", "m1", log]);
    expect(code).toBe(0);
    expect(stdout).toContain("cost 0.1\n");
    expect(stdout).not.toContain("NaN");
    expect(stdout).not.toContain("\u001b");
    expect(stdout).toContain("2024-05-01T10:00:01.000Z\\u001b[2J");
    expect(stdout).toContain("Callbacks received (2):");
  });
});
