import { afterAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { Elysia } from "elysia";
import { Allowlist, clientAddress, parseRanges, presentedToken, tokenMatches } from "../../src/http/access.ts";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { smsStatus } from "../../src/http/plugin.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { logEntries, post, routeeReport, tempDir } from "../helpers/utils.ts";

const dir = tempDir("access-");
const TOKEN = "s3cret-0123456789abcdef";
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => {});
});

async function start(args: string[]) {
  const log = join(dir, `status-${servers.length}.log`);
  const server = await startServer(parseServeConfig(["--port", "0", "--host", "127.0.0.1", "--log", log, ...args], {}));
  servers.push(server);
  return { server, log, url: `http://127.0.0.1:${server.port}/sms/status` };
}

describe("token", () => {
  it("matches only the exact secret", () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN + "x", TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokenMatches("", TOKEN)).toBe(false);
    expect(tokenMatches(null, TOKEN)).toBe(false);
  });

  it("is read from ?token= or Authorization: Bearer", () => {
    expect(presentedToken(new Request("http://x/sms/status?token=abc&x=1"))).toBe("abc");
    expect(presentedToken(new Request("http://x/sms/status", { headers: { authorization: "Bearer abc" } }))).toBe("abc");
    expect(presentedToken(new Request("http://x/sms/status?tok=abc"))).toBeNull();
  });

  it("answers 401 without the token, writes nothing and counts it", async () => {
    const log = join(dir, "token.log");
    const plugin = smsStatus({ log, token: TOKEN });
    const app = new Elysia().use(plugin);
    const without = await app.handle(post("http://localhost/sms/status", routeeReport()));
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toBe("Bearer");
    expect(await without.json()).toEqual({ error: "unauthorized", message: "a valid token is required" });
    const wrong = await app.handle(post(`http://localhost/sms/status?token=${TOKEN}x`, routeeReport()));
    expect(wrong.status).toBe(401);
    expect(await logEntries(log)).toEqual([]);

    expect((await app.handle(post(`http://localhost/sms/status?token=${TOKEN}`, routeeReport()))).status).toBe(200);
    const bearer = await app.handle(post("http://localhost/sms/status", routeeReport(), { authorization: `Bearer ${TOKEN}` }));
    expect(bearer.status).toBe(200);
    expect(await logEntries(log)).toHaveLength(2);
  });

  it("refuses a short token when the plugin is created", () => {
    expect(() => smsStatus({ token: "short" })).toThrow("token must be at least 16 characters");
  });
});

describe("addresses", () => {
  const trusted = parseRanges(["127.0.0.1", "10.0.0.0/8"]);

  it("uses the socket address unless it is a trusted proxy", () => {
    expect(clientAddress("203.0.113.9", "1.2.3.4", trusted)).toBe("203.0.113.9");
    expect(clientAddress("127.0.0.1", "1.2.3.4", trusted)).toBe("1.2.3.4");
    // Read from the right: a client-supplied first hop cannot skip the proxies' own additions.
    expect(clientAddress("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", trusted)).toBe("1.2.3.4");
    expect(clientAddress("127.0.0.1", null, trusted)).toBe("127.0.0.1");
    expect(clientAddress("::ffff:127.0.0.1", "1.2.3.4", trusted)).toBe("1.2.3.4");
    expect(clientAddress("203.0.113.9", "1.2.3.4", [])).toBe("203.0.113.9");
  });

  it("matches IPs and CIDRs, v4, v6 and v4-mapped", () => {
    const list = new Allowlist({ allow: ["192.0.2.7", "198.51.100.0/24", "2001:db8::/32"] });
    expect(list.allows("192.0.2.7")).toBe(true);
    expect(list.allows("::ffff:192.0.2.7")).toBe(true);
    expect(list.allows("192.0.2.8")).toBe(false);
    expect(list.allows("198.51.100.255")).toBe(true);
    expect(list.allows("2001:db8:1::5")).toBe(true);
    expect(list.allows("2001:db9::5")).toBe(false);
    expect(list.allows("not-an-ip")).toBe(false);
    expect(list.allows(null)).toBe(false);
  });

  it("resolves host names, and keeps the last good set when a lookup fails", async () => {
    let answer: string[] | Error = ["192.0.2.10", "2001:db8::10"];
    const warnings: string[] = [];
    const list = new Allowlist({
      allow: ["callbacksallow.routee.net"],
      resolve: async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      },
      onWarning: (m) => warnings.push(m),
    });
    await list.start();
    expect(list.allows("192.0.2.10")).toBe(true);
    expect(list.allows("2001:db8::10")).toBe(true);
    answer = new Error("SERVFAIL");
    await list.refresh();
    expect(list.allows("192.0.2.10")).toBe(true);
    expect(warnings).toEqual([
      "sms-status: cannot resolve callbacksallow.routee.net (SERVFAIL); keeping 2 known address(es)",
    ]);
    answer = ["192.0.2.11"];
    await list.refresh();
    expect([list.allows("192.0.2.10"), list.allows("192.0.2.11")]).toEqual([false, true]);
    list.stop();
  });

  it("retries soon when a host name has never resolved (DNS down at boot)", async () => {
    let up = false;
    const list = new Allowlist({
      allow: ["callbacksallow.routee.net"],
      retryMs: 50,
      resolve: async () => {
        if (!up) throw new Error("SERVFAIL");
        return ["192.0.2.20"];
      },
      onWarning: () => {},
    });
    await list.start();
    expect(list.allows("192.0.2.20")).toBe(false);
    up = true;
    // Wait for the retry (every 50 ms) rather than a fixed time a busy machine may overrun.
    for (let i = 0; i < 200 && !list.allows("192.0.2.20"); i++) await Bun.sleep(10);
    expect(list.allows("192.0.2.20")).toBe(true);
    list.stop();
  });

  it("rejects entries that are neither addresses nor host names", () => {
    expect(() => new Allowlist({ allow: ["10.0.0.0/33"] })).toThrow('"10.0.0.0/33" is not a valid IP address or CIDR range');
    expect(() => new Allowlist({ allow: ["x y"] })).toThrow('"x y" is not an IP address, CIDR range or host name');
  });

  it("never takes digits and dots for a host name: 999.1.1.1 and 10.1 are refused, not looked up", () => {
    const looked: string[] = [];
    const resolve = async (host: string) => (looked.push(host), ["192.0.2.1"]);
    for (const entry of ["999.1.1.1", "10.1", "010.0.0.1", "1.2.3.4.5"])
      expect(() => new Allowlist({ allow: [entry], resolve })).toThrow(`"${entry}" is not a valid IP address or CIDR range`);
    expect(looked).toEqual([]);
    expect(new Allowlist({ allow: ["192.0.2.7"] }).allows("192.0.2.7")).toBe(true);
  });
});

describe("on a real port", () => {
  it("answers 403 to an address outside the allowlist and 200 inside it", async () => {
    const closed = await start(["--allow", "192.0.2.0/24"]);
    expect((await fetch(closed.url, { method: "POST", body: JSON.stringify(routeeReport()) })).status).toBe(403);
    expect(await logEntries(closed.log)).toEqual([]);
    const open = await start(["--allow", "127.0.0.1"]);
    expect((await fetch(open.url, { method: "POST", body: JSON.stringify(routeeReport()) })).status).toBe(200);
  });

  it("believes X-Forwarded-For only from a trusted proxy", async () => {
    const spoofed = await start(["--allow", "192.0.2.0/24"]);
    const headers = { "x-forwarded-for": "192.0.2.5" };
    expect((await fetch(spoofed.url, { method: "POST", body: "{}", headers })).status).toBe(403);
    const proxied = await start(["--allow", "192.0.2.0/24", "--trust-proxy", "127.0.0.1"]);
    expect((await fetch(proxied.url, { method: "POST", body: "{}", headers })).status).toBe(200);
    expect((await fetch(proxied.url, { method: "POST", body: "{}", headers: { "x-forwarded-for": "198.51.100.1" } })).status).toBe(403);
  });

  it("serves HTTPS with --tls-cert and --tls-key", async () => {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const made = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
      { stderr: "pipe" },
    );
    expect(made.exitCode).toBe(0);
    const tls = await start(["--tls-cert", cert, "--tls-key", key]);
    const res = await fetch(tls.url.replace("http:", "https:"), {
      method: "POST",
      body: JSON.stringify(routeeReport()),
      tls: { rejectUnauthorized: false },
    });
    expect(res.status).toBe(200);
    await expect(fetch(tls.url, { method: "POST", body: "{}" })).rejects.toThrow();
  });

  it("serves Prometheus metrics on a separate local listener", async () => {
    const { server, url } = await start(["--metrics-port", "0", "--token", TOKEN]);
    const send = (body: unknown, token = TOKEN) =>
      fetch(`${url}?token=${token}`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
    const dup = routeeReport();
    await send(dup);
    await send(dup);
    await send(routeeReport({ status: { name: "Failed" } }));
    await send("{bad");
    await send(routeeReport(), "wrong-token-0123456789");
    const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    for (const line of [
      'sms_status_reports_total{kind="dlr",outcome="delivered"} 1',
      'sms_status_reports_total{kind="dlr",outcome="failed"} 1',
      "sms_status_duplicates_total 1",
      'sms_status_rejected_total{reason="invalid_json"} 1',
      "sms_status_unauthorized_total 1",
      "sms_status_write_errors_total 0",
      "sms_status_log_writable 1",
      'sms_status_ack_seconds_bucket{le="+Inf"} 3',
      "sms_status_ack_seconds_count 3",
    ])
      expect(text).toContain(line + "\n");
    expect(text).toMatch(/^sms_status_log_bytes_written_total [1-9]\d*$/m);
    // Not on the public listener.
    expect((await fetch(url.replace("/sms/status", "/metrics"))).status).toBe(404);
  });
});
