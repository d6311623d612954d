/**
 * The design, held by a test: folders per concern, dependencies pointing down, and the receiver
 * knowing providers and stores only through their interfaces (docs/architecture.md).
 */
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/** Each folder's layer: a module may import only from its own layer or below. */
const LAYERS: Record<string, number> = {
  core: 0,
  providers: 1,
  status: 1,
  log: 1,
  journal: 1,
  store: 2,
  forward: 2,
  http: 3,
  api: 3,
  dashboard: 3, // the page's browser code: it talks to the API over HTTP only
  server: 4,
  cli: 5,
  ".": 6, // index.ts and cli.ts, the entry points
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The top folder of `src/` a file lives in ("." for the entry points). */
function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.split("/")[0]! : ".";
}

/** The `src/` files a module imports (static and dynamic imports with relative paths). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!);
  return specs.map((spec) => resolve(dirname(file), spec)).filter((path) => path.startsWith(SRC + "/"));
}

describe("architecture", () => {
  const files = sourceFiles(SRC);

  it("keeps at most 4 files at the top of src/, every other file in a known folder", () => {
    const top = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isFile());
    expect(top.length).toBeLessThanOrEqual(4);
    for (const file of files) expect(Object.keys(LAYERS)).toContain(folderOf(file));
  });

  it("points every import down the layers (cli → server → http → store/forward → status/log/journal/providers → core)", () => {
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => LAYERS[folderOf(target)]! > LAYERS[folderOf(file)]!)
        .map((target) => `${relative(SRC, file)} imports ${relative(SRC, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it("lets the receiver know providers and stores only through their interfaces", () => {
    const receiver = importsOf(join(SRC, "http/receiver.ts")).map((path) => relative(SRC, path));
    expect(receiver.filter((path) => path.startsWith("providers/"))).toEqual(["providers/provider.ts"]);
    expect(receiver.filter((path) => path.startsWith("store/"))).toEqual(["store/store.ts"]);
    expect(receiver.filter((path) => path.startsWith("journal/file-journal"))).toEqual([]);
  });

  it("defines the status rank table once", () => {
    const defining = files.filter((file) => /export const RANK_FINAL\b|function rankOf\b/.test(readFileSync(file, "utf8")));
    expect(defining.map((file) => relative(SRC, file))).toEqual(["status/rules.ts"]);
  });
});
