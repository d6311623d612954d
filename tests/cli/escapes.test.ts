/**
 * What a sender puts in a field never drives the operator's terminal: every human-readable output
 * of every reader escapes control characters, and `--json` escapes C1 controls and line separators.
 */
import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dlrLine, runCli, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir("escapes-");
const log = join(dir, "hostile.log");
const HOSTILE = "GR\u001b]0;pwned\u0007\r\nDelivered 100.0%\u0085\u009b31m\u2028";
writeFileSync(
  log,
  dlrLine(
    { messageId: "m1", smsId: "s1", country: HOSTILE, operator: HOSTILE, label: HOSTILE, status: status("Undelivered", "2024-05-01T10:00:00Z", HOSTILE) },
    "2024-05-01T10:00:01.000Z",
  ),
);

/** Any raw control character, C1 control or line separator in the output. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

describe("the readers' output", () => {
  it.each([["country"], ["operator"], ["label"], ["status"]])("report --by %s prints hostile values escaped", (by) => {
    const { code, stdout } = runCli(["report", "--by", by, "--log", log]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW);
    // The only line breaks are the report's own: the forged "Delivered 100.0%" stays inside its cell.
    expect(stdout.split("\n").filter((line) => line.startsWith("Delivered 100.0%"))).toEqual([]);
  });

  it("report prints the failures table escaped", () => {
    const { stdout } = runCli(["report", "--log", log]);
    expect(stdout).toContain("GR\\u001b]0;pwned\\u0007\\u000d\\u000aDelivered 100.0%\\u0085\\u009b31m\\u2028  ");
  });

  it.each([[["report", "--json"]], [["lookup", "m1", "--json"]]])("%j leaves no C1 control or separator raw", (args) => {
    const { code, stdout } = runCli([...args, "--log", log]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW);
    // Escaped, not lost: the JSON still parses back to the value as sent.
    expect(JSON.stringify(JSON.parse(stdout))).toContain(JSON.stringify(HOSTILE).slice(1, -1));
  });

  it("lookup and tail print hostile values escaped", () => {
    for (const args of [["lookup", "m1"], ["tail"]]) {
      const { code, stdout } = runCli([...args, "--log", log]);
      expect(code).toBe(0);
      expect(stdout).not.toMatch(RAW);
    }
  });
});
