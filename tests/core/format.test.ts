import { describe, expect, it } from "bun:test";
import { type LogEntry } from "../../src/core/entry.ts";
import { renderJsonl, renderText } from "../../src/core/render.ts";
import { routeeEntry } from "../../src/providers/routee/adapter.ts";
import { routeeReport } from "../helpers/utils.ts";

const AT = new Date("2026-11-27T09:00:00.123Z");

function entryFor(overrides: Record<string, unknown>): LogEntry {
  return routeeEntry(routeeReport(overrides) as never, AT);
}

describe("text format (the original PHP script's lines)", () => {
  it("writes DELIVERED and the cost on two lines", () => {
    const entry = entryFor({ to: "+306948530920", messageId: "m-1", price: 0.036 });
    expect(renderText(entry)).toBe("Your message to +306948530920 (message id m-1) was DELIVERED.\nThe cost was 0.036\n");
  });

  it("writes FAILED and the cost for every failed outcome", () => {
    for (const name of ["Failed", "Undelivered", "UNSENT", "Expired"]) {
      const entry = entryFor({ to: "+30", messageId: "m-2", price: "0.0360", status: { name } });
      expect(renderText(entry)).toBe("Your message to +30 (message id m-2) was FAILED.\nThe cost was 0.0360\n");
    }
  });

  it("writes the status name as sent for pending and unknown outcomes", () => {
    expect(renderText(entryFor({ to: "+30", status: { name: "Queued" } }))).toBe(
      "Your message to +30 has a status of: Queued\n",
    );
    expect(renderText(entryFor({ to: "+30", status: { name: "Mystery" } }))).toBe(
      "Your message to +30 has a status of: Mystery\n",
    );
  });

  it("prints a missing price as nothing, as PHP did", () => {
    expect(renderText(entryFor({ to: "+30", messageId: "m", price: null }))).toBe(
      "Your message to +30 (message id m) was DELIVERED.\nThe cost was \n",
    );
  });

  it("writes one line saying what it is for a campaign, and 'This is not a delivery receipt' for an unknown object", () => {
    expect(renderText(routeeEntry({ trackingId: "t", name: "Spring", campaignStatus: "Completed" } as never, AT))).toBe(
      "Campaign Spring (tracking id t) is Completed\n",
    );
    expect(renderText(routeeEntry({ hello: "world" } as never, AT))).toBe("This is not a delivery receipt\n");
  });

  it("cannot be forged by a field value: CR, LF, U+2028/2029 and controls are escaped", () => {
    const forged = "+30\nYour message to +31 (message id x) was DELIVERED.\r\u2028\u2029\u0085\u001b[31m";
    const text = renderText(entryFor({ to: forged, messageId: "m\nX", price: 1 }));
    expect(text.split("\n")).toHaveLength(3); // two lines and the final newline
    expect(text).toBe(
      "Your message to +30\\u000aYour message to +31 (message id x) was DELIVERED.\\u000d\\u2028\\u2029\\u0085\\u001b[31m" +
        " (message id m\\u000aX) was DELIVERED.\nThe cost was 1\n",
    );
  });
});

describe("jsonl format", () => {
  it("writes one object per line with every entry field, byte for byte", () => {
    const report = routeeReport({ messageId: "m-9", smsId: "s-9", price: "0.05", part: "2", parts: 3 });
    const line = renderJsonl(routeeEntry(report as never, AT));
    expect(line).toBe(
      `{"receivedAt":"2026-11-27T09:00:00.123Z","provider":"routee","kind":"dlr","channel":"sms","outcome":"delivered","final":true,` +
        `"messageId":"m-9","smsId":"s-9","trackingId":null,"part":2,"parts":3,"to":"+306948530920","from":"Routee",` +
        `"status":"Delivered","detailedStatus":"Delivered","description":"The message was delivered",` +
        `"updatedDate":"2019-07-05T10:28:49Z","price":0.05,"latency":2,"country":"GR","operator":"Cosmote",` +
        `"campaignTrackingId":null,"campaignName":null,"label":"otp","poolName":null,"report":${JSON.stringify(report)}}\n`,
    );
  });

  it("writes the body exactly as received when it came on one line", () => {
    const raw = '{ "messageId":"m-1", "price": 0.0360, "status":{"name":"Delivered"}, "extra":[1, 2] }';
    const line = renderJsonl(routeeEntry(JSON.parse(raw), AT), raw);
    expect(line.endsWith(`,"label":null,"poolName":null,"report":${raw}}\n`)).toBe(true);
    expect(JSON.parse(line).report).toEqual(JSON.parse(raw));
    expect(line.split("\n")).toHaveLength(2);
  });

  it("serialises a body again when the received text spans lines or holds U+2028", () => {
    for (const raw of ['{\n  "messageId": "m-2"\n}', '{"messageId":"m-3","to":"a\u2028b"}', '{"messageId":"m-4"}\r\n']) {
      const body = JSON.parse(raw);
      const line = renderJsonl(routeeEntry(body, AT), raw);
      expect(line).toBe(renderJsonl(routeeEntry(body, AT)));
      expect(line.indexOf("\n")).toBe(line.length - 1);
      expect(line).not.toMatch(/[\r\u2028\u2029]/);
    }
  });

  it("escapes U+2028 that a one-line body spelled as \\u2028 and the entry's fields now hold", () => {
    const raw = String.raw`{"messageId":"m-5","to":"a\u2028b","label":"c\u2029d"}`;
    const line = renderJsonl(routeeEntry(JSON.parse(raw), AT), raw);
    expect(line).not.toMatch(/[\u2028\u2029]/);
    expect(JSON.parse(line)).toMatchObject({ to: "a\u2028b", label: "c\u2029d", report: { to: "a\u2028b" } });
  });

  it("escapes C1 controls such as NEL (U+0085), whether sent raw or as \\u0085", () => {
    for (const raw of ['{"messageId":"m-6","label":"a\u0085b"}', String.raw`{"messageId":"m-7","label":"a\u0085b\u009bc"}`]) {
      const body = JSON.parse(raw);
      for (const line of [renderJsonl(routeeEntry(body, AT), raw), renderJsonl(routeeEntry(body, AT))]) {
        expect(line).not.toMatch(/[\u0080-\u009f]/);
        expect(line.split(/\r\n|[\n\r\u0085\u2028\u2029]/)).toHaveLength(2); // how Python's splitlines would see it
        expect(JSON.parse(line).label).toBe(body.label);
      }
    }
  });

  it("keeps unknown fields in the report", () => {
    const line = renderJsonl(routeeEntry(routeeReport({ poolName: "p1", poolId: "42" }) as never, AT));
    expect(JSON.parse(line).report).toMatchObject({ poolName: "p1", poolId: "42" });
  });

  it("cannot be broken by a field value: LF, CR, U+2028 and U+2029 stay escaped", () => {
    const nasty = 'a\nb\rc\u2028d\u2029e"}\n{"kind":"dlr"';
    const line = renderJsonl(entryFor({ to: nasty, label: nasty }));
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(line).not.toMatch(/[\r\u2028\u2029]/);
    const parsed = JSON.parse(line);
    expect(parsed.to).toBe(nasty);
    expect(parsed.report.label).toBe(nasty);
  });
});
