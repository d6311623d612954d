#!/usr/bin/env bun
/**
 * The `sms-status` command. Exit codes: 0 ok, 1 runtime failure (log or port unavailable, log
 * unreadable or in text format, message not found), 2 bad usage (unknown flag, bad value).
 */
import { resolve } from "node:path";
import { CommandError, type Command } from "./cli/output.ts";
import { lookup } from "./cli/lookup.ts";
import { report } from "./cli/report.ts";
import { tail } from "./cli/tail.ts";
import type { AnyElysia } from "elysia";
import { parseServeConfig, SERVE_FLAGS, UsageError, type Env, type ServeConfig } from "./cli/flags.ts";
import { JournalOpenError } from "./journal/file-journal.ts";
import { LogReadError } from "./log/reader.ts";
import { startServer, type RunningServer } from "./server/server.ts";
import { VERSION } from "./core/version.ts";

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5000;

const COMMANDS: Record<string, string> = {
  serve: "receive Routee delivery reports and append them to the log (the default)",
  report: "messages by outcome, delivery rate, cost, failures and latency, from JSONL logs",
  lookup: "one message's parts, every report received for it, its status and cost",
  tail: "the log for people, one line per entry; -f follows it across rotations",
  help: "show this help",
  version: "print the version",
};

/** The commands that read the log, by name. */
const LOG_COMMANDS: Record<string, Command> = { report, lookup, tail };

/** One flag in the help: its names on the left, wrapped to a line of their own when too long. */
function flagLine(names: string, value: string | undefined, help: string): string {
  const left = `  ${names}${value ? ` ${value}` : ""}`;
  return left.length > 27 ? `${left}\n${"".padEnd(28)}${help}` : `${left.padEnd(28)}${help}`;
}

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
    const byDefault = spec.default === "" ? "" : ` (default ${spec.default})`;
    lines.push(flagLine(`--${spec.flag}`, spec.value, `${spec.help}${byDefault} [${spec.env.join(", ")}]`));
  }
  lines.push(flagLine("--help, -h", undefined, "show this help"), flagLine("--version, -v", undefined, "print the version"));
  for (const command of Object.values(LOG_COMMANDS)) {
    lines.push("", `Usage: sms-status ${command.usage}`);
    for (const spec of command.flags)
      lines.push(flagLine(`${spec.short ? `-${spec.short}, ` : ""}--${spec.flag}`, spec.value, spec.help));
  }
  lines.push(
    "",
    "report, lookup and tail read JSONL logs (--format jsonl), plain, rotated or gzip-compressed.",
    "",
    "Signals: SIGTERM/SIGINT stop gracefully (exit 0); SIGHUP reopens the log file (rotation).",
    "Exit codes: 0 ok, 1 runtime failure, 2 bad usage.",
  );
  return lines.join("\n") + "\n";
}

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
    return (await import("./server/docs.ts")).docs();
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
    server = await startServer(config, docs);
  } catch (error) {
    if (error instanceof JournalOpenError) fail(error.message, 1);
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") fail(`port ${config.port} on ${config.host} is already in use`, 1);
    if (code === "EACCES") fail(`not allowed to listen on port ${config.port} (ports below 1024 need privileges)`, 1);
    // Anything else at start (an unusable TLS certificate, say): one line, no stack trace.
    fail(`cannot start: ${(error as Error).message ?? error}`, 1);
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
  process.on("SIGHUP", () => {
    server.journal.reopen().then(() =>
      process.stderr.write(
        server.journal.healthy
          ? `sms-status: SIGHUP: reopened ${resolve(config.log)}\n`
          : `sms-status: SIGHUP: cannot reopen ${resolve(config.log)} (${server.journal.lastError}); answering 503 until it can\n`,
      ),
    );
  });
  if (!config.token && config.allow.length === 0)
    process.stderr.write(
      "sms-status: warning: neither --token nor --allow is set: anyone who finds the URL can write to the log\n",
    );
  if (server.metricsPort !== null)
    process.stderr.write(`sms-status: metrics at http://${config.metricsHost}:${server.metricsPort}/metrics\n`);
  // Printed last: whoever waits for this line may signal the process at once.
  process.stderr.write(
    `sms-status ${VERSION} listening on ${config.host}:${server.port}; ` +
      `Routee callback URL: ${callbackUrl(config, server.port)}; ` +
      `log: ${resolve(config.log)} (${config.format})` +
      (config.docs ? "; API docs at /openapi" : "") +
      "\n",
  );
}

function fail(message: string, code: number): never {
  process.stderr.write(`sms-status: ${message}\n`);
  if (code === 2) process.stderr.write("Run 'sms-status --help' for usage.\n");
  process.exit(code);
}

export async function main(argv: string[], env: Env): Promise<void> {
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
  const logCommand = LOG_COMMANDS[command];
  if (logCommand) {
    logCommand.run(args, env).catch(function commandFailed(error: unknown) {
      if (error instanceof UsageError) fail(error.message, 2);
      if (error instanceof LogReadError || error instanceof CommandError) fail(error.message, 1);
      fail(`unexpected error: ${(error as Error).stack ?? error}`, 1);
    });
    return;
  }
  try {
    if (command === "serve") return await serve(parseServeConfig(args, env));
    throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(", ")})`);
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
}

if (import.meta.main) await main(process.argv.slice(2), process.env);
