import { describe, expect, it } from "bun:test";
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderTailLine } from "../../src/cli/tail.ts";
import { parseEntry } from "../../src/log/reader.ts";
import { FIXTURE_LINES, writeFixture } from "../helpers/fixture-log.ts";
import { CLI, dlrLine, runCli, status, tempDir } from "../helpers/utils.ts";

const dir = tempDir();
const log = join(dir, "sms-status.log");
writeFixture(log);

describe("tail rendering", () => {
  it("puts one entry on one readable line", () => {
    const entry = parseEntry(FIXTURE_LINES[12]!.trimEnd())!;
    expect(renderTailLine(entry, false)).toBe(
      "2024-05-01T14:00:00.000Z  failed     +306948530920  m5  Failed: Expired  0  CY/Cyta  promo",
    );
  });

  it("colours the outcome only when asked, and escapes control characters in values", () => {
    const entry = parseEntry(dlrLine({ to: "+30\u001b[2J", status: status("Delivered", "2024-05-01T10:00:00Z") }, "2024-05-01T10:00:00Z").trimEnd())!;
    const plain = renderTailLine(entry, false);
    expect(plain).not.toContain("\u001b");
    expect(plain).toContain("+30\\u001b[2J");
    expect(renderTailLine(entry, true)).toContain("\u001b[32mdelivered");
  });
});

describe("sms-status tail", () => {
  it("prints the last N entries that match, without colours when not on a terminal", () => {
    const { code, stdout } = runCli(["tail", "-n", "2", "--outcome", "failed", log]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("m4  Undelivered: Unknown Number");
    expect(lines[1]).toContain("m5  Failed: Expired");
    expect(stdout).not.toContain("\u001b[");
    const rejected = runCli(["tail", "--kind", "rejected", log]).stdout;
    expect(rejected).toBe("2024-05-01T08:05:00.000Z  rejected   malformed_json: the body is not valid JSON\n");
  });

  it("refuses a text-format log with exit 1 and a bad --outcome with exit 2", () => {
    const text = join(dir, "text.log");
    writeFileSync(text, "Your message to +30 has a status of: Sent\n");
    const result = runCli(["tail", text]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("looks like a text-format log");
    expect(runCli(["tail", "--outcome", "lost", log]).code).toBe(2);
  });

  it("-f follows new entries, and keeps following after the log is rotated", async () => {
    const live = join(dir, "live.log");
    writeFileSync(live, FIXTURE_LINES.slice(3, 5).join(""));
    const child = Bun.spawn([process.execPath, CLI, "tail", "-f", "-n", "1", live], {
      env: { PATH: process.env.PATH ?? "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const seen: string[] = [];
      const reader = child.stdout.getReader();
      let buffered = "";
      const waitFor = async (text: string) => {
        const deadline = Date.now() + 5000;
        while (!seen.some((line) => line.includes(text))) {
          if (Date.now() > deadline) throw new Error(`never saw ${text}; saw ${JSON.stringify(seen)}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`tail ended; stderr: ${await new Response(child.stderr).text()}`);
          buffered += new TextDecoder().decode(value);
          const parts = buffered.split("\n");
          buffered = parts.pop()!;
          seen.push(...parts);
        }
      };
      const line = (id: string, name: string) =>
        dlrLine({ messageId: id, status: status(name, "2024-05-01T10:00:00Z") }, "2024-05-01T10:00:00Z");

      await waitFor("m1  Delivered");
      appendFileSync(live, line("before-rotation", "Sent"));
      await waitFor("before-rotation");
      appendFileSync(live, line("last-in-old-file", "Delivered"));
      renameSync(live, `${live}.1`);
      writeFileSync(live, line("first-in-new-file", "Delivered"));
      await waitFor("first-in-new-file");
      appendFileSync(live, line("second-in-new-file", "Undelivered"));
      await waitFor("second-in-new-file");
      expect(seen.map((l) => /\+306948530920  (\S+)/.exec(l)?.[1])).toEqual([
        "m1",
        "before-rotation",
        "last-in-old-file",
        "first-in-new-file",
        "second-in-new-file",
      ]);
    } finally {
      child.kill();
      await child.exited;
    }
  });
});
