/**
 * Starting the server as a child process, for the scripts and tests that need a real one: spawn it,
 * wait for its start-up line on stderr, and keep draining stderr for its whole life (so a full pipe
 * can never block it, and what it printed is there for failure messages).
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";

/** `bun src/cli.ts` of this checkout: the code beside the script, never a stale build. */
export const SOURCE_SERVER = [process.execPath, resolve(import.meta.dir, "../../src/cli.ts")];

/** The line "sms-status VERSION listening on HOST:PORT; Routee callback URL: ...; log: ...". */
const STARTUP_LINE = /listening on \S+:(\d+);/;
/** How much of stderr is kept for messages. */
const KEEP_CHARS = 10_000;

export interface SpawnOptions {
  /** The executable and its leading arguments. @default SOURCE_SERVER */
  command?: string[];
  /** @default this process's working directory */
  cwd?: string;
  /** The child's whole environment. @default only PATH, so no SMS_STATUS_* of the caller leaks in */
  env?: Record<string, string>;
  /** How long the start-up line may take. @default 10_000 */
  timeoutMs?: number;
}

export interface SpawnedServer {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  /** The start-up line. */
  line: string;
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** What the server printed on stderr so far (its last 10 000 characters or so). */
  stderr(): string;
}

/** Servers spawned here and not yet exited, for a caller's clean-up (see `killServers`). */
const running = new Set<Subprocess>();

/**
 * Spawn `command ...args` and wait for its start-up line (it comes after any warnings). If the
 * process ends or `timeoutMs` passes first, it is killed and the error carries what it printed.
 * @example const server = await spawnServer(["--port", "0", "--host", "127.0.0.1", "--log", log]);
 */
export async function spawnServer(args: string[], options: SpawnOptions = {}): Promise<SpawnedServer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const proc = Bun.spawn([...(options.command ?? SOURCE_SERVER), ...args], {
    cwd: options.cwd,
    env: options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let text = "";
  let line: string | null = null;
  const started = Promise.withResolvers<void>();
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      text += decoder.decode(chunk, { stream: true });
      if (line === null) {
        line = text.split("\n").find((l) => STARTUP_LINE.test(l) && text.includes(`${l}\n`)) ?? null;
        if (line !== null) started.resolve();
      }
      if (text.length > 2 * KEEP_CHARS) text = text.slice(-KEEP_CHARS);
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failure = await Promise.race([
    started.promise.then(() => null),
    drained.then(async () => `the server exited before printing its start-up line (exit ${await proc.exited})`),
    new Promise<string>((done) => {
      timer = setTimeout(() => done(`the server printed no start-up line within ${timeoutMs} ms`), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (failure !== null || line === null) {
    proc.kill("SIGKILL");
    throw new Error(`${failure}; it printed: ${text.trim() || "(nothing)"}`);
  }
  const port = Number((line as string).match(STARTUP_LINE)![1]);
  return { proc, line, port, url: `http://127.0.0.1:${port}`, stderr: () => text };
}

/** SIGKILL every server spawned here that is still running (for exit and signal handlers). */
export function killServers(): void {
  for (const proc of running) proc.kill("SIGKILL");
}
