/**
 * `GET /v1/events`: every entry as it is written, as Server-Sent Events. Each event's `id` is its
 * place in the log (`<inode>.<byte after it>`), so a client that reconnects with `Last-Event-ID`
 * gets every later entry exactly once. Each client reads the log itself (log/outbox) and its
 * buffer is bounded: a client that does not read is disconnected, and never slows the receiver.
 */
import { inChannel, type ChannelFilter } from "../status/report.ts";
import { Outbox, type Position } from "../log/outbox.ts";
import { parseEntry } from "../log/reader.ts";
import type { Outcome } from "../core/outcome.ts";

export interface EventFilter {
  outcome: Outcome | null;
  channel: ChannelFilter;
  kind: string | null;
}

export interface EventStreamOptions {
  /** How often the log is checked for new entries. @default 200 */
  pollMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream. @default 15_000 */
  heartbeatMs?: number;
  /** Bytes queued for a client that does not read, before it is disconnected. @default 1 MiB */
  maxBufferedBytes?: number;
}

/** `Last-Event-ID` as a log position, or null (start at the log's end: only what comes next). */
export function positionOf(lastEventId: string | null): Position | null {
  const match = lastEventId === null ? null : /^(\d{1,20})\.(\d{1,18})$/.exec(lastEventId.trim());
  return match ? { ino: Number(match[1]), offset: Number(match[2]) } : null;
}

const encoder = new TextEncoder();

/**
 * The streaming response for one client. The stream is pulled: Bun asks for more only when the
 * socket takes it, so what a client has not read waits in `pending`, and a client that lets
 * `maxBufferedBytes` pile up is cut off.
 */
export function eventStream(log: string, from: Position | null, filter: EventFilter, options: EventStreamOptions = {}): Response {
  const pollMs = options.pollMs ?? 200;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  const outbox = new Outbox(log, from);
  let pending: string[] = [": sms-status events\nretry: 2000\n\n"];
  let pendingBytes = 0;
  let wake: (() => void) | null = null;
  let stopped = false;
  let cutOff: (() => void) | null = null;
  const add = (text: string) => {
    pending.push(text);
    pendingBytes += text.length;
    wake?.();
  };
  const stop = () => {
    stopped = true;
    clearInterval(poll);
    clearInterval(heartbeat);
    outbox.close();
    wake?.();
  };
  const poll = setInterval(() => {
    if (stopped) return;
    if (pendingBytes >= maxBuffered) {
      // It has not read what is waiting: it is too slow to follow the log. The stream ends; a
      // client that comes back with Last-Event-ID resumes where it was.
      pending = [];
      pendingBytes = 0;
      stop();
      cutOff?.();
      return;
    }
    for (const line of outbox.read(500)) {
      const entry = parseEntry(line.text);
      if (entry === null) continue;
      if (filter.outcome !== null && entry.outcome !== filter.outcome) continue;
      if (filter.kind !== null && entry.kind !== filter.kind) continue;
      if (!inChannel(entry.channel, filter.channel)) continue;
      // The line is JSON on one line: it is the data as it stands.
      add(`id: ${line.ino}.${line.end}\nevent: entry\ndata: ${line.text}\n\n`);
    }
  }, pollMs);
  const heartbeat = setInterval(() => add(": ping\n\n"), heartbeatMs);
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        cutOff = () => controller.close();
      },
      async pull(controller) {
        while (pending.length === 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        if (stopped || pending.length === 0) return;
        const text = pending.join("");
        pending = [];
        pendingBytes = 0;
        controller.enqueue(encoder.encode(text));
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
  });
}
