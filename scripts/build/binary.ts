/**
 * `npm run build`: compile the CLI into one self-contained executable, `dist/sms-status`.
 * The binary ignores `.env`, `bunfig.toml`, `tsconfig.json` and `package.json` where it runs, so a
 * stray file on the server cannot change its behaviour.
 */
import { VERSION } from "../../src/core/version.ts";

const outfile = process.argv[2] ?? "dist/sms-status";
const result = await Bun.build({
  // The forwarding and view threads are entry points: `new Worker` loads them from inside the binary.
  entrypoints: ["src/cli.ts", "src/forward/worker.ts", "src/store/sql/view-worker.ts"],
  compile: {
    outfile,
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
  minify: true,
  sourcemap: "linked",
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (sms-status ${VERSION})`);
