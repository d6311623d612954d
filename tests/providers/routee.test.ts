import { describe, expect, it } from "bun:test";
import { classify } from "../../src/providers/routee/classify.ts";

describe("classify", () => {
  it.each([
    ["Delivered", "delivered", true],
    ["DELIVERED", "delivered", true],
    ["delivered", "delivered", true],
    ["Undelivered", "failed", true],
    ["Failed", "failed", true],
    ["FAILED", "failed", true],
    ["Unsent", "failed", true],
    ["Expired", "failed", true],
    ["Rejected", "failed", true],
    ["Network Error", "failed", true],
    ["network  error", "failed", true],
    ["Queued", "pending", false],
    ["Sent", "pending", false],
    ["SENT", "pending", false],
    ["Scheduled", "unknown", false],
    ["constructor", "unknown", false],
    ["__proto__", "unknown", false],
    ["toString", "unknown", false],
    ["", "unknown", false],
  ])("%p is %p (final: %p)", (name, outcome, final) => {
    expect(classify(name)).toEqual({ outcome: outcome as never, final });
  });

  it("treats a missing name as unknown and not final", () => {
    expect(classify(undefined)).toEqual({ outcome: "unknown", final: false });
    expect(classify(null)).toEqual({ outcome: "unknown", final: false });
  });
});
