/**
 * `--fsync` makes each group commit durable with one fdatasync per batch, not one per report.
 * Proven from outside the process: strace records the server's write and fdatasync calls on the
 * log file while concurrent reports arrive. Skipped, with a line saying so, where strace is not
 * installed (`apt-get install strace`; .ci/run installs it, and counts a skip as a CI failure).
 */
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SOURCE_SERVER, spawnServer } from "../../scripts/lib/startup.ts";
import { routeeReport, tempDir } from "../helpers/utils.ts";

const STRACE = Bun.which("strace");
// Said out loud: a skipped proof must not pass for a kept promise (.ci/run installs strace).
if (STRACE === null) console.warn("fsync.test.ts: skipped: needs strace (apt-get install strace)");
const REPORTS = 200;
const AT_ONCE = 50;

/** What strace saw the server do to the log: "W" for a write, "S" for an fdatasync/fsync. */
async function traceServer(dir: string, fsync: boolean): Promise<{ calls: string; lines: number }> {
  const log = join(dir, `status-${fsync ? "fsync" : "plain"}.log`);
  const trace = join(dir, `trace-${fsync ? "fsync" : "plain"}.txt`);
  const strace = [
    STRACE!, "-f", "-qq", "-y", "--seccomp-bpf", "-o", trace,
    "-e", "trace=write,writev,pwrite64,pwritev,pwritev2,fdatasync,fsync,sync_file_range",
  ];
  const { proc, port } = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log, ...(fsync ? ["--fsync"] : [])], {
    command: [...strace, ...SOURCE_SERVER],
    cwd: dir,
  });
  let server = 0;
  try {
    server = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(" ")[0]);
    expect(server).toBeGreaterThan(0);
    // Waves of concurrent reports, so that several arrive in one event-loop turn.
    for (let sent = 0; sent < REPORTS; sent += AT_ONCE) {
      const answers = await Promise.all(
        Array.from({ length: AT_ONCE }, () =>
          fetch(`http://127.0.0.1:${port}/sms/status`, {
            method: "POST",
            body: JSON.stringify(routeeReport()),
            headers: { "content-type": "application/json" },
          }).then((r) => r.status),
        ),
      );
      expect(answers.every((s) => s === 200)).toBe(true);
    }
    // strace blocks fatal signals while it traces (its -I3 default with -o): stop the server itself.
    process.kill(server, "SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    if (proc.exitCode === null && server) process.kill(server, "SIGKILL");
    proc.kill("SIGKILL");
  }
  const onLog = readFileSync(trace, "utf8")
    .split("\n")
    .filter((line) => line.includes(`<${log}>`));
  const calls = onLog.map((line) => (/\b(fdatasync|fsync|sync_file_range)\(/.test(line) ? "S" : "W")).join("");
  return { calls, lines: readFileSync(log, "utf8").split("\n").length - 1 };
}

// At the top, not in the describe: a skipped describe's afterAll would count as one more skipped test.
const dir = tempDir("sms-status-fsync-");

describe.skipIf(STRACE === null)("--fsync (traced with strace)", () => {
  it("calls fdatasync once per batch: after every batch's write, far fewer times than reports", async () => {
    const { calls, lines } = await traceServer(dir, true);
    expect(lines).toBe(REPORTS);
    const syncs = calls.split("S").length - 1;
    // Each batch is one or more writes followed by exactly one sync, and nothing is left unsynced.
    expect(calls).toMatch(/^(W+S)+$/);
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThanOrEqual(REPORTS / 2);
  }, 30_000);

  it("never syncs without --fsync", async () => {
    const { calls, lines } = await traceServer(dir, false);
    expect(lines).toBe(REPORTS);
    expect(calls).toMatch(/^W+$/);
  }, 30_000);
});
