/**
 * `Promise.withResolvers()` for runtimes that lack it (Node 20 has none; Node 22, Bun and Deno do).
 */
export function deferred<T>(): PromiseWithResolvers<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
