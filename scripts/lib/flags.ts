/** The bench scripts' number flags. */

/**
 * The flag `--name` of `values` (from `parseArgs`) as a whole number from 1 to `max`; anything
 * else exits 2 with a message naming the script and the flag.
 */
export function positiveFlag(script: string, values: Record<string, unknown>, name: string, max: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`${script}: --${name} must be a whole number from 1 to ${max}`);
    process.exit(2);
  }
  return n;
}
