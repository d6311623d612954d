/** Shared test helpers: temporary directories, sample Routee reports, requests. */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "bun:test";

// Sample reports come from the one builder that the scripts use too.
export {
  dlrLine,
  reportEntry,
  reportLine,
  routeeReport,
  routeeStatus as status,
} from "../../scripts/lib/samples.ts";

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(prefix = "sms-status-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(url, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The log's lines (without the final empty one). */
export async function logLines(path: string): Promise<string[]> {
  const file = Bun.file(path);
  if (!(await file.exists())) return [];
  const text = await file.text();
  return text.split("\n").slice(0, -1);
}

export async function logEntries(path: string): Promise<Record<string, any>[]> {
  return (await logLines(path)).map((line) => JSON.parse(line));
}

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

/** Run `sms-status ARGS...` to completion; NO_COLOR and a default log path the test controls. */
export function runCli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const child = Bun.spawnSync([process.execPath, CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: child.exitCode ?? -1, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}

export { CLI };
/** How many of this process's file descriptors point at `path` (Linux /proc; throws elsewhere). */
export function openFdsTo(path: string): number {
  // Never a "don't know" answer a test could skip over: without /proc the check cannot be made.
  if (!existsSync("/proc/self/fd")) throw new Error("openFdsTo: needs Linux /proc/self/fd");
  const target = realpathSync(path);
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) count += 1;
    } catch {} // the directory's own fd is gone by the time it is read
  }
  return count;
}

/** A response's JSON body, loosely typed for assertions. */
export async function json(res: Response): Promise<any> {
  return res.json();
}

/** Resolves once `predicate` holds (or fails after `ms`, about a second by default): for work started after an answer. */
export async function until(predicate: () => boolean, ms = 1000): Promise<void> {
  for (let i = 0; i < ms / 10 && !predicate(); i++) await Bun.sleep(10);
  expect(predicate()).toBe(true);
}
