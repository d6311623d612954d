#!/usr/bin/env bun
/**
 * The `sms-status` command. Exit codes: 0 ok, 1 runtime failure (log or port unavailable),
 * 2 bad usage (unknown flag, bad value).
 */
import { resolve } from "node:path";
import type { AnyElysia } from "elysia";
import { parseServeConfig, SERVE_FLAGS, UsageError, type Env, type ServeConfig } from "./config.ts";
import { JournalOpenError } from "./journal.ts";
import { startServer, type RunningServer } from "./server.ts";
import { VERSION } from "./version.ts";

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5000;

const COMMANDS: Record<string, string> = {
  serve: "receive Routee delivery reports and append them to the log (the default)",
  help: "show this help",
  version: "print the version",
};

export function helpText(): string {
  const lines = [
    `sms-status ${VERSION}: receive Routee SMS delivery reports into an append-only log`,
    "",
    "Usage: sms-status [serve] [flags]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, help]) => `  ${name.padEnd(10)}${help}`),
    "",
    "Flags of serve (environment variable in brackets; flags win):",
  ];
  for (const spec of SERVE_FLAGS) {
    const left = `  --${spec.flag}${spec.value ? ` ${spec.value}` : ""}`;
    lines.push(`${left.padEnd(28)}${spec.help} (default ${spec.default}) [${spec.env.join(", ")}]`);
  }
  lines.push(
    `  ${"--help, -h".padEnd(26)}show this help`,
    `  ${"--version, -v".padEnd(26)}print the version`,
    "",
    "Signals: SIGTERM/SIGINT stop gracefully (exit 0); SIGHUP reopens the log file (rotation).",
    "Exit codes: 0 ok, 1 runtime failure, 2 bad usage.",
  );
  return lines.join("\n") + "\n";
}

function callbackUrl(config: ServeConfig, port: number): string {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "<this-server's-public-address>" : config.host;
  return `http://${host.includes(":") && !host.startsWith("<") ? `[${host}]` : host}:${port}${config.path}`;
}

/** The OpenAPI plugin, imported only for `--docs` (the library never loads it). */
async function loadDocs(): Promise<AnyElysia> {
  try {
    return (await import("./docs.ts")).docs();
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find (module|package)/.test(String(error)))
      throw error;
    fail("--docs needs the package @elysiajs/openapi: run 'npm install @elysiajs/openapi'", 1);
  }
}

async function serve(config: ServeConfig): Promise<void> {
  const docs = config.docs ? await loadDocs() : undefined;
  let server: RunningServer;
  try {
    server = startServer(config, docs);
  } catch (error) {
    if (error instanceof JournalOpenError) fail(error.message, 1);
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") fail(`port ${config.port} on ${config.host} is already in use`, 1);
    if (code === "EACCES") fail(`not allowed to listen on port ${config.port} (ports below 1024 need privileges)`, 1);
    throw error;
  }
  process.stderr.write(
    `sms-status ${VERSION} listening on ${config.host}:${server.port}; ` +
      `Routee callback URL: ${callbackUrl(config, server.port)}; ` +
      `log: ${resolve(config.log)} (${config.format})` +
      (config.docs ? "; API docs at /openapi" : "") +
      "\n",
  );

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
  process.on("SIGHUP", () => {
    server.journal.reopen().then(() => process.stderr.write(`sms-status: SIGHUP: reopened ${resolve(config.log)}\n`));
  });
}

function fail(message: string, code: number): never {
  process.stderr.write(`sms-status: ${message}\n`);
  if (code === 2) process.stderr.write("Run 'sms-status --help' for usage.\n");
  process.exit(code);
}

export function main(argv: string[], env: Env): void {
  const [first, ...rest] = argv;
  const command = first && !first.startsWith("-") ? first : "serve";
  const args = command === first ? rest : argv;
  if (command === "help" || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(helpText());
    return;
  }
  if (command === "version" || args.includes("--version") || args.includes("-v")) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  try {
    if (command === "serve") return void serve(parseServeConfig(args, env));
    throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(", ")})`);
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
}

if (import.meta.main) main(process.argv.slice(2), process.env);
