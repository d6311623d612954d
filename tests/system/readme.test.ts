import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SERVE_FLAGS } from "../../src/cli/serve-flags.ts";

const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");

describe("README", () => {
  it("documents every flag of serve and its environment variables", () => {
    const missing = SERVE_FLAGS.flatMap((spec) => [`--${spec.flag}`, ...spec.env]).filter((name) => !readme.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });

  it("shows the two commands a newcomer needs", () => {
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
  });
});
