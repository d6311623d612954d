/** The cost check that runs on a body's bytes before JSON.parse (http/json-cost.ts). */
import { describe, expect, it } from "bun:test";
import { MAX_JSON_DEPTH, MAX_JSON_STRUCTURE } from "../../src/core/defaults.ts";
import { jsonCost } from "../../src/http/json-cost.ts";
import { routeeReport } from "../helpers/utils.ts";

const cost = (text: string, limits?: { depth?: number; structure?: number }) => jsonCost(new TextEncoder().encode(text), limits);
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("json cost", () => {
  it("passes a Routee report", () => {
    expect(cost(JSON.stringify(routeeReport()))).toBeNull();
  });

  it(`passes ${MAX_JSON_DEPTH} levels of nesting and refuses one more`, () => {
    expect(cost(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(cost(nested(MAX_JSON_DEPTH + 1))).toBe(`the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    expect(cost(`{"a":${nested(MAX_JSON_DEPTH)}}`)).toStartWith("the JSON nests deeper");
  });

  it(`passes ${MAX_JSON_STRUCTURE} brackets, commas and colons and refuses one more`, () => {
    const flat = (n: number) => `[${"0,".repeat(n - 1)}0]`; // n - 1 commas and one bracket
    expect(cost(flat(MAX_JSON_STRUCTURE))).toBeNull();
    expect(cost(flat(MAX_JSON_STRUCTURE + 1))).toStartWith(`the JSON has more than ${MAX_JSON_STRUCTURE} brackets`);
    expect(cost(`[${"{},".repeat(MAX_JSON_STRUCTURE)}{}]`)).not.toBeNull();
    const keys = Array.from({ length: MAX_JSON_STRUCTURE }, (_, i) => `"k${i}":0`).join(",");
    expect(cost(`{${keys}}`)).not.toBeNull();
  });

  it("does not count brackets, commas and colons inside strings, escaped quotes included", () => {
    const text = `[${nested(40)},:\\"`;
    expect(cost(JSON.stringify({ message: text, label: "\\", to: '"[[[' }), { depth: 2, structure: 10 })).toBeNull();
    expect(cost(`{"a":"\\\\"}[[[`, { depth: 2 })).not.toBeNull(); // the string ends after \\
  });

  it("leaves bodies that are not JSON to JSON.parse", () => {
    expect(cost('{"a":"never closed [[[[')).toBeNull();
    expect(cost("")).toBeNull();
  });
});
