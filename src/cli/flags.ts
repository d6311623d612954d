/**
 * Flag parsing for every command: node:util's parseArgs with one-line usage errors, and the value
 * checks flags share. A bad value is a `UsageError` whose message names the flag and what is
 * allowed (the CLI prints it and exits 2).
 */
import { accessSync, constants, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

export type Env = Record<string, string | undefined>;

export const optional = (raw: string): string | null => (raw === "" ? null : raw);

export function list(check?: (item: string, name: string) => void) {
  return (raw: string, name: string): string[] => {
    const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
    for (const item of items) check?.(item, name);
    return items;
  };
}

export function readableFile(raw: string, name: string): string | null {
  if (raw === "") return null;
  try {
    accessSync(raw, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (code ?? "unreadable");
    throw new UsageError(`${name}: cannot read ${raw}: ${why}`);
  }
  if (!statSync(raw).isFile()) throw new UsageError(`${name}: ${raw} is not a file`);
  return raw;
}

export function wholeNumber(min: number, max: number) {
  return (raw: string, name: string): number => {
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || n < min || n > max)
      throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return n;
  };
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (raw: string, name: string): T => {
    if (!allowed.includes(raw as T))
      throw new UsageError(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
    return raw as T;
  };
}

export function nonEmpty(raw: string, name: string): string {
  if (raw.trim() === "") throw new UsageError(`${name} must not be empty`);
  return raw;
}

export function boolean(raw: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  throw new UsageError(`${name} must be true or false (got ${JSON.stringify(raw)})`);
}

/**
 * `--port -1` becomes `--port=-1` (a short flag its long form): parseArgs takes a value that starts with
 * "-" for an option and calls it ambiguous; joined, the value reaches the flag's own check.
 */
function joinNegatives(args: string[], specs: { flag: string; boolean?: boolean; short?: string }[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return [...out, ...args.slice(i)];
    const spec = specs.find((s) => !s.boolean && (arg === `--${s.flag}` || (s.short && arg === `-${s.short}`)));
    const next = args[i + 1];
    if (spec && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${spec.flag}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** node:util parseArgs with its errors turned into one-line usage errors. */
export function parseFlags(
  args: string[],
  specs: { flag: string; boolean?: boolean; short?: string; multiple?: boolean }[],
  allowPositionals: boolean,
) {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const spec of specs) {
    options[spec.flag] = { type: spec.boolean ? "boolean" : "string" };
    if (spec.short) options[spec.flag]!.short = spec.short;
    if (spec.multiple) options[spec.flag]!.multiple = true;
  }
  try {
    return parseArgs({ args: joinNegatives(args, specs), options, allowPositionals, strict: true });
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) throw error;
    const message = (error as Error).message.split("\n")[0]!.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message.replace(/^Unknown option/, "unknown flag"));
  }
}
