/**
 * The npm package as a consumer gets it: `npm pack`, installed into a temporary project together
 * with elysia, imported by name, type-checked with the consumer's own tsc, and the example app
 * served on a random port under Bun, Deno and Node (with @elysiajs/node), each sent a report.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { Webhook } from "standardwebhooks";
import { json, post, routeeReport, tempDir } from "../helpers/utils.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BIN = join(ROOT, "node_modules/.bin");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const installed = (name: string) => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
/** Elysia's Node adapter, installed only in the consumer project (Node has no listen() of its own). */
const ELYSIA_NODE = "1.4.5";

const dir = tempDir("sms-status-pkg-");
const project = join(dir, "consumer");
const children: Subprocess[] = [];
let tarball = "";

function run(cmd: string[], cwd: string, env: Record<string, string> = {}) {
  const result = Bun.spawnSync(cmd, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const output = result.stdout.toString() + result.stderr.toString();
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${result.exitCode}:\n${output}`);
  return output;
}

beforeAll(() => {
  // prepack builds dist/lib first, as it would before a publish.
  const packed = run(["npm", "pack", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!;
  tarball = join(dir, packed);
  Bun.spawnSync(["mkdir", "-p", project]);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: { "elysia-sms-status": `file:${tarball}`, elysia: installed("elysia"), "@elysiajs/node": ELYSIA_NODE },
      devDependencies: { typescript: installed("typescript"), "@types/bun": installed("@types/bun") },
    }),
  );
  // The versions above are the ones already in npm's cache (@elysiajs/node after its first
  // install), so this rarely touches the network.
  run(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], project);
  copyFileSync(join(ROOT, "examples/existing-app.ts"), join(project, "existing-app.ts"));
}, 90_000);

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("the packed package", () => {
  it("holds the built library, its types, the README and the licence, not the sources or tests", () => {
    const files = run(["tar", "-tzf", tarball], dir).trim().split("\n").map((f) => f.replace(/^package\//, ""));
    expect(files).toContain("dist/lib/index.js");
    expect(files).toContain("dist/lib/index.d.ts");
    expect(files).toContain("dist/lib/cli.js");
    expect(files).toContain("dist/lib/bin.js"); // the `sms-status` command's launcher
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    const expected = new Set(["README.md", "LICENSE", "package.json"]);
    expect(files.filter((f) => !f.startsWith("dist/lib/") && !expected.has(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("installs with elysia and @sinclair/typebox as peers, not copies", () => {
    const installedPkg = JSON.parse(readFileSync(join(project, "node_modules/elysia-sms-status/package.json"), "utf8"));
    expect(Object.keys(installedPkg.peerDependencies)).toEqual(expect.arrayContaining(["elysia", "@sinclair/typebox"]));
    // Only ipaddr.js (for the allowlist) is a real dependency; the framework comes from the host.
    expect(Object.keys(installedPkg.dependencies ?? {})).toEqual(["ipaddr.js"]);
    expect(run(["npm", "ls", "--all", "--parseable", "elysia"], project).trim().split("\n").length).toBe(1);
  });

  it("type-checks in a consumer project (NodeNext resolution, strict)", () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          types: ["bun"],
        },
        include: ["*.ts"],
      }),
    );
    writeFileSync(
      join(project, "uses-types.ts"),
      `import { Value } from "@sinclair/typebox/value";
import {
  classify, DuplicateFilter, duplicateKey, FileJournal, LogEntry, renderJsonl, renderText, RouteeCallback,
  smsStatus, type Journal, type SmsStatusOptions,
} from "elysia-sms-status";

const report: RouteeCallback = { messageId: "m1", status: { name: "Delivered" } };
const ok: boolean = Value.Check(RouteeCallback, report);
const outcome: "delivered" | "failed" | "pending" | "unknown" = classify("Failed").outcome;
const options: SmsStatusOptions = { path: "/hooks/routee", format: "text", onDelivered: (e: LogEntry) => e.messageId };
// @ts-expect-error: not a log format
const wrong: SmsStatusOptions = { format: "xml" };
const journal: Journal = new FileJournal("/tmp/never-written.log", { lazy: true });
const filter = new DuplicateFilter({ maxKeys: 10 });
export { ok, outcome, options, wrong, journal, filter, duplicateKey, renderJsonl, renderText, smsStatus };
`,
    );
    run([join(project, "node_modules/.bin/tsc"), "-p", "."], project);
  });

  it("runs its CLI with the built-in version", () => {
    const out = run([join(project, "node_modules/.bin/sms-status"), "--version"], project, {
      PATH: `${BIN}:${process.env.PATH}`, // the CLI runs on Bun
    });
    expect(out.trim()).toBe(pkg.version);
  });

  it("says what to install when its CLI is run where there is no Bun (exit 1)", () => {
    const result = Bun.spawnSync([join(project, "node_modules/.bin/sms-status"), "--version"], {
      cwd: project,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin" }, // node, but neither bun nor the bun package
      stderr: "pipe",
    });
    expect(result.stderr.toString()).toStartWith("sms-status: this command runs on Bun, which is not installed here.");
    expect(result.exitCode).toBe(1);
  });

  it("says what to install when --docs is asked for without @elysiajs/openapi", () => {
    const result = Bun.spawnSync([join(project, "node_modules/.bin/sms-status"), "--docs", "--port", "0"], {
      cwd: project,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, SMS_STATUS_LOG: join(dir, "cli.log") },
      stderr: "pipe",
      timeout: 10_000,
    });
    expect(result.stderr.toString()).toContain("--docs needs the package @elysiajs/openapi");
    expect(result.exitCode).toBe(1);
  });
});

/** Starts the example, returns its base URL once it says where it listens. */
async function serveExample(cmd: string[], log: string): Promise<string> {
  const child = Bun.spawn(cmd, {
    cwd: project,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      SMS_STATUS_LOG: log,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      FORWARD_URL: `${application.url}hooks/${basename(log)}`,
      WEBHOOK_SECRET: SECRET,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(child);
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    const match = text.match(/listening on port (\d+)/);
    if (match) return `http://127.0.0.1:${match[1]}`;
  }
  child.kill();
  throw new Error(`the example did not start:\n${text}\n${await new Response(child.stderr).text()}`);
}

async function postsAReport(base: string, log: string) {
  const report = routeeReport();
  const res = await fetch(post(`${base}/sms/status`, report));
  expect(res.status).toBe(200);
  expect(await json(res)).toEqual({ ok: true, kind: "dlr", outcome: "delivered" });
  const lines = readFileSync(log, "utf8").split("\n").slice(0, -1);
  expect(lines.length).toBe(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ messageId: report.messageId, outcome: "delivered", provider: "routee" });
  // The host's own route sees what the onReport hook stored.
  let status: Response | undefined;
  for (let i = 0; i < 20; i++) {
    status = await fetch(`${base}/messages/${report.messageId}/status`);
    if (status.status === 200) break;
    await Bun.sleep(25);
  }
  expect(await json(status!)).toEqual({ messageId: report.messageId, outcome: "delivered" });
  // The plugin's forwarding, on this runtime: the entry reaches the application, signed.
  const path = `/hooks/${basename(log)}`;
  for (let i = 0; i < 200 && !forwarded.some((f) => f.path === path); i++) await Bun.sleep(25);
  expect(forwarded.filter((f) => f.path === path).map((f) => f.messageId)).toEqual([report.messageId as string]);
}

/** The application the examples forward to: it verifies each webhook with `standardwebhooks`. */
const SECRET = "whsec_" + Buffer.from("package-test-forwarding-key-012345").toString("base64");
const forwarded: { path: string; messageId: string }[] = [];
const application = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const payload = new Webhook(SECRET).verify(await request.text(), Object.fromEntries(request.headers)) as { data: { messageId: string } };
    forwarded.push({ path: new URL(request.url).pathname, messageId: payload.data.messageId });
    return new Response(null, { status: 204 });
  },
});
afterAll(() => application.stop(true));

describe("the example app, served from the installed package", () => {
  it("receives a report under Bun", async () => {
    const log = join(dir, "bun.log");
    await postsAReport(await serveExample([join(BIN, "bun"), "existing-app.ts"], log), log);
  });

  it("receives a report under Node (the example's app mounted in an @elysiajs/node app)", async () => {
    // Node 20 runs no TypeScript: the example is transpiled as it is, and mounted by a small entry.
    const example = readFileSync(join(project, "existing-app.ts"), "utf8");
    writeFileSync(join(project, "existing-app.mjs"), new Bun.Transpiler({ loader: "ts" }).transformSync(example));
    writeFileSync(
      join(project, "node-app.mjs"),
      `import { node } from "@elysiajs/node";
import { Elysia } from "elysia";
import { app } from "./existing-app.mjs";

new Elysia({ adapter: node() }).use(app).listen({ port: 0, hostname: "127.0.0.1" }, (server) => {
  const http = server.node.server;
  const say = () => console.log(\`listening on port \${http.address().port}\`);
  http.listening ? say() : http.once("listening", say);
});
`,
    );
    const log = join(dir, "node.log");
    await postsAReport(await serveExample(["node", "node-app.mjs"], log), log);
  });

  it("receives a report under Deno (web-standard adapter, node:fs journal)", async () => {
    const log = join(dir, "deno.log");
    const deno = [join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-write", "--allow-env"];
    await postsAReport(await serveExample([...deno, "existing-app.ts"], log), log);
  });
});
