import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers/utils.ts";

const root = join(import.meta.dir, "../..");

describe("the compiled executable", () => {
  it("builds, runs alone in an empty directory and passes the smoke test", () => {
    const outfile = join(tempDir("binary-"), "sms-status");
    const build = Bun.spawnSync([process.execPath, "scripts/build/binary.ts", outfile], { cwd: root, timeout: 120_000 });
    expect(build.exitCode).toBe(0);
    const smoke = Bun.spawnSync([process.execPath, "scripts/checks/smoke.ts", outfile], { cwd: root, timeout: 60_000 });
    const output = smoke.stdout.toString();
    expect(output).not.toContain("FAIL");
    expect(output).toMatch(/^smoke: \d+ passed, 0 failed$/m);
    expect(smoke.exitCode).toBe(0);
  }, 180_000);
});
