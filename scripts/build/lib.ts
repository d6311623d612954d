/**
 * `npm run build:lib` (and `npm pack`, through `prepack`): compile src/ into ESM JavaScript plus
 * `.d.ts` files in dist/lib, the library and CLI that the npm package ships.
 *
 * src/core/version.ts reads ../../package.json, which from dist/lib/core would be dist/package.json; the built
 * version.js gets the version written in instead (as `bun build --compile` inlines it).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../../src/core/version.ts";

const ROOT = join(import.meta.dir, "../..");
const OUT = join(ROOT, "dist/lib");
rmSync(OUT, { recursive: true, force: true });
const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")], {
  stdout: "inherit",
  stderr: "inherit",
});
if (tsc.exitCode !== 0) {
  console.error(`build-lib: tsc -p tsconfig.build.json failed (exit ${tsc.exitCode})`);
  process.exit(1);
}
writeFileSync(
  `${OUT}/core/version.js`,
  `/** The package version, written in at build time. */\nexport const VERSION = ${JSON.stringify(VERSION)};\n`,
);
console.log(`built dist/lib (elysia-sms-status ${VERSION})`);
