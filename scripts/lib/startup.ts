/** Reading the server's start-up line from its stderr, for scripts and tests that spawn it. */

export interface Startup {
  /** The line "sms-status VERSION listening on HOST:PORT; Routee callback URL: ...; log: ...". */
  line: string;
  port: number;
}

/**
 * Wait for the start-up line (it comes after any warnings). Throws with what was printed when the
 * process ends or `timeoutMs` passes first. The stream is released, not drained, afterwards.
 */
export async function readStartup(stream: ReadableStream<Uint8Array>, timeoutMs = 10_000): Promise<Startup> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  let text = "";
  try {
    while (Date.now() < deadline) {
      const next = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => null)]);
      if (next === null || next.done) break;
      text += decoder.decode(next.value, { stream: true });
      const line = text.split("\n").find((l) => /listening on \S+:\d+;/.test(l) && text.includes(`${l}\n`));
      if (line) return { line, port: Number(line.match(/listening on \S+:(\d+);/)![1]) };
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`the server did not print its start-up line; it printed: ${text.trim() || "(nothing)"}`);
}
