import { afterAll, describe, expect, it } from "bun:test";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killServers, spawnServer } from "../../scripts/lib/startup.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { routeeReport, runCli, tempDir } from "../helpers/utils.ts";

const dir = tempDir("cli-");
// Servers started by a test are killed at the end even when an assertion failed first.
afterAll(killServers);
const CLI = join(import.meta.dir, "../../src/cli.ts");

function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync([process.execPath, CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
    timeout: 15_000,
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("configuration", () => {
  it("has sensible defaults", () => {
    expect(parseServeConfig([], {})).toEqual({
      providers: ["routee"],
      publicUrl: null,
      providerSecrets: { routee: {} },
      unsigned: [],
      port: 3000,
      host: "0.0.0.0",
      path: "/sms/status",
      log: "./sms-status.log",
      format: "jsonl",
      fsync: false,
      bodyLimit: 65536,
      dedupeKeys: 50000,
      dedupeHours: 48,
      idleTimeout: 10,
      token: null,
      tokenFile: null,
      allow: [],
      trustProxy: [],
      tlsCert: null,
      tlsKey: null,
      metricsHost: "127.0.0.1",
      metricsPort: null,
      forward: [],
      forwardSecretFile: null,
      forwardSecret: null,
      forwardFilter: { kinds: [], outcomes: [], channels: [], final: false, changes: false },
      forwardTimeout: 10,
      forwardBatch: 1,
      forwardStateDir: null,
      docs: false,
      apiHost: "127.0.0.1",
      apiPort: null,
      apiToken: null,
      apiTokenFile: null,
      db: "./sms-status.log.db",
      noDb: false,
      databaseUrl: null,
      replica: null,
      dbStatementTimeout: 1500,
      dbMaxConnections: 5,
      dbNoPrepare: false,
      logGiven: false,
    });
  });

  it("takes every setting from the environment, and flags win", () => {
    const env = {
      SMS_STATUS_PORT: "8080",
      PORT: "9090",
      SMS_STATUS_HOST: "127.0.0.1",
      SMS_STATUS_PATH: "/hooks/routee",
      SMS_STATUS_LOG: "/var/log/sms.log",
      SMS_STATUS_FORMAT: "text",
      SMS_STATUS_FSYNC: "true",
      SMS_STATUS_BODY_LIMIT: "1024",
      SMS_STATUS_DEDUPE_KEYS: "10",
      SMS_STATUS_DEDUPE_HOURS: "2",
      SMS_STATUS_TOKEN: "0123456789abcdef0123",
      SMS_STATUS_ALLOW: "callbacksallow.routee.net, 10.0.0.0/8,2001:db8::/32",
      SMS_STATUS_TRUST_PROXY: "127.0.0.1",
      SMS_STATUS_METRICS_HOST: "::1",
      SMS_STATUS_METRICS_PORT: "9464",
      SMS_STATUS_DOCS: "1",
      SMS_STATUS_PUBLIC_URL: "https://sms.example.com:8443/",
      SMS_STATUS_DATABASE_URL: "postgres://sms@db/sms",
      SMS_STATUS_REPLICA: "rx-1",
      SMS_STATUS_DB_STATEMENT_TIMEOUT: "900",
      SMS_STATUS_DB_MAX_CONNECTIONS: "3",
      SMS_STATUS_DB_NO_PREPARE: "1",
    };
    expect(parseServeConfig([], env)).toEqual({
      providers: ["routee"],
      publicUrl: "https://sms.example.com:8443",
      providerSecrets: { routee: {} },
      unsigned: [],
      port: 8080,
      host: "127.0.0.1",
      path: "/hooks/routee",
      log: "/var/log/sms.log",
      format: "text",
      fsync: true,
      bodyLimit: 1024,
      dedupeKeys: 10,
      dedupeHours: 2,
      idleTimeout: 10,
      token: "0123456789abcdef0123",
      tokenFile: null,
      allow: ["callbacksallow.routee.net", "10.0.0.0/8", "2001:db8::/32"],
      trustProxy: ["127.0.0.1"],
      tlsCert: null,
      tlsKey: null,
      metricsHost: "::1",
      metricsPort: 9464,
      forward: [],
      forwardSecretFile: null,
      forwardSecret: null,
      forwardFilter: { kinds: [], outcomes: [], channels: [], final: false, changes: false },
      forwardTimeout: 10,
      forwardBatch: 1,
      forwardStateDir: null,
      docs: true,
      apiHost: "127.0.0.1",
      apiPort: null,
      apiToken: null,
      apiTokenFile: null,
      db: null,
      noDb: false,
      databaseUrl: "postgres://sms@db/sms",
      replica: "rx-1",
      dbStatementTimeout: 900,
      dbMaxConnections: 3,
      dbNoPrepare: true,
      logGiven: true,
    });
    const flags = parseServeConfig(
      ["--port", "1", "--format", "jsonl", "--log", "x.log", "--allow", "1.2.3.4", "--allow", "5.6.7.0/24,::1"],
      env,
    );
    expect([flags.port, flags.format, flags.log, flags.host]).toEqual([1, "jsonl", "x.log", "127.0.0.1"]);
    expect(flags.allow).toEqual(["1.2.3.4", "5.6.7.0/24", "::1"]);
  });

  it("keeps the SQLite view beside the log by default, at --db or SMS_STATUS_DB, and none with --no-db or for text", () => {
    expect(parseServeConfig(["--log", "/var/log/a.log"], {}).db).toBe("/var/log/a.log.db");
    expect(parseServeConfig(["--db", "/srv/v.db"], { SMS_STATUS_DB: "/x.db" }).db).toBe("/srv/v.db");
    expect(parseServeConfig([], { SMS_STATUS_DB: "/x.db" }).db).toBe("/x.db");
    expect(parseServeConfig(["--no-db"], {}).db).toBeNull();
    expect(parseServeConfig(["--format", "text"], {}).db).toBeNull();
    expect(() => parseServeConfig(["--format", "text", "--db", "v.db"], {})).toThrow("--db reads the log back: it needs --format jsonl");
    expect(() => parseServeConfig(["--no-db", "--db", "v.db"], {})).toThrow("--db and --no-db are exclusive");
  });

  it("reads the token from --token-file, trimmed, and refuses both token flags at once", () => {
    const file = join(dir, "token");
    writeFileSync(file, "0123456789abcdef0123456789\n");
    expect(parseServeConfig(["--token-file", file], {}).token).toBe("0123456789abcdef0123456789");
    expect(() => parseServeConfig(["--token-file", file, "--token", "0123456789abcdef0123"], {})).toThrow(
      "--token and --token-file are exclusive",
    );
  });

  it("reads --forward-filter's terms by sort: kinds, outcomes, channels, final, changes", () => {
    const secret = join(dir, "forward.secret");
    writeFileSync(secret, "whsec_" + Buffer.from("cli-test-forwarding-key-0123456789").toString("base64"));
    const forward = ["--forward", "http://127.0.0.1:9/hooks", "--forward-secret-file", secret];
    expect(parseServeConfig([...forward, "--forward-filter", "dlr, failed,delivered,viber,changes"], {}).forwardFilter).toEqual({
      kinds: ["dlr"],
      outcomes: ["failed", "delivered"],
      channels: ["viber"],
      final: false,
      changes: true,
    });
    expect(parseServeConfig(forward, { SMS_STATUS_FORWARD_FILTER: "final" }).forwardFilter.final).toBe(true);
  });

  it("refuses a --forward URL given twice, and makes a missing --forward-state-dir", () => {
    const secret = join(dir, "forward.secret");
    writeFileSync(secret, "whsec_" + Buffer.from("cli-test-forwarding-key-0123456789").toString("base64"));
    const forward = ["--forward", "http://127.0.0.1:9/hooks?token=abc", "--forward-secret-file", secret];
    expect(() => parseServeConfig([...forward, "--forward", "http://127.0.0.1:9/hooks?token=abc"], {})).toThrow(
      new UsageError("--forward: http://127.0.0.1:9/hooks is given twice"),
    );
    // Compared as URLs: the host's case and the default port make no other endpoint.
    expect(() => parseServeConfig([...forward, "--forward", "HTTP://127.0.0.1:9/hooks?token=abc"], {})).toThrow("is given twice");
    const state = join(dir, "state", "forwarding");
    expect(parseServeConfig([...forward, "--forward-state-dir", state], {}).forwardStateDir).toBe(state);
    expect(statSync(state).isDirectory()).toBe(true);
    expect(() => parseServeConfig([...forward, "--forward-state-dir", join(secret, "below-a-file")], {})).toThrow(
      "--forward-state-dir: " + join(secret, "below-a-file") + " is not a writable directory (ENOTDIR)",
    );
  });

  it("names the port that is taken, the callback's or the read API's (exit 1)", () => {
    const taken = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    try {
      const log = join(dir, "taken.log");
      for (const flags of [["--port", String(taken.port)], ["--port", "0", "--api-port", String(taken.port)]]) {
        const { code, stderr } = runCli(["--host", "127.0.0.1", "--no-db", "--log", log, ...flags]);
        expect(code).toBe(1);
        expect(stderr).toContain(`port ${taken.port} is already in use`);
      }
    } finally {
      taken.stop(true);
    }
  });

  it("falls back to PORT when SMS_STATUS_PORT is unset", () => {
    expect(parseServeConfig([], { PORT: "4000" }).port).toBe(4000);
  });

  it.each([
    [["--port", "abc"], '--port must be a whole number from 0 to 65535 (got "abc")'],
    [["--port", "65536"], '--port must be a whole number from 0 to 65535 (got "65536")'],
    [["--port=-1"], '--port must be a whole number from 0 to 65535 (got "-1")'],
    [["--format", "xml"], '--format must be one of jsonl, text (got "xml")'],
    [["--path", "sms"], '--path must be a URL path starting with "/" (got "sms")'],
    [["--log", ""], "--log must not be empty"],
    [["--body-limit", "1"], '--body-limit must be a whole number from 256 to 173738 (got "1")'],
    [["--nope"], "unknown flag '--nope'"],
    [["--port"], "Option '--port <value>' argument missing"],
    [["--token", "short"], "--token must be at least 16 characters (try: openssl rand -hex 24)"],
    [["--token-file", "/nonexistent/token"], "--token-file: cannot read /nonexistent/token: no such file"],
    [["--forward-filter", "changes"], "--forward-filter only matters with --forward URL"],
    [["--forward-batch", "50"], "--forward-batch only matters with --forward URL"],
    [["--forward-secret-file", "package.json"], "--forward-secret-file only matters with --forward URL"],
    [["--token-file", "/tmp"], "--token-file: /tmp is not a file"],
    [["--tls-cert", "/tmp", "--tls-key", "/tmp"], "--tls-cert: /tmp is not a file"],
    [["--allow", "10.0.0.0/99"], '--allow: "10.0.0.0/99" is not an IP address, CIDR range or host name'],
    [["--allow", "bad host!"], '--allow: "bad host!" is not an IP address, CIDR range or host name'],
    [["--allow", "999.1.1.1"], '--allow: "999.1.1.1" is not an IP address, CIDR range or host name'],
    [["--allow", "10.1"], '--allow: "10.1" is not an IP address, CIDR range or host name'],
    [["--body-limit", "-1"], '--body-limit must be a whole number from 256 to 173738 (got "-1")'],
    [["--port", "-5"], '--port must be a whole number from 0 to 65535 (got "-5")'],
    [["--allow", "1.2.3.4", "--trust-proxy", "proxy.example"], '--trust-proxy: "proxy.example" is not an IP address or CIDR range'],
    [["--trust-proxy", "127.0.0.1"], "--trust-proxy only matters with --allow"],
    [["--tls-cert", "package.json"], "--tls-cert and --tls-key go together: give both or neither"],
    [["--metrics-port", "x"], '--metrics-port must be a whole number from 0 to 65535 (got "x")'],
    [
      ["--forward-filter", "dlr,changed"],
      '--forward-filter: "changed" is not a kind (dlr, inbound, campaign, other, rejected), an outcome (delivered, failed, pending, unknown), a channel (sms, viber, whatsapp, voice, verification, failover), final or changes',
    ],
  ])("rejects %j with a clear message", (args, message) => {
    expect(() => parseServeConfig(args, {})).toThrow(new UsageError(message));
  });

  it("names the variable when a variable is wrong", () => {
    expect(() => parseServeConfig([], { SMS_STATUS_FSYNC: "maybe" })).toThrow(
      'SMS_STATUS_FSYNC must be true or false (got "maybe")',
    );
  });
});

describe("sms-status command", () => {
  it("--help lists every command, flag, variable and default", () => {
    const { code, stdout } = run(["--help"]);
    expect(code).toBe(0);
    for (const text of ["serve", "--port N", "SMS_STATUS_PORT, PORT", "default 3000", "--format jsonl|text", "SMS_STATUS_LOG", "--fsync", "Exit codes"])
      expect(stdout).toContain(text);
  });

  it("--version prints the package version", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8"));
    expect(run(["--version"])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it.each<[string[], string, Record<string, string>]>([
    [["--port", "abc"], "sms-status: --port must be a whole number from 0 to 65535", {}],
    [["--api-port", "9465", "--api-host", "0.0.0.0"], "sms-status: --api-host 0.0.0.0 is not loopback: give the read API a token", {}],
    [["--body-limit", "16777216"], "sms-status: --body-limit must be a whole number from 256 to", {}],
    [["--provider", "fax"], 'sms-status: --provider: unknown provider "fax" (providers: routee', {}],
    [["--public-url", "https://sms.example.com/hooks"], "sms-status: --public-url must be a scheme, host and port only", {}],
    [["--bogus"], "sms-status: unknown flag '--bogus'", {}],
    [["--allow", "999.1.1.1"], 'sms-status: --allow: "999.1.1.1" is not an IP address', {}],
    [[], 'sms-status: SMS_STATUS_ALLOW: "999.1.1.1" is not an IP address', { SMS_STATUS_ALLOW: "999.1.1.1" }],
    [["--body-limit", "-1"], "sms-status: --body-limit must be a whole number from 256", {}],
    [["tail", "-n", "-1"], "sms-status: --lines", {}],
    [["frobnicate"], 'sms-status: unknown command "frobnicate"', {}],
    [[], "sms-status: SMS_STATUS_FORMAT must be one of jsonl, text", { SMS_STATUS_FORMAT: "csv" }],
  ])("exits 2 with one clear line for %j", (args, message, env) => {
    const { code, stderr } = run(args, env);
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toStartWith(message);
  });

  it("exits 1 with one line when the TLS certificate is not a certificate", () => {
    const junk = join(dir, "junk.pem");
    writeFileSync(junk, "not a certificate\n");
    const { code, stderr } = run(["--port", "0", "--log", "tls.log", "--tls-cert", junk, "--tls-key", junk]);
    expect(code).toBe(1);
    expect(stderr.trim().split("\n").at(-1)).toStartWith("sms-status: cannot start: ");
    expect(stderr).not.toContain("    at ");
  });

  it("exits 1 when the log directory cannot be written", () => {
    writeFileSync(join(dir, "not-a-dir"), "");
    const { code, stderr } = run(["--port", "0", "--log", join(dir, "not-a-dir", "status.log")]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot open log file ${join(dir, "not-a-dir", "status.log")}`);
  });

  it("prints where it listens, the callback URL and the log; SIGTERM exits 0", async () => {
    const { proc, line } = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", "start.log"], { cwd: dir });
    expect(line).toMatch(
      new RegExp(`^sms-status \\S+ listening on 127\\.0\\.0\\.1:\\d+; Routee callback URL: http://127\\.0\\.0\\.1:\\d+/sms/status; log: ${join(dir, "start.log")} \\(jsonl\\)$`),
    );
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  it("SIGHUP under load reopens the log without losing or splitting an entry", async () => {
    const log = join(dir, "rotate.log");
    const { proc, port } = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log], { cwd: dir });
    const acked: string[] = [];
    let stop = false;
    const load = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const report = routeeReport();
        const res = await fetch(`http://127.0.0.1:${port}/sms/status`, { method: "POST", body: JSON.stringify(report) });
        if (res.status === 200) acked.push(report.smsId as string);
      }
    });
    for (let i = 1; i <= 3; i++) {
      await Bun.sleep(150);
      renameSync(log, `${log}.${i}`);
      proc.kill("SIGHUP");
      while (!existsSync(log)) await Bun.sleep(5); // reopened: the next rename has a file to move
    }
    await Bun.sleep(150);
    stop = true;
    await Promise.all(load);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);

    const files = [`${log}.1`, `${log}.2`, `${log}.3`, log];
    const logged = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expect(text === "" || text.endsWith("\n")).toBe(true); // a busy machine may leave one empty
      for (const line of text.split("\n").slice(0, -1)) logged.add(JSON.parse(line).smsId);
    }
    expect(acked.length).toBeGreaterThan(100);
    expect(acked.filter((id) => !logged.has(id))).toEqual([]);
    expect(logged.size).toBe(acked.length);
  });
});
