/**
 * The standalone server: the plugin on a real port, plus what only a whole server decides (the
 * transport's body limit and timeouts, answers for paths the plugin does not own).
 */
import { Elysia, type AnyElysia } from "elysia";
import type { ServeConfig } from "./config.ts";
import { FileJournal } from "./journal.ts";
import { answer, smsStatus } from "./plugin.ts";

export interface RunningServer {
  app: Elysia;
  journal: FileJournal;
  /** The address actually bound (useful with port 0). */
  port: number;
  /** Stop accepting, let requests in flight finish, write what is pending and close the log. */
  stop(): Promise<void>;
}

/** Seconds a connection may stay silent before Bun closes it (slow or idle clients). */
const IDLE_TIMEOUT_S = 10;

/**
 * Build the app without listening (tests use `app.handle`). Throws JournalOpenError.
 * `docs` is the OpenAPI plugin (see `docs.ts`), passed in so that only `--docs` loads it.
 */
export function createServer(config: ServeConfig, docs?: AnyElysia) {
  const journal = new FileJournal(config.log, { fsync: config.fsync });
  const app = new Elysia({
    serve: { maxRequestBodySize: config.bodyLimit, idleTimeout: IDLE_TIMEOUT_S },
  })
    .onError(function answerUnhandled({ code }) {
      // Never a stack trace or an internal path in an answer.
      if (code === "NOT_FOUND") return answer(404, { error: "not_found", message: "no such route" });
      return answer(500, { error: "internal", message: "internal error" });
    })
    .use(docs ?? new Elysia())
    .use(
      smsStatus({
        path: config.path,
        journal,
        format: config.format,
        bodyLimit: config.bodyLimit,
        dedupe:
          config.dedupeKeys === 0 ? false : { maxKeys: config.dedupeKeys, windowMs: config.dedupeHours * 3600_000 },
      }),
    )
    .all(
      config.path,
      function methodNotAllowed() {
        return answer(405, { error: "method_not_allowed", message: "use POST" }, { allow: "POST" });
      },
      { detail: { hide: true } },
    );
  return { app, journal };
}

/** Build and listen. */
export function startServer(config: ServeConfig, docs?: AnyElysia): RunningServer {
  const { app, journal } = createServer(config, docs);
  app.listen({ port: config.port, hostname: config.host });
  return {
    app: app as unknown as Elysia,
    journal,
    port: app.server!.port!,
    async stop() {
      await app.stop(false);
      await journal.close();
    },
  };
}
