/** Shared test helpers: temporary directories, sample Routee reports, requests. */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "bun:test";
import { renderJsonl } from "../../src/core/entry.ts";
import { routeeEntry } from "../../src/providers/routee/adapter.ts";
import type { RouteeCallback } from "../../src/providers/routee/schema.ts";

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(prefix = "sms-status-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;

/** A realistic Routee report; override any field. Ids are unique per call. */
export function routeeReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  const id = `${Date.now().toString(16)}-${counter}`;
  return {
    messageId: `msg-${id}`,
    smsId: `sms-${id}`,
    campaignTrackingId: null,
    part: 1,
    parts: 1,
    label: "otp",
    to: "+306948530920",
    from: "Routee",
    country: "GR",
    operator: "Cosmote",
    groups: [],
    campaignName: null,
    status: {
      name: "Delivered",
      reason: { detailedStatus: "Delivered", description: "The message was delivered" },
      updatedDate: "2019-07-05T10:28:49Z",
    },
    message: "Your code is 1234",
    applicationName: "default",
    latency: 2,
    price: 0.036,
    direction: "Outbound",
    originatingService: "Sms",
    ...overrides,
  };
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

/** A JSONL log entry for a Routee report received at `receivedAt`, as the server would write it. */
export function dlrLine(overrides: Record<string, unknown>, receivedAt: string | Date): string {
  return renderJsonl(routeeEntry(routeeReport(overrides) as RouteeCallback, new Date(receivedAt)));
}

/** A report's status object. */
export function status(name: string, updatedDate: string, detailedStatus: string = name): Record<string, unknown> {
  return { name, reason: { detailedStatus, description: `${detailedStatus}.` }, updatedDate };
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
