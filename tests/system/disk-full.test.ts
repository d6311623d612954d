/**
 * A real full disk: a 256 KiB tmpfs holds the log. Needs root to mount (CI runs as root, and counts
 * a skip as a failure); where the mount is refused the tests are skipped with a line saying why, and
 * /dev/full covers the write-error path.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { FileJournal } from "../../src/journal/file-journal.ts";
import { JournalWriteError } from "../../src/core/errors.ts";
import { startServer } from "../../src/server/server.ts";
import { routeeReport } from "../helpers/utils.ts";

const dir = mkdtempSync(join(tmpdir(), "disk-full-"));
const mountPoint = join(dir, "small");
mkdirSync(mountPoint);
const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint], { stderr: "pipe" });
const mounted = mount.exitCode === 0;
if (!mounted) {
  const why = mount.stderr.toString().trim().split("\n")[0] || `mount exited ${mount.exitCode}`;
  console.warn(`disk-full.test.ts: skipped: needs root to mount a 256 KiB tmpfs (run as root, as CI does): ${why}`);
}
afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", "-l", mountPoint]);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!mounted)("a full disk", () => {
  it("answers 503 without leaving half an entry, and recovers once space is freed", async () => {
    const log = join(mountPoint, "status.log");
    const filler = join(mountPoint, "filler");
    writeFileSync(filler, Buffer.alloc(160 * 1024));
    // --no-db: the view's file on the same 256 KiB would fill it before the log is tested.
    const server = await startServer(parseServeConfig(["--port", "0", "--host", "127.0.0.1", "--log", log, "--no-db"], {}));
    const url = `http://127.0.0.1:${server.port}`;
    const acked = new Set<string>();
    let refused = 0;
    try {
      // Big reports, a few at a time, until the disk is full.
      for (let round = 0; round < 200 && refused < 10; round++) {
        const batch = Array.from({ length: 4 }, () => routeeReport({ message: "x".repeat(3000) }));
        const answers = await Promise.all(
          batch.map((r) => fetch(`${url}/sms/status`, { method: "POST", body: JSON.stringify(r) })),
        );
        answers.forEach((res, i) => {
          if (res.status === 200) acked.add(batch[i]!.smsId as string);
          else if (res.status === 503) refused += 1;
          else throw new Error(`unexpected ${res.status}`);
        });
      }
      expect(refused).toBeGreaterThan(0);
      expect((await fetch(`${url}/healthz`)).status).toBe(503);

      const whileFull = readFileSync(log, "utf8");
      expect(whileFull.endsWith("\n")).toBe(true); // the failed batch was cut off
      const ids = whileFull.split("\n").slice(0, -1).map((l) => JSON.parse(l).smsId);
      expect(new Set(ids)).toEqual(acked);

      rmSync(filler);
      const deadline = Date.now() + 5000;
      while ((await fetch(`${url}/healthz`)).status !== 200 && Date.now() < deadline) await Bun.sleep(100);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const after = routeeReport();
      expect((await fetch(`${url}/sms/status`, { method: "POST", body: JSON.stringify(after) })).status).toBe(200);
      expect(readFileSync(log, "utf8").endsWith(`${JSON.stringify(after)}}\n`)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 30_000);

  it("never cuts bytes another writer appended when its own batch fails", async () => {
    const log = join(mountPoint, "shared.log");
    const filler = join(mountPoint, "filler2");
    const a = new FileJournal(log);
    const b = new FileJournal(log);
    // Leave about 8 KiB free.
    const free = () => {
      const out = Bun.spawnSync(["df", "--output=avail", "-B1", mountPoint]).stdout.toString();
      return Number(out.trim().split("\n").pop());
    };
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 8 * 1024)));
    await b.append('{"from":"b"}\n');
    const failed = await a.append(`{"from":"a","pad":"${"x".repeat(64 * 1024)}"}\n`).catch((e) => e);
    expect(failed).toBeInstanceOf(JournalWriteError);
    const text = readFileSync(log, "utf8");
    expect(text.startsWith('{"from":"b"}\n')).toBe(true); // B's acknowledged entry survived
    await a.close();
    await b.close();
    rmSync(filler);
    rmSync(log);
  });
});
