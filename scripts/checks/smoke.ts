/**
 * Smoke test of a compiled `sms-status` executable, as an operator would use it: copied alone into
 * an empty directory (with a hostile `.env` and `bunfig.toml` it must ignore), started, sent a
 * report of every outcome, rotated with SIGHUP, stopped with SIGTERM.
 *
 *   bun scripts/checks/smoke.ts dist/sms-status
 *
 * Prints one line per check and exits 1 if any failed.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Checks } from "../lib/checks.ts";
import { routeeReport, routeeStatus } from "../lib/samples.ts";
import { spawnServer } from "../lib/startup.ts";

const binary = resolve(process.argv[2] ?? "dist/sms-status");
const dir = mkdtempSync(join(tmpdir(), "sms-status-smoke-"));
const checks = new Checks("smoke");
const check = checks.check.bind(checks);

function report(n: number, status: string, extra: Record<string, unknown> = {}) {
  return routeeReport({
    messageId: `smoke-msg-${n}`,
    smsId: `smoke-sms-${n}`,
    to: `+30694000000${n}`,
    from: "Smoke",
    status: routeeStatus(status, "2019-07-05T10:28:49Z"),
    ...extra,
  });
}

async function main() {
  copyFileSync(binary, join(dir, "sms-status"));
  // A compiled binary must not pick these up from where it runs.
  writeFileSync(join(dir, ".env"), "SMS_STATUS_FORMAT=xml\nSMS_STATUS_PORT=1\n");
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./boom.ts"]\n');
  writeFileSync(join(dir, "boom.ts"), "throw new Error('bunfig.toml was loaded');\n");

  const version = Bun.spawnSync([join(dir, "sms-status"), "--version"], { cwd: dir, env: { PATH: "/usr/bin:/bin" } });
  check("--version prints a version", version.exitCode === 0 && /^\d+\.\d+\.\d+/.test(version.stdout.toString()));

  const { proc, port } = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", "logs/status.log"], {
    command: [join(dir, "sms-status")],
    cwd: dir,
    env: { PATH: "/usr/bin:/bin" },
  });
  check("starts and prints where it listens", port > 0);
  const url = `http://127.0.0.1:${port}/sms/status`;
  const send = (body: unknown) =>
    fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  const statuses = ["Delivered", "Undelivered", "Failed", "Queued", "Sent", "Mystery"];
  const answers = await Promise.all(statuses.map((s, i) => send(report(i, s))));
  check("answers 200 to a report of every outcome", answers.every((r) => r.status === 200));
  const dup = await send(report(0, "Delivered"));
  check("answers 200 to a duplicate", dup.status === 200 && ((await dup.json()) as { duplicate?: boolean }).duplicate === true);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  check("healthz is 200", health.status === 200);

  const logPath = join(dir, "logs/status.log");
  const lines = readFileSync(logPath, "utf8").split("\n").slice(0, -1).map((l) => JSON.parse(l));
  const outcomes = lines.map((e) => e.outcome).join(",");
  check("the log holds one entry per report", lines.length === 6, `${lines.length} lines`);
  check("outcomes are classified", outcomes === "delivered,failed,failed,pending,pending,unknown", outcomes);

  renameSync(logPath, `${logPath}.1`);
  proc.kill("SIGHUP");
  await Bun.sleep(200);
  const afterHup = await send(report(10, "Delivered"));
  check("answers 200 after SIGHUP", afterHup.status === 200);
  const rotated = readFileSync(`${logPath}.1`, "utf8").split("\n").length - 1;
  const fresh = readFileSync(logPath, "utf8").split("\n").length - 1;
  check("SIGHUP reopens: old entries in the renamed file, new ones in a new file", rotated === 6 && fresh === 1);

  // Requests in flight when SIGTERM arrives are finished and logged.
  const inFlight = Array.from({ length: 50 }, (_, i) => send(report(100 + i, "Delivered")));
  await Bun.sleep(5);
  proc.kill("SIGTERM");
  const settled = await Promise.allSettled(inFlight);
  const acked = settled.filter((s) => s.status === "fulfilled" && s.value.status === 200).length;
  const exitCode = await proc.exited;
  check("SIGTERM exits 0", exitCode === 0, `exit ${exitCode}`);
  const total = readFileSync(logPath, "utf8").split("\n").length - 1;
  check("every acknowledged report is in the log after SIGTERM", total >= 1 + acked, `${total - 1} of ${acked}`);

  // Forwarding runs in a worker thread, which the binary must carry inside it.
  const bodies: string[] = [];
  const app = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (r) => (bodies.push(await r.text()), new Response(null, { status: 204 })) });
  writeFileSync(join(dir, "forward.secret"), "whsec_" + Buffer.from("smoke-forwarding-key-0123456789abcdef").toString("base64"));
  const forwarding = await spawnServer(
    ["--port", "0", "--host", "127.0.0.1", "--log", "logs/status.log", "--forward", `http://127.0.0.1:${app.port}/hooks`, "--forward-secret-file", "forward.secret"],
    { command: [join(dir, "sms-status")], cwd: dir, env: { PATH: "/usr/bin:/bin" } },
  );
  const forwarded = await fetch(`http://127.0.0.1:${forwarding.port}/sms/status`, { method: "POST", body: JSON.stringify(report(201, "Delivered")) });
  for (let i = 0; i < 50 && bodies.length === 0; i++) await Bun.sleep(100);
  check("forwards a report to --forward, from its worker thread", forwarded.status === 200 && bodies.length === 1 && bodies[0]!.includes('"type":"sms_status.dlr"'), `${bodies.length} forwarded`);
  forwarding.proc.kill("SIGTERM");
  check("SIGTERM exits 0 while forwarding", (await forwarding.proc.exited) === 0);
  app.stop(true);
}

await checks.run(main, () => rmSync(dir, { recursive: true, force: true }));
