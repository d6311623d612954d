/**
 * Where a worker thread's module is, for `new Worker`: beside its caller when run from source
 * (`.ts`) or from the npm package (`.js`); in the compiled binary, where scripts/build/binary.ts
 * makes it an entry point of its own, at its path from `src/` under the root that the binary's
 * own URL names.
 * @param callerUrl the caller's `import.meta.url` (the caller sits in the worker's folder)
 * @param fromSrc the worker's path from `src/`, without extension
 * @example new Worker(workerUrl(import.meta.url, "forward/worker"))
 */
export function workerUrl(callerUrl: string, fromSrc: string): string {
  if (callerUrl.includes("/$bunfs/")) return new URL(`./${fromSrc}.js`, callerUrl).href;
  const name = fromSrc.slice(fromSrc.lastIndexOf("/") + 1);
  return new URL(`./${name}${callerUrl.endsWith(".ts") ? ".ts" : ".js"}`, callerUrl).href;
}
