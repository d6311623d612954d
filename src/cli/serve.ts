/** The `serve` command: the server on a port, with signal handling and one start-up line. */
import { resolve } from "node:path";
import type { AnyElysia } from "elysia";
import { JournalOpenError } from "../core/errors.ts";
import { VERSION } from "../core/version.ts";
import type { ServeConfig } from "../server/config.ts";
import { startServer, type RunningServer } from "../server/server.ts";
import { redact } from "../store/sql/index.ts";
import { CommandError } from "./errors.ts";

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5000;

/** The URL to paste into Routee, with the token masked (the start-up line ends up in logs). */
function callbackUrl(config: ServeConfig, port: number): string {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "<this-server's-public-address>" : config.host;
  const scheme = config.tlsCert ? "https" : "http";
  const query = config.token ? "?token=<your-token>" : "";
  return `${scheme}://${host.includes(":") && !host.startsWith("<") ? `[${host}]` : host}:${port}${config.path}${query}`;
}

/** The OpenAPI plugin, imported only for `--docs` (the library never loads it). */
async function loadDocs(): Promise<AnyElysia> {
  try {
    return (await import("../server/docs.ts")).docs();
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find (module|package)/.test(String(error)))
      throw error;
    throw new CommandError("--docs needs the package @elysiajs/openapi: run 'npm install @elysiajs/openapi'", { cause: error });
  }
}

/** Where reports go: the log, or the database (and its local copy). */
function where(config: ServeConfig): string {
  const log = `${resolve(config.log)} (${config.format})`;
  if (config.databaseUrl === null) return `log: ${log}`;
  return `database: ${redact(config.databaseUrl)}` + (config.logGiven ? `; log copy: ${log}` : "; no log file");
}

/** Start the server, install the signal handlers, print the start-up line last. */
export async function serve(config: ServeConfig): Promise<void> {
  const docs = config.docs ? await loadDocs() : undefined;
  let server: RunningServer;
  try {
    server = await startServer(config, docs);
  } catch (error) {
    if (error instanceof JournalOpenError) throw error;
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") {
      // Which listener: the callback port, or the API's or the metrics' (Bun's message names it).
      const port = /port (\d+)/.exec((error as Error).message ?? "")?.[1] ?? String(config.port);
      throw new CommandError(`port ${port} is already in use`, { cause: error });
    }
    if (code === "EACCES")
      throw new CommandError(`not allowed to listen on port ${config.port} (ports below 1024 need privileges)`, { cause: error });
    // Anything else at start (an unusable TLS certificate, say): one line, no stack trace.
    throw new CommandError(`cannot start: ${(error as Error).message ?? error}`, { cause: error });
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sms-status: ${signal} received, stopping\n`);
    setTimeout(() => {
      process.stderr.write("sms-status: requests still in flight after 5 s; exiting anyway\n");
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    server.stop().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`sms-status: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // With a database and no copy, SIGHUP renews the pool; a database that is down must not end the process.
  const reopened = config.databaseUrl !== null && !config.logGiven ? "the database connections" : resolve(config.log);
  process.on("SIGHUP", () => {
    server.store.reopen().then(
      () =>
        process.stderr.write(
          server.store.healthy
            ? `sms-status: SIGHUP: reopened ${reopened}\n`
            : `sms-status: SIGHUP: cannot reopen ${reopened} (${server.store.lastError}); answering 503 until it can\n`,
        ),
      (error) => process.stderr.write(`sms-status: SIGHUP: cannot reopen ${reopened} (${(error as Error).message}); answering 503 until it can\n`),
    );
  });
  if (!config.token && config.allow.length === 0)
    process.stderr.write(
      "sms-status: warning: neither --token nor --allow is set: anyone who finds the URL can write to the log\n",
    );
  if (server.apiPort !== null)
    process.stderr.write(`sms-status: read API at http://${config.apiHost.includes(":") ? `[${config.apiHost}]` : config.apiHost}:${server.apiPort}/v1/ (OpenAPI at /v1/openapi.json), dashboard at /dashboard\n`);
  if (server.metricsPort !== null)
    process.stderr.write(`sms-status: metrics at http://${config.metricsHost}:${server.metricsPort}/metrics\n`);
  // Printed last: whoever waits for this line may signal the process at once.
  process.stderr.write(
    `sms-status ${VERSION} listening on ${config.host}:${server.port}; ` +
      `Routee callback URL: ${callbackUrl(config, server.port)}; ` +
      where(config) +
      (config.docs ? "; API docs at /openapi/json" : "") +
      "\n",
  );
}
