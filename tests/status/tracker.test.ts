import { describe, expect, it } from "bun:test";
import type { LogEntry } from "../../src/core/entry.ts";
import { MessageTracker } from "../../src/status/tracker.ts";
import { compareDates } from "../../src/status/rules.ts";
import { parseEntry } from "../../src/log/reader.ts";
import { dlrLine, status } from "../helpers/utils.ts";

/** A log entry as the server writes it, read back. */
function entry(overrides: Record<string, unknown>, receivedAt = "2024-05-01T10:00:00.000Z"): LogEntry {
  return parseEntry(dlrLine(overrides, receivedAt).trimEnd())!;
}

const sent = (over: Record<string, unknown> = {}, at = "2024-05-01T10:00:00.000Z") =>
  entry({ messageId: "m1", smsId: "s1", status: status("Sent", "2024-05-01T10:00:00Z"), ...over }, at);
const delivered = (over: Record<string, unknown> = {}, at = "2024-05-01T10:00:05.000Z") =>
  entry({ messageId: "m1", smsId: "s1", status: status("Delivered", "2024-05-01T10:00:05Z"), ...over }, at);

function only(entries: LogEntry[]) {
  const tracker = new MessageTracker();
  for (const e of entries) tracker.add(e);
  expect(tracker.size).toBe(1);
  return [...tracker.messages()][0]!;
}

describe("message status", () => {
  it("is delivered after Sent then Delivered", () => {
    const m = only([sent(), delivered()]);
    expect(m.outcome).toBe("delivered");
    expect(m.status).toBe("Delivered");
    expect(m.reports).toBe(2);
  });

  it("keeps Delivered when a late Sent arrives afterwards, even with a later date", () => {
    const lateSent = sent({ status: status("Sent", "2024-05-01T10:00:09Z") }, "2024-05-01T10:00:10.000Z");
    expect(only([delivered(), lateSent]).outcome).toBe("delivered");
  });

  it("gives the same answer for every order of the same reports", () => {
    const reports = [
      entry({ messageId: "m1", smsId: "s1", status: status("Queued", "2024-05-01T10:00:00Z") }),
      sent(),
      delivered(),
      delivered(),
    ];
    const orders = [reports, [...reports].reverse(), [reports[2]!, reports[0]!, reports[3]!, reports[1]!]];
    for (const order of orders) {
      const m = only(order);
      expect(m.outcome).toBe("delivered");
      expect(m.partStatuses[0]!.updatedDate).toBe("2024-05-01T10:00:05Z");
    }
  });

  it("counts a part's price once however many callbacks it got", () => {
    const m = only([sent({ price: 0.036 }), delivered({ price: 0.036 }), delivered({ price: 0.036 })]);
    expect(m.cost).toBe(0.036);
  });

  it("between two final reports, takes the later updatedDate (dates with and without milliseconds)", () => {
    const undelivered = entry({
      messageId: "m1",
      smsId: "s1",
      status: status("Undelivered", "2024-05-01T10:00:05.500Z", "Expired"),
    });
    const m = only([undelivered, delivered()]);
    expect(m.outcome).toBe("failed");
    expect(m.detailedStatus).toBe("Expired");
    expect(only([delivered(), undelivered]).outcome).toBe("failed");
  });

  it("compares dates as instants", () => {
    expect(compareDates("2024-05-01T10:00:05Z", "2024-05-01T10:00:05.500Z")).toBe(-1);
    expect(compareDates("2024-05-01T10:00:06Z", "2024-05-01T10:00:05.999Z")).toBe(1);
    expect(compareDates("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z")).toBe(0);
    expect(compareDates(null, "2024-05-01T10:00:00Z")).toBe(-1);
  });

  describe("multipart", () => {
    const part = (n: number, name: string, over: Record<string, unknown> = {}) =>
      entry({
        messageId: "mp",
        smsId: `mp-${n}`,
        part: n,
        parts: 3,
        price: 0.05,
        status: status(name, `2024-05-01T10:00:0${n}Z`, name === "Undelivered" ? "Unknown Number" : name),
        ...over,
      });

    it("is pending until every part is delivered", () => {
      const m = only([part(1, "Delivered"), part(3, "Delivered")]);
      expect(m.outcome).toBe("pending");
      expect(m.parts).toBe(3);
      expect(m.status).toBe("(parts missing)");
      expect(m.cost).toBe(0.1);
    });

    it("is delivered when all parts are, with the sum of their prices and the slowest latency", () => {
      const m = only([part(2, "Delivered", { latency: 7 }), part(1, "Delivered", { latency: 3 }), part(3, "Delivered")]);
      expect(m.outcome).toBe("delivered");
      expect(m.cost).toBe(0.15);
      expect(m.latency).toBe(7);
      expect(m.partStatuses.map((p) => p.part)).toEqual([1, 2, 3]);
    });

    it("is failed when any part failed finally", () => {
      const m = only([part(1, "Delivered"), part(2, "Undelivered"), part(3, "Sent")]);
      expect(m.outcome).toBe("failed");
      expect(m.status).toBe("Undelivered");
      expect(m.detailedStatus).toBe("Unknown Number");
    });

    it("tells parts apart by part number when smsId is missing", () => {
      const m = only([part(1, "Delivered", { smsId: null }), part(2, "Delivered", { smsId: null }), part(3, "Delivered", { smsId: null })]);
      expect(m.outcome).toBe("delivered");
      expect(m.partStatuses.map((p) => p.key)).toEqual(["#1", "#2", "#3"]);
    });
  });

  it("ignores entries that are not per-message reports", () => {
    const tracker = new MessageTracker();
    expect(tracker.add({ ...sent(), kind: "campaign" })).toBe(false);
    expect(tracker.add({ ...sent(), messageId: null })).toBe(false);
    expect(tracker.size).toBe(0);
  });

  it("treats a message with only unknown statuses as pending, and any known status beats unknown", () => {
    const mystery = entry({ messageId: "m1", smsId: "s1", status: status("Scheduled", "2024-05-01T11:00:00Z") });
    expect(only([mystery]).outcome).toBe("pending");
    const m = only([sent(), mystery]);
    expect(m.status).toBe("Sent");
  });
});

describe("maxMessages", () => {
  const report = (messageId: string, name = "Sent") =>
    entry({ messageId, smsId: `${messageId}-s1`, status: status(name, "2024-05-01T10:00:00Z") });

  it("forgets the message reported least recently once the bound is reached", () => {
    const tracker = new MessageTracker({ maxMessages: 2 });
    tracker.add(report("a"));
    tracker.add(report("b"));
    tracker.add(report("a", "Delivered")); // a is now the newer of the two
    tracker.add(report("c"));
    expect(tracker.size).toBe(2);
    expect(tracker.get("b")).toBeUndefined();
    expect(tracker.get("a")?.outcome).toBe("delivered");
    expect(tracker.get("c")?.outcome).toBe("pending");
  });

  it("starts an evicted message afresh from its next report", () => {
    const tracker = new MessageTracker({ maxMessages: 1 });
    tracker.add(report("a"));
    tracker.add(report("b"));
    tracker.add(report("a", "Delivered"));
    expect(tracker.get("a")?.reports).toBe(1);
  });

  it("keeps every message and the first-seen order without a bound", () => {
    const tracker = new MessageTracker();
    for (const id of ["a", "b", "c", "a"]) tracker.add(report(id));
    expect([...tracker.messages()].map((m) => m.messageId)).toEqual(["a", "b", "c"]);
  });

  it("refuses a bound that is not a positive whole number", () => {
    expect(() => new MessageTracker({ maxMessages: 0 })).toThrow(/maxMessages must be a positive whole number/);
    expect(() => new MessageTracker({ maxMessages: 1.5 })).toThrow(/maxMessages/);
  });
});
