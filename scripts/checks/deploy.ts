/**
 * Checks the files in deploy/ for real, against a compiled binary:
 * - the systemd unit passes `systemd-analyze verify` (with ExecStart pointed at the binary), and the
 *   binary starts with the unit's Environment= settings;
 * - the logrotate snippet, run by the real `logrotate -f` (paths moved into a temp directory, the
 *   postrotate command replaced by a SIGHUP to the test server), rotates without losing an entry.
 *
 *   bun scripts/checks/deploy.ts [dist/sms-status]
 *
 * Needs systemd-analyze and logrotate; installs them with apt-get when missing (root).
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Checks } from "../lib/checks.ts";
import { routeeReport } from "../lib/samples.ts";
import { spawnServer } from "../lib/startup.ts";

const binary = resolve(process.argv[2] ?? "dist/sms-status");
const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "sms-status-deploy-"));
const checks = new Checks("deploy");
const check = checks.check.bind(checks);

function ensureTool(command: string, debianPackage: string): void {
  if (Bun.which(command)) return;
  console.log(`installing ${debianPackage} (for ${command})`);
  Bun.spawnSync(["apt-get", "update", "-qq"], { stdout: "ignore", stderr: "inherit" });
  Bun.spawnSync(["apt-get", "install", "-y", "-qq", debianPackage], {
    stdout: "ignore",
    stderr: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (!Bun.which(command)) throw new Error(`${command} is missing and could not be installed (apt-get install ${debianPackage})`);
}

async function checkUnit(): Promise<void> {
  ensureTool("systemd-analyze", "systemd");
  const unit = readFileSync(join(root, "deploy/sms-status.service"), "utf8");
  const unitPath = join(dir, "sms-status.service");
  writeFileSync(unitPath, unit.replace(/^ExecStart=\S+/m, `ExecStart=${binary}`));
  const verify = Bun.spawnSync(["systemd-analyze", "verify", unitPath]);
  const complaints = verify.stderr.toString().split("\n").filter((l) => l.includes("sms-status.service"));
  check("systemd-analyze verify accepts the unit", verify.exitCode === 0 && complaints.length === 0, complaints.join("; "));

  // The unit's own settings, with the log moved into the temp directory.
  const env: Record<string, string> = { PATH: "/usr/bin:/bin" };
  for (const [, name, value] of unit.matchAll(/^Environment=(\w+)=(.*)$/gm)) env[name!] = value!;
  check("the unit sets the port and the log", env.SMS_STATUS_PORT === "3000" && !!env.SMS_STATUS_LOG);
  env.SMS_STATUS_PORT = "0";
  env.SMS_STATUS_LOG = join(dir, "unit", "status.log");
  const args = unit.match(/^ExecStart=\S+ (.*)$/m)?.[1]?.split(" ") ?? [];
  const started = await spawnServer([...args, "--host", "127.0.0.1"], { command: [binary], env }).catch((e: Error) => e);
  const line = started instanceof Error ? started.message : started.line;
  check("the binary starts with the unit's command line and environment", line.includes("listening on"), line);
  if (started instanceof Error) return;
  started.proc.kill("SIGTERM");
  check("the unit's KillSignal (SIGTERM) stops it with exit 0", (await started.proc.exited) === 0);
}

async function checkLogrotate(): Promise<void> {
  ensureTool("logrotate", "logrotate");
  const logDir = join(dir, "logs");
  const log = join(logDir, "status.log");
  const { proc, port } = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log], { command: [binary] });
  const send = (n: number) =>
    fetch(`http://127.0.0.1:${port}/sms/status`, {
      method: "POST",
      body: JSON.stringify(routeeReport({ messageId: `rot-${n}`, smsId: `rot-${n}` })),
    }).then((r) => r.status);

  const user = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  const conf = readFileSync(join(root, "deploy/logrotate.conf"), "utf8")
    .replace("/var/log/sms-status/", `${logDir}/`)
    .replace(/create (\d+) \S+ \S+/, `create $1 ${user} ${user}`)
    .replace(/systemctl kill --signal=HUP sms-status.service[^\n]*/, `kill -HUP ${proc.pid}`);
  const confPath = join(dir, "logrotate.conf");
  writeFileSync(confPath, conf);
  chmodSync(confPath, 0o644); // logrotate ignores world-writable configs

  const before = await Promise.all([1, 2, 3].map(send));
  // Load running while logrotate renames the file and signals the server.
  let n = 100;
  let stop = false;
  const acked: number[] = [];
  const load = (async () => {
    while (!stop) {
      const id = n++;
      if ((await send(id)) === 200) acked.push(id);
    }
  })();
  const rotate = Bun.spawnSync(["logrotate", "-f", "-s", join(dir, "logrotate.state"), confPath]);
  check("logrotate -f runs the snippet", rotate.exitCode === 0, rotate.stderr.toString());
  await Bun.sleep(200);
  stop = true;
  await load;
  const after = await send(4);
  proc.kill("SIGTERM");
  await proc.exited;

  const files = readdirSync(logDir);
  const rotated = files.filter((f) => f !== "status.log");
  check("the old log was renamed and a new one created", rotated.length === 1 && files.includes("status.log"), files.join(","));
  const ids = new Set<string>();
  let lines = 0;
  for (const f of files) {
    for (const l of readFileSync(join(logDir, f), "utf8").split("\n").slice(0, -1)) {
      ids.add(JSON.parse(l).messageId);
      lines += 1;
    }
  }
  const current = readFileSync(log, "utf8");
  check("new entries go to the new file after the SIGHUP", current.includes('"rot-4"'));
  check("the new file has mode 0640", ((Bun.spawnSync(["stat", "-c", "%a", log]).stdout.toString().trim()) === "640"));
  const expected = [1, 2, 3, 4, ...acked].map((i) => `rot-${i}`);
  check(
    "no acknowledged entry lost or split across the rotation",
    before.every((s) => s === 200) && after === 200 && expected.every((id) => ids.has(id)) && lines === expected.length,
    `${lines} lines, ${expected.length} acknowledged`,
  );
}

await checks.run(
  async () => {
    await checkUnit();
    await checkLogrotate();
  },
  () => rmSync(dir, { recursive: true, force: true }),
);
