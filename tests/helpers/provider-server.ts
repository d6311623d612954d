/** A real server for one provider's tests: port 0, a temp log, flags and environment as an operator gives them. */
import { afterAll } from "bun:test";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { LogStatus } from "../../src/store/log-status.ts";
import { logEntries, tempDir } from "./utils.ts";

export interface ProviderServer {
  server: RunningServer;
  log: string;
  /** The provider's callback URL on this server, e.g. http://127.0.0.1:PORT/sms/status/twilio. */
  url: string;
  /** The log's entries so far. */
  entries(): Promise<Record<string, any>[]>;
  /** What `lookup` says of a message: its status and outcome. */
  lookup(id: string): Promise<{ status: string | null; outcome: string } | null>;
}

let count = 0;

/** Start a server for `provider` with extra serve flags and environment; stopped when the file ends. */
export async function providerServer(provider: string, args: string[] = [], env: Record<string, string> = {}): Promise<ProviderServer> {
  const dir = tempDir(`${provider}-`);
  const log = join(dir, `status-${count++}.log`);
  const config = parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--provider", provider, ...args], env);
  const server = await startServer(config);
  afterAll(() => server.stop());
  return {
    server,
    log,
    url: `http://127.0.0.1:${server.port}/sms/status/${provider}`,
    entries: () => logEntries(log),
    async lookup(id) {
      const found = await new LogStatus([log]).lookup(id);
      return found?.message ? { status: found.message.status, outcome: found.message.outcome } : null;
    },
  };
}

/** POST a form body (as the providers send it). */
export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}
