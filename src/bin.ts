#!/usr/bin/env node
/**
 * The npm package's `sms-status` command, started by whichever runtime `node_modules/.bin` finds.
 * The CLI runs on Bun (the server is `Bun.serve`): under Bun it runs here; under Node it is handed
 * to `bun` (on the PATH, or the `bun` npm package), signals passed on, exit code passed back;
 * with no Bun anywhere it says what to install and exits 1.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const NO_BUN =
  "sms-status: this command runs on Bun, which is not installed here. Install it (npm install bun, " +
  "or see bun.sh), or use the single executable (npm run build in the repository). The Elysia plugin " +
  "itself runs on Node 20+ without Bun.";

function findBun(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter))
    if (dir && existsSync(join(dir, "bun"))) return join(dir, "bun");
  try {
    return createRequire(import.meta.url).resolve("bun/bin/bun.exe");
  } catch {
    return null;
  }
}

if ("Bun" in globalThis) {
  const { main } = await import("./cli.ts");
  await main(process.argv.slice(2), process.env);
} else {
  const bun = findBun();
  if (bun === null) {
    console.error(NO_BUN);
    process.exit(1);
  }
  const cli = fileURLToPath(new URL("./cli.js", import.meta.url));
  const child = spawn(bun, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
}
