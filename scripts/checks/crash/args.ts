/** The crash test's command line: its flags, their ranges and defaults; exit 2 on bad usage. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

export const USAGE =
  "usage: bun scripts/checks/crash-test.ts [--rounds N] [--seconds S] [--concurrency C] [--resend N] [--fsync]\n" +
  "                                 [--binary PATH] [--seed N] [--keep]\n";

export interface Options {
  rounds: number;
  seconds: number;
  concurrency: number;
  resend: number;
  fsync: boolean;
  binary: string | null;
  seed: number;
  keep: boolean;
}

function usage(message: string): never {
  process.stderr.write(`crash-test: ${message}\n${USAGE}`);
  process.exit(2);
}

export function parseOptions(argv: string[]): Options {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        rounds: { type: "string" },
        seconds: { type: "string" },
        concurrency: { type: "string" },
        resend: { type: "string" },
        fsync: { type: "boolean" },
        binary: { type: "string" },
        seed: { type: "string" },
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    usage((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) usage(`--${name} must be from ${min} to ${max}`);
    return n;
  };
  const binary = values.binary === undefined ? null : resolve(values.binary);
  if (binary !== null && !existsSync(binary)) usage(`--binary ${values.binary}: no such file (run npm run build)`);
  return {
    rounds: Math.round(number("rounds", values.rounds, 5, 1, 100)),
    seconds: number("seconds", values.seconds, 2, 0.2, 30),
    concurrency: Math.round(number("concurrency", values.concurrency, 16, 1, 256)),
    resend: Math.round(number("resend", values.resend, 25, 0, 1000)),
    fsync: values.fsync ?? false,
    binary,
    seed: Math.round(number("seed", values.seed, Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31)),
    keep: values.keep ?? false,
  };
}

/** mulberry32: a seeded generator, so a failing run's kill moments and statuses can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
