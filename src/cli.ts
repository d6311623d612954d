#!/usr/bin/env bun
/**
 * The `sms-status` command. Exit codes: 0 ok, 1 runtime failure (log or port unavailable, log
 * unreadable or in text format, message not found), 2 bad usage (unknown flag, bad value).
 */
import { EXIT_FAILURE, EXIT_USAGE, exitCodeOf, UsageError } from "./cli/errors.ts";
import type { Env } from "./cli/flags.ts";
import { migrate, prune, reindex } from "./cli/database.ts";
import { lookup } from "./cli/lookup.ts";
import type { Command } from "./cli/output.ts";
import { report } from "./cli/report.ts";
import { serve } from "./cli/serve.ts";
import { parseServeConfig, SERVE_FLAGS } from "./cli/serve-flags.ts";
import { tail } from "./cli/tail.ts";
import { VERSION } from "./core/version.ts";

const COMMANDS: Record<string, string> = {
  serve: "receive Routee delivery reports and append them to the log (the default)",
  report: "messages by outcome, delivery rate, cost, failures and latency, from JSONL logs",
  lookup: "one message's parts, every report received for it, its status and cost",
  tail: "the log for people, one line per entry; -f follows it across rotations",
  reindex: "rebuild the SQLite view from the log files (rotated and gzip included)",
  migrate: "bring the database's schema to this version",
  prune: "delete reports older than --older-than from the database (never the messages' status)",
  help: "show this help",
  version: "print the version",
};

/** The commands that read the log, by name. */
const LOG_COMMANDS: Record<string, Command> = { report, lookup, tail, reindex, migrate, prune };

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
    "report, lookup and tail read JSONL logs (--format jsonl), plain, rotated or gzip-compressed,",
    "or the database with --db FILE (SQLite) or --database-url URL (PostgreSQL).",
    "",
    "Signals: SIGTERM/SIGINT stop gracefully (exit 0); SIGHUP reopens the log file (rotation).",
    "Exit codes: 0 ok, 1 runtime failure, 2 bad usage.",
  );
  return lines.join("\n") + "\n";
}

/** Print an error the way its class says (cli/errors.ts) and exit with its code. */
function failWith(error: unknown): never {
  const code = exitCodeOf(error);
  const message = code === null ? `unexpected error: ${(error as Error).stack ?? error}` : (error as Error).message;
  process.stderr.write(`sms-status: ${message}\n`);
  if (code === EXIT_USAGE) process.stderr.write("Run 'sms-status --help' for usage.\n");
  process.exit(code ?? EXIT_FAILURE);
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
  try {
    const logCommand = LOG_COMMANDS[command];
    if (logCommand) return await logCommand.run(args, env);
    if (command === "serve") return await serve(parseServeConfig(args, env));
    throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: ${Object.keys(COMMANDS).join(", ")})`);
  } catch (error) {
    failWith(error);
  }
}

if (import.meta.main) await main(process.argv.slice(2), process.env);
