import { describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { LogStatus } from "../../src/store/log-status.ts";
import { FIXTURE_LINES, writeFixture } from "../helpers/fixture-log.ts";
import { runCli, tempDir } from "../helpers/utils.ts";

const dir = tempDir();
const log = join(dir, "sms-status.log");
writeFixture(log);

describe("report", () => {
  it("counts messages, not callbacks, with rate, cost, failures and latency", async () => {
    const r = await new LogStatus([log]).report({});
    expect(r.lines).toEqual({ read: 15, unparseable: 1, outsideWindow: 0 });
    expect(r.callbacks).toEqual({ dlr: 12, inbound: 0, campaign: 1, other: 0, rejected: 1 });
    expect({ messages: r.messages, delivered: r.delivered, failed: r.failed, pending: r.pending }).toEqual({
      messages: 7,
      delivered: 3,
      failed: 2,
      pending: 2,
    });
    expect(r.deliveryRate).toBeCloseTo(3 / 7, 10);
    expect(r.cost).toBe(0.294);
    expect(r.failures).toEqual([
      { detailedStatus: "Expired", messages: 1 },
      { detailedStatus: "Unknown Number", messages: 1 },
    ]);
    expect(r.latency).toEqual({ messages: 3, p50: 6, p95: 10 });
    expect(r.groups).toBeNull();
  });

  it("keeps only reports received in the --since/--until window", async () => {
    const r = await new LogStatus([log]).report({ since: "2024-05-01T12:00:00.000Z", until: "2024-05-01T14:00:00.000Z" });
    expect(r.lines.outsideWindow).toBe(10);
    expect(r.lines.unparseable).toBe(1);
    expect([r.messages, r.delivered, r.failed, r.pending]).toEqual([2, 1, 1, 0]);
    expect(r.cost).toBe(0.136);
  });

  it("breaks messages down --by a field, largest group first", async () => {
    const byCountry = await new LogStatus([log]).report({ by: "country" });
    expect(byCountry.groups!.map((g) => [g.key, g.messages, g.delivered, g.failed, g.pending, g.cost])).toEqual([
      ["GR", 4, 2, 1, 1, 0.144],
      ["CY", 2, 1, 1, 0, 0.1],
      ["GB", 1, 0, 0, 1, 0.05],
    ]);
    const byStatus = await new LogStatus([log]).report({ by: "status" });
    expect(byStatus.groups!.map((g) => [g.key, g.messages])).toEqual([
      ["Delivered", 3],
      ["(parts missing)", 1],
      ["Failed", 1],
      ["Sent", 1],
      ["Undelivered", 1],
    ]);
    const byCampaign = await new LogStatus([log]).report({ by: "campaign" });
    expect(byCampaign.groups!.map((g) => [g.key, g.messages])).toEqual([["(none)", 5], ["c1", 2]]);
  });

  it("gives the same figures over rotated and gzip-compressed files", async () => {
    const old = join(dir, "sms-status.log.1.gz");
    const current = join(dir, "current.log");
    writeFileSync(old, gzipSync(FIXTURE_LINES.slice(0, 8).join("")));
    writeFileSync(current, FIXTURE_LINES.slice(8).join(""));
    const whole = await new LogStatus([log]).report({});
    const split = await new LogStatus([old, current]).report({});
    expect({ ...split, files: [] }).toEqual({ ...whole, files: [] });
  });
});

describe("sms-status report", () => {
  it("prints JSON with --json", () => {
    const { code, stdout } = runCli(["report", "--json", "--by", "label", "--log", log]);
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(Object.keys(r)).toEqual([
      "files", "channel", "since", "until", "lines", "callbacks", "messages", "delivered", "failed", "pending",
      "deliveryRate", "cost", "failures", "latency", "by", "groups",
    ]);
    expect(r.groups.map((g: { key: string }) => g.key)).toEqual(["otp", "promo"]);
  });

  it("prints a table by default, reading the serve default log from SMS_STATUS_LOG", () => {
    const { code, stdout } = runCli(["report", "--since", "2024-05-01T00:00:00Z"], { SMS_STATUS_LOG: log });
    expect(code).toBe(0);
    expect(stdout).toContain(`Read 15 lines from ${log} (1 unparseable skipped)`);
    expect(stdout).toMatch(/delivered\s+3\s+42\.9%/);
    expect(stdout).toMatch(/Total cost\s+0\.294/);
    expect(stdout).toMatch(/Latency\s+p50 6 s, p95 10 s \(3 delivered messages\)/);
    expect(stdout).toMatch(/Unknown Number\s+1/);
  });

  it("says one in the singular: 1 line, 1 delivery report, 1 delivered message", () => {
    const one = join(dir, "one.log");
    writeFileSync(one, FIXTURE_LINES.find((l) => l.includes('"outcome":"delivered"') && l.includes('"latency":'))!);
    const { code, stdout } = runCli(["report", one]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Read 1 line from ${one}`);
    expect(stdout).toContain("Callbacks: 1 delivery report, 0 inbound messages,");
    expect(stdout).toMatch(/\(1 delivered message\)/);
  });

  it("exits 1 with a clear message for a text-format log", () => {
    const text = join(dir, "text.log");
    writeFileSync(text, "Your message to +306948530920 (message id m1) was DELIVERED.\nThe cost was 0.036\n");
    const { code, stderr } = runCli(["report", text]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${text} looks like a text-format log; report/lookup/tail need --format jsonl`);
  });

  it("exits 1 for a missing log and 2 for bad usage", () => {
    expect(runCli(["report", join(dir, "missing.log")]).code).toBe(1);
    const bad = runCli(["report", "--by", "colour", log]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--by must be one of status, country, operator, campaign, label");
    expect(runCli(["report", "--since", "yesterday", log]).stderr).toContain("--since must be a duration");
    expect(runCli(["report", "--since", "1h", "--until", "2h", log]).code).toBe(2);
  });
});

describe("report --by provider", () => {
  it("counts each provider's messages apart, from the log and from the database alike", async () => {
    const { reportEntry, routeeReport } = await import("../helpers/utils.ts");
    const { renderJsonl } = await import("../../src/core/render.ts");
    const { openSqlStore, SqlStatus } = await import("../../src/store/sql/index.ts");
    const mixed = join(dir, "providers.log");
    const entries = [1, 2, 3].map((n) => {
      const entry = reportEntry(routeeReport({ messageId: `p-${n}` }), new Date(Date.UTC(2024, 4, 1, 10, 0, n)));
      if (n === 3) entry.provider = "twilio";
      return entry;
    });
    writeFileSync(mixed, entries.map((e) => renderJsonl(e)).join(""));
    const fromLog = await new LogStatus([mixed]).report({ by: "provider" });
    expect(fromLog.groups!.map((g) => [g.key, g.messages])).toEqual([["routee", 2], ["twilio", 1]]);
    const store = await openSqlStore(`sqlite://${join(dir, "providers.db")}`);
    await store.write(entries.map((entry) => ({ entry })));
    const fromDb = await new SqlStatus(store.sql, "sqlite").report({ by: "provider" });
    expect(fromDb.groups).toEqual(fromLog.groups);
    await store.close();
  });
});
