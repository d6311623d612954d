/**
 * Checks the files in deploy/ for real, against a compiled binary:
 * - the systemd unit passes `systemd-analyze verify` (with ExecStart pointed at the binary);
 * - docs/operations.md's VPS recipe, run in a temp root with the real service user, gives a server
 *   that starts as that user (setpriv, the unit's UMask and environment) and logs a report;
 * - the logrotate snippet, run by the real `logrotate -f` (paths moved into a temp directory, the
 *   postrotate command replaced by a SIGHUP to the test server), rotates without losing an entry.
 *
 *   bun scripts/checks/deploy.ts [dist/sms-status]
 *
 * Runs as root (useradd, setpriv). Needs systemd-analyze and logrotate; installs them with apt-get
 * when missing.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
/** The service user, when this check created it (removed at the end). */
let createdUser = "";

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

  await checkRecipe(unit);
}

/** The unit's `Key=value` (first one). */
const unitSetting = (unit: string, key: string) => unit.match(new RegExp(`^${key}=(.*)$`, "m"))?.[1]?.trim() ?? "";

/**
 * docs/operations.md's VPS steps that install the binary, create the user and /etc/sms-status,
 * as written (continuation lines joined), without the systemctl and logrotate ones.
 */
function recipeSteps(): string[] {
  const doc = readFileSync(join(root, "docs/operations.md"), "utf8");
  const block = doc.split("## Running it on a VPS")[1]?.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "";
  return block
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .filter((l) => /^sudo (useradd|install -m 0755 sms-status )|\/etc\/sms-status/.test(l));
}

/**
 * The recipe followed in a temp root (only /etc and /usr/local/bin moved; the user is real), then
 * the unit's ExecStart run as the unit's User/Group with its UMask and environment, as systemd
 * would: a file the service user cannot read fails here, not on the VPS.
 */
async function checkRecipe(unit: string): Promise<void> {
  const user = unitSetting(unit, "User");
  const group = unitSetting(unit, "Group");
  const steps = recipeSteps();
  check(
    "the docs' recipe creates the user, /etc/sms-status and the token",
    steps.some((l) => l.includes("useradd")) && steps.some((l) => l.includes("/etc/sms-status/token")),
    steps.join("; "),
  );
  const sysroot = join(dir, "root");
  const stage = join(dir, "stage"); // where `scp` put the files on the VPS
  mkdirSync(join(sysroot, "usr/local/bin"), { recursive: true });
  mkdirSync(stage);
  copyFileSync(binary, join(stage, "sms-status"));
  chmodSync(dir, 0o755); // mkdtemp's 0700 would hide everything from the service user
  for (const step of steps) {
    if (step.includes("useradd") && Bun.spawnSync(["id", "-u", user]).exitCode === 0) continue;
    if (step.includes("useradd")) createdUser = user;
    const command = step
      .replaceAll("sudo ", "")
      .replaceAll("/etc/sms-status", `${sysroot}/etc/sms-status`)
      .replaceAll("/usr/local/bin/", `${sysroot}/usr/local/bin/`);
    const ran = Bun.spawnSync(["bash", "-euo", "pipefail", "-c", command], { cwd: stage, stdout: "ignore" });
    if (ran.exitCode !== 0) return check(`recipe step: ${step}`, false, ran.stderr.toString());
  }

  // systemd reads Environment= and EnvironmentFile= as root, then starts ExecStart as the user.
  const env: Record<string, string> = { PATH: "/usr/bin:/bin" };
  for (const [, name, value] of unit.matchAll(/^Environment=(\w+)=(.*)$/gm)) env[name!] = value!;
  check("the unit sets the port and the log", env.SMS_STATUS_PORT === "3000" && !!env.SMS_STATUS_LOG);
  const envFile = unitSetting(unit, "EnvironmentFile").replace(/^-/, "").replace("/etc/sms-status", `${sysroot}/etc/sms-status`);
  // (Its paths already point into the temp root: the recipe step that wrote it was moved.)
  for (const [, name, value] of readFileSync(envFile, "utf8").matchAll(/^(\w+)=(.*)$/gm)) env[name!] = value!;
  // Moved for the test: a free port, the log under the temp root, and no DNS (CI has none).
  const logsDir = join(sysroot, "var/log", unitSetting(unit, "LogsDirectory"));
  Bun.spawnSync(["install", "-d", "-m", unitSetting(unit, "LogsDirectoryMode"), "-o", user, "-g", group, logsDir]);
  const log = join(logsDir, "status.log");
  Object.assign(env, { SMS_STATUS_PORT: "0", SMS_STATUS_LOG: log, SMS_STATUS_ALLOW: "127.0.0.1" });
  if (env.SMS_STATUS_METRICS_PORT) env.SMS_STATUS_METRICS_PORT = "0";

  const installed = join(sysroot, "usr/local/bin/sms-status");
  const args = unit.match(/^ExecStart=\S+ (.*)$/m)?.[1]?.split(" ") ?? [];
  const asUser = ["setpriv", `--reuid=${user}`, `--regid=${group}`, "--init-groups", "--"];
  const umask = ["sh", "-c", `umask ${unitSetting(unit, "UMask")} && exec "$0" "$@"`];
  const started = await spawnServer([...args, "--host", "127.0.0.1"], { command: [...asUser, ...umask, installed], env }).catch(
    (e: Error) => e,
  );
  const line = started instanceof Error ? started.message : started.line;
  check(`the installed binary starts as ${user} with the unit's command line and environment`, line.includes("listening on"), line);
  if (started instanceof Error) return;

  const tokenFile = join(sysroot, "etc/sms-status/token");
  const tokenStat = Bun.spawnSync(["stat", "-c", "%U:%G %a", tokenFile]).stdout.toString().trim();
  check(`the token file is root:${group} 640 (readable by the service, by no one else)`, tokenStat === `root:${group} 640`, tokenStat);
  const token = readFileSync(tokenFile, "utf8").trim();
  const report = routeeReport({ messageId: "unit-1", smsId: "unit-1" });
  const send = (query: string) =>
    fetch(`${started.url}/sms/status${query}`, { method: "POST", body: JSON.stringify(report) }).then((r) => r.status);
  check("it asks for the token from /etc/sms-status/token", (await send("")) === 401 && (await send(`?token=${token}`)) === 200);
  const stat = Bun.spawnSync(["stat", "-c", "%U %a", log]).stdout.toString().trim();
  const logged = readFileSync(log, "utf8").includes('"unit-1"');
  check(`the report is in its log, owned by ${user}, mode 640`, logged && stat === `${user} 640`, stat);
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

  // The SQLite view beside the log (status.log.db and its -wal/-shm) follows the rename; logrotate's *.log leaves it.
  const all = readdirSync(logDir);
  const files = all.filter((f) => !f.startsWith("status.log.db"));
  check("the SQLite view beside the log is not rotated", all.includes("status.log.db") && !all.some((f) => /\.db-\d/.test(f)), all.join(","));
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
  () => {
    rmSync(dir, { recursive: true, force: true });
    if (createdUser) Bun.spawnSync(["userdel", createdUser]);
  },
);
