import { describe, expect, it } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { LogFollower } from "../../src/log/follow.ts";
import { lastLines, readLines } from "../../src/log/reader.ts";
import { buildReport } from "../../src/store/log-report.ts";
import { dlrLine, runCli, tempDir } from "../helpers/utils.ts";

const dir = tempDir("long-lines-");
const LIMIT = 100;
const short = (i: number) => `{"line":${i}}`;
// One longer than the limit inside a read, one longer than a whole read (1 MiB), one at the end.
const lines = [short(1), "x".repeat(1000), short(2), "0".repeat(3 << 20), short(3), "y".repeat(500)];
const text = lines.join("\n");

async function read(path: string) {
  const got: string[] = [];
  let long = 0;
  await readLines([path], (batch) => got.push(...batch.filter((l) => l !== "")), { maxLineBytes: LIMIT, onLongLine: () => long++ });
  return { got, long };
}

describe("lines longer than the limit", () => {
  it("readLines skips and counts them, in plain and gzip files", async () => {
    const plain = join(dir, "plain.log");
    const gz = join(dir, "log.gz");
    writeFileSync(plain, text);
    writeFileSync(gz, gzipSync(text));
    for (const path of [plain, gz]) expect(await read(path)).toEqual({ got: [short(1), short(2), short(3)], long: 3 });
  });

  it("report counts them as unparseable", async () => {
    const path = join(dir, "report.log");
    const at = new Date("2024-05-01T10:00:00.000Z");
    // A real entry, only too long: not taken.
    const long = dlrLine({ messageId: "m3", label: "z".repeat(3000) }, at);
    writeFileSync(path, dlrLine({ messageId: "m1" }, at) + long + dlrLine({ messageId: "m2" }, at));
    const report = await buildReport([path], {}, { maxLineBytes: 2000 });
    expect(report.lines).toEqual({ read: 3, unparseable: 1, outsideWindow: 0 });
    expect(report.callbacks.dlr).toBe(2);
  });

  it("report's output counts a line over the 1 MiB default, even one with no end in a gzip", () => {
    const path = join(dir, "zeros.log.gz");
    const at = new Date("2024-05-01T10:00:00.000Z");
    writeFileSync(path, gzipSync(Buffer.concat([Buffer.from(dlrLine({ messageId: "m1" }, at)), Buffer.alloc(3 << 20)])));
    const { code, stdout } = runCli(["report", path]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Read 2 lines from ${path} (1 unparseable skipped)`);
  });

  it("tail's backward read skips them, however many blocks they span", async () => {
    const path = join(dir, "tail.log");
    writeFileSync(path, text + "\n");
    expect(await lastLines(path, 10, () => true, undefined, LIMIT)).toEqual([short(1), short(2), short(3)]);
    expect(await lastLines(path, 2, () => true, undefined, LIMIT)).toEqual([short(2), short(3)]);
  });

  it("follow skips them", async () => {
    const path = join(dir, "follow.log");
    writeFileSync(path, "");
    const got: string[] = [];
    const follower = new LogFollower(path, (batch) => got.push(...batch.filter((l) => l !== "")), (e) => {
      throw e;
    }, { from: 0, intervalMs: 5, maxLineBytes: LIMIT });
    appendFileSync(path, text + "\n" + short(4) + "\n");
    while (!got.includes(short(4))) await Bun.sleep(5);
    follower.stop();
    expect(got).toEqual([short(1), short(2), short(3), short(4)]);
  });
});
