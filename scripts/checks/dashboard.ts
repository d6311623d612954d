/**
 * `bun scripts/checks/dashboard.ts dist/sms-status`: the compiled binary carries the dashboard (the
 * page, its script and styles embedded), serves it on --api-port, and the page names no other host.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Checks } from "../lib/checks.ts";
import { killServers, spawnServer } from "../lib/startup.ts";

const binary = resolve(process.argv[2] ?? "dist/sms-status");
const dir = mkdtempSync(join(tmpdir(), "dashboard-check-"));
const checks = new Checks("dashboard");

await checks.run(async () => {
  // Run from an empty directory: the page must come from inside the binary, not from src/.
  const server = await spawnServer(["--host", "127.0.0.1", "--port", "0", "--log", join(dir, "x.log"), "--api-port", "0", "--api-token", "check-token-0123456789"], { command: [binary], cwd: dir });
  // A port the kernel picks (a random fixed one once met a port in use); the server says which.
  const api = /read API at (http:\/\/[^/\s]+)/.exec(server.stderr())![1]!;
  const page = await fetch(`${api}/dashboard`);
  const html = await page.text();
  checks.check("GET /dashboard answers 200 text/html", page.status === 200 && (page.headers.get("content-type") ?? "").includes("text/html"), `${page.status}`);
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  checks.check("the page loads its script and styles from the server itself", assets.length >= 2 && assets.every((a) => a.startsWith("/")), assets.join(" "));
  for (const asset of assets) {
    const res = await fetch(`${api}${asset}`);
    const text = await res.text();
    checks.check(`${asset} is embedded (200, no http(s):// host to load)`, res.status === 200 && text.length > 100 && !/(?:src|href)=["']https?:/.test(text), `${res.status}`);
  }
  checks.check("the data needs the token", (await fetch(`${api}/v1/report`)).status === 401);
  server.proc.kill("SIGTERM");
  await server.proc.exited;
}, () => {
  killServers();
  rmSync(dir, { recursive: true, force: true });
});
