import { describe, expect, it } from "bun:test";
import { resolve } from "node:path";

const SCRIPT = resolve(import.meta.dir, "../../scripts/checks/crash-test.ts");

/** Runs scripts/checks/crash-test.ts against `bun src/cli.ts`; returns its exit code and output. */
async function crashTest(args: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) console.error(out + err); // the checks that failed, to read in the test output
  return { code, out };
}

describe("crash durability", () => {
  it("loses no acknowledged report and changes no written byte across kill -9 rounds", async () => {
    const { code, out } = await crashTest(["--rounds", "3", "--seconds", "1.5", "--concurrency", "8"]);
    expect(out).toMatch(/^reports: .*, 0 lost$/m);
    expect(out).toMatch(/^crash-test: \d+ passed, 0 failed$/m);
    expect(code).toBe(0);
  }, 60_000);

  it("holds with --fsync as well", async () => {
    const { code, out } = await crashTest(["--rounds", "2", "--seconds", "1", "--concurrency", "8", "--fsync"]);
    expect(out).toMatch(/fsync on/);
    expect(out).toMatch(/^crash-test: \d+ passed, 0 failed$/m);
    expect(code).toBe(0);
  }, 60_000);
});
