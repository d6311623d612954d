import { afterAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { killServers, spawnServer } from "../../scripts/lib/startup.ts";
import { readRecentEntries, type RecoveryStats } from "../../src/store/file-recent.ts";
import { dlrLine, json, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("recovery-");
afterAll(killServers);
const now = () => new Date();

function recover(path: string, maxBytes?: number) {
  const stats: RecoveryStats = { entries: 0, skipped: 0 };
  const entries = [...readRecentEntries(path, maxBytes, stats)];
  return { entries, stats };
}

describe("start-up recovery", () => {
  it("a log line with fields of the wrong type never stops a start, and recovery still works", async () => {
    const log = join(dir, "bad.log");
    const report = routeeReport();
    writeFileSync(
      log,
      '{"receivedAt":"2001-01-01T00:00:00.000Z","kind":"dlr"}\n' +
        '{"receivedAt":"2001-01-01T00:00:00.000Z","provider":"routee","kind":"dlr","smsId":5,"report":{}}\n' +
        dlrLine(report, now()),
    );
    const server = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log]);
    const res = await fetch(post(`${server.url}/sms/status`, report));
    expect(res.status).toBe(200);
    expect((await json(res)).duplicate).toBe(true);
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
  });

  it("gives back the entries and counts the lines that are not entries", () => {
    const log = join(dir, "mixed.log");
    const a = dlrLine({ smsId: "a" }, now());
    const b = dlrLine({ smsId: "b" }, now());
    writeFileSync(
      log,
      a + "{\n" + "garbage\n\n" + '{"receivedAt":"x","kind":"dlr","provider":"routee","part":"one","report":{}}\n' + b + a.slice(0, 40),
    );
    const { entries, stats } = recover(log);
    expect(entries.map((e) => e.smsId)).toEqual(["a", "b"]);
    expect(stats).toEqual({ entries: 2, skipped: 4 });
  });

  it("skips a line longer than any body the server takes, and the line the window cuts", () => {
    const log = join(dir, "long.log");
    const huge = dlrLine({ smsId: "huge", label: "x".repeat(3 << 20) }, now());
    const big = routeeReport({ smsId: "big" });
    const bigLine = dlrLine(big, now()).replace(/}\n$/, "") .replace(/"report":\{/, `"report":{"pad":"${"y".repeat(3 << 20)}",`) + "}\n";
    const last = dlrLine({ smsId: "last" }, now());
    writeFileSync(log, dlrLine({ smsId: "first" }, now()) + huge + bigLine + last);
    // Neither can be checked whole: their retries are written again rather than trusted.
    expect(recover(log).entries.map((e) => e.smsId)).toEqual(["first", "last"]);
    expect(recover(log).stats.skipped).toBe(2);
    expect(recover(log, last.length + 10).entries.map((e) => e.smsId)).toEqual(["last"]);
    expect(recover(log, last.length + 10).stats).toEqual({ entries: 1, skipped: 0 });
  });

  it("does not trust a line a kill cut in its report: the report's retry is written, not answered as a duplicate", async () => {
    const log = join(dir, "torn.log");
    const kept = routeeReport({ smsId: "kept" });
    const torn = routeeReport({ smsId: "torn" });
    const tornLine = dlrLine(torn, now());
    // What a kill in the middle of a write leaves, once the restart has ended the line.
    writeFileSync(log, dlrLine(kept, now()) + tornLine.slice(0, tornLine.indexOf('"status":{', tornLine.indexOf('"report":'))) + "\n");
    expect(recover(log).entries.map((e) => e.smsId)).toEqual(["kept"]);
    const server = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log, "--no-db"]);
    const retry = await fetch(post(`${server.url}/sms/status`, torn));
    expect(retry.status).toBe(200);
    expect((await json(retry)).duplicate).toBeUndefined();
    expect((await json(await fetch(post(`${server.url}/sms/status`, kept)))).duplicate).toBe(true);
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    // The report is in the log whole now.
    const whole = (await Bun.file(log).text()).split("\n").filter((line) => line.includes('"smsId":"torn"') && line.endsWith("}"));
    expect(whole.map((line) => JSON.parse(line).smsId)).toEqual(["torn"]);
  });

  it("a missing file gives nothing", () => {
    expect(recover(join(dir, "none.log")).entries).toEqual([]);
  });
});
