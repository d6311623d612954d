import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { lookupMessage } from "../../src/store/log-status.ts";
import { writeFixture } from "../helpers/fixture-log.ts";
import { runCli, tempDir } from "../helpers/utils.ts";

const dir = tempDir();
const log = join(dir, "sms-status.log");
writeFixture(log);

describe("lookup", () => {
  it("finds every report of a message in the order received, with its status and cost", async () => {
    const found = (await lookupMessage([log], "m2"))!;
    expect(found.reports.map((r) => r.status)).toEqual(["Delivered", "Delivered", "Sent"]);
    expect(found.message!.outcome).toBe("delivered");
    expect(found.message!.cost).toBe(0.036);
    expect(found.message!.partStatuses).toHaveLength(1);
    expect(found.message!.partStatuses[0]!.reports).toBe(3);
  });

  it("does not match an id that only contains the one asked for", async () => {
    expect(await lookupMessage([log], "m")).toBeNull();
  });

  it("prints the parts and the reports", () => {
    const { code, stdout } = runCli(["lookup", "m3", log]);
    expect(code).toBe(0);
    expect(stdout).toStartWith("Message m3: DELIVERED (Delivered), 2 of 2 parts delivered, cost 0.1\n");
    expect(stdout).toContain("country CY, operator Cyta, label promo, campaign c1");
    expect(stdout).toMatch(/^1\s+m3-1\s+Delivered\s+Delivered\s+2024-05-01T12:01:00Z\s+0\.05\s+2\s+1$/m);
    expect(stdout).toMatch(/^2\s+m3-2\s+Delivered/m);
    expect(stdout).toContain("Callbacks received (2):");
    expect(stdout.indexOf("2024-05-01T12:00:00.000Z  dlr   sms      2")).toBeLessThan(stdout.indexOf("2024-05-01T12:01:00.000Z  dlr   sms      1"));
  });

  it("prints JSON with --json", () => {
    const { code, stdout } = runCli(["lookup", "m4", "--json", "--log", log]);
    expect(code).toBe(0);
    const found = JSON.parse(stdout);
    expect(found.message).toMatchObject({ messageId: "m4", outcome: "failed", detailedStatus: "Unknown Number", cost: 0.036 });
    expect(found.reports.map((r: { status: string }) => r.status)).toEqual(["Sent", "Undelivered"]);
    expect(found.reports[0].report.messageId).toBe("m4");
  });

  it("exits 1 when no report names the message, 2 without an id", () => {
    const missing = runCli(["lookup", "nope", log]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no callback names "nope"');
    expect(runCli(["lookup"], { SMS_STATUS_LOG: log }).code).toBe(2);
  });
});
