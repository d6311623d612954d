/**
 * The standalone server: the plugin on a real port, plus what only a whole server decides (the
 * transport's body limit and timeouts, TLS, answers for paths the plugin does not own, and the
 * metrics listener on its own, local-only port).
 */
import type { Server } from "bun";
import { ForwarderThread } from "../forward/thread.ts";
import { statePathFor } from "../forward/state.ts";
import { statusApi } from "../api/routes.ts";
import { LogStatus } from "../store/log-status.ts";
import { SqlStatus } from "../store/sql/index.ts";
import type { StatusReader } from "../store/store.ts";
import { Elysia, type AnyElysia } from "elysia";
import { HEALTH_PATH } from "../core/defaults.ts";
import { Allowlist } from "../http/access.ts";
import { answer } from "../http/answers.ts";
import type { Metrics } from "../http/metrics.ts";
import { receiverRoutes } from "../http/plugin.ts";
import { setUpReceiver } from "../http/setup.ts";
import { PROVIDERS } from "../providers/registry.ts";
import { ViewThread } from "../store/sql/view-thread.ts";
import { FileJournal } from "../journal/file-journal.ts";
import { FileStore } from "../store/file-store.ts";
import { LogCopyStore } from "../store/log-copy.ts";
import { openSqlStore, SqlStore } from "../store/sql/index.ts";
import type { Store } from "../store/store.ts";
import { hostname } from "node:os";
import type { ServeConfig } from "./config.ts";

export interface RunningServer {
  store: Store;
  metrics: Metrics;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** The metrics listener's port, when there is one. */
  metricsPort: number | null;
  /** The SQLite view beside the log (applied in its own thread), when there is one. */
  view: ViewThread | null;
  /** The read API's port, when there is one. */
  apiPort: number | null;
  /** Stop accepting, let requests in flight finish, write what is pending and close the log. */
  stop(): Promise<void>;
}

/** How far past --body-limit the transport still reads a body before refusing it bare. */
const TRANSPORT_SLACK_BYTES = 1 << 20;

/**
 * Build the app without listening (tests use `app.handle`). Throws JournalOpenError.
 * `docs` is the OpenAPI plugin (see `docs.ts`), passed in so that only `--docs` loads it.
 */
export function createServer(config: ServeConfig, allowlist?: Allowlist, docs?: AnyElysia, database?: Store) {
  const providers = config.providers.map((name) => {
    const spec = PROVIDERS.find((p) => p.name === name);
    if (!spec) throw new Error(`unknown provider ${JSON.stringify(name)}`);
    return spec.create(config.providerSecrets[name] ?? {}, { unsigned: config.unsigned.includes(name) });
  });
  const { routes, store, metrics } = setUpReceiver(
    {
      providers,
      path: config.path,
      publicUrl: config.publicUrl ?? undefined,
      store: database,
      log: config.log,
      format: config.format,
      fsync: config.fsync,
      bodyLimit: config.bodyLimit,
      dedupe: config.dedupeKeys === 0 ? false : { maxKeys: config.dedupeKeys, windowMs: config.dedupeHours * 3600_000 },
      token: config.token ?? undefined,
      allow: allowlist,
      trustProxy: config.trustProxy,
      // Shown by /metrics and by the dashboard (/v1/health); nothing else reads it.
      messageMetrics: config.metricsPort !== null || config.apiPort !== null,
    },
    false,
  );
  let app: AnyElysia = new Elysia()
    .onError(function answerUnhandled({ code }) {
      // Never a stack trace or an internal path in an answer.
      if (code === "NOT_FOUND") return answer(404, { error: "not_found", message: "no such route" });
      return answer(500, { error: "internal", message: "internal error" });
    })
    .use(docs ?? new Elysia())
    .use(receiverRoutes(routes, { healthPath: HEALTH_PATH }));
  for (const { provider, path } of routes) {
    const allowed = (provider.methods ?? ["POST"]).join(", ");
    app = app.all(
      path,
      function methodNotAllowed() {
        return answer(405, { error: "method_not_allowed", message: `use ${allowed}` }, { allow: allowed });
      },
      { detail: { hide: true } },
    );
  }
  return { app, store, metrics, routes };
}

/**
 * Elysia looks for the path from the URL's 11th character on (`http://a.bc/`): with a shorter host
 * (`Host: x`) it finds none and answers 404 on every route. Such a request gets a long enough one.
 */
function withLongHost(request: Request): Request {
  const url = request.url;
  const path = url.indexOf("/", url.indexOf("//") + 2);
  return path < 0 || path >= 11 ? request : new Request(`http://localhost${url.slice(path)}`, request);
}

/** Resolve the allowlist, build, listen. */
export async function startServer(config: ServeConfig, docs?: AnyElysia): Promise<RunningServer> {
  let allowlist: Allowlist | undefined;
  if (config.allow.length > 0) {
    allowlist = new Allowlist({ allow: config.allow });
    await allowlist.start();
  }
  const database = config.databaseUrl === null ? undefined : await openDatabase(config);
  const { app, store, metrics, routes } = createServer(config, allowlist, docs, database);
  // Reports go straight to their receiver, the same handler the Elysia route calls, without the
  // framework's per-request work (the hot path); everything else is the Elysia app.
  const hotRoutes: Record<string, Record<string, (request: Request, server: Server<undefined>) => Promise<Response>>> = {};
  for (const { provider, path, receiver } of routes) {
    // The receiver never throws for what a client sends; should a bug make it, the answer is a bare 500.
    const handle = (request: Request, server: Server<undefined>) =>
      receiver.handle(request, server).catch(internalError);
    hotRoutes[path] = Object.fromEntries((provider.methods ?? ["POST"]).map((method) => [method, handle]));
  }
  const forwarders = config.forward.map(
    (url) =>
      new ForwarderThread({
        log: config.log,
        url,
        secret: config.forwardSecret!,
        statePath: statePathFor(config.log, url, config.forwardStateDir),
        filter: config.forwardFilter,
        timeoutMs: config.forwardTimeout * 1000,
        batch: config.forwardBatch,
      }),
  );
  for (const forwarder of forwarders) metrics.watchForwarder(forwarder.url, forwarder.stats);
  // Before the port opens: the first start begins at the log's end, and no report may come in between.
  await Promise.all(forwarders.map((forwarder) => forwarder.start()));
  let server: Server<undefined>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      // Above the limit, so that the receiver answers an oversized body itself (JSON, counted in the
      // metrics); Bun's own bare 413 only stops bodies beyond this, whatever they claim.
      maxRequestBodySize: config.bodyLimit + TRANSPORT_SLACK_BYTES,
      idleTimeout: config.idleTimeout,
      ...(config.tlsCert && config.tlsKey ? { tls: { cert: Bun.file(config.tlsCert), key: Bun.file(config.tlsKey) } } : {}),
      routes: hotRoutes,
      fetch: (request) => app.handle(withLongHost(request)),
      // Never Bun's development error page (source paths, a stack) in an answer.
      development: false,
      error: internalError,
    });
  } catch (error) {
    // A thread would keep the process alive.
    await Promise.all(forwarders.map((f) => f.stop()));
    throw error;
  }
  if (database instanceof SqlStore || database instanceof LogCopyStore) setReplica(database, config, server.port!);
  const view = !config.db ? null : new ViewThread({ log: config.log, db: config.db });
  if (view) {
    await view.open().catch(async (error) => {
      await Promise.all(forwarders.map((f) => f.stop()));
      await server.stop(true);
      await store.close();
      throw error;
    });
    metrics.watchView(view.stats);
    await view.start();
  }
  const dashboard = config.apiPort === null ? null : await loadDashboard();
  const reader = config.apiPort === null ? null : readerOf(config, database, view);
  const apiServer =
    config.apiPort === null
      ? null
      : Bun.serve({
          port: config.apiPort,
          hostname: config.apiHost,
          idleTimeout: 0, // the live stream stays open; it sends a heartbeat
          // The page and its bundled script and styles (no data: every figure is fetched with the token).
          ...(dashboard ? { routes: { "/dashboard": dashboard } } : {}),
          development: false,
          fetch: apiApp(config, reader!, metrics).handle,
        });
  const metricsServer =
    config.metricsPort === null
      ? null
      : Bun.serve({
          port: config.metricsPort,
          hostname: config.metricsHost,
          fetch(request) {
            if (new URL(request.url).pathname !== "/metrics") return answer(404, { error: "not_found", message: "try /metrics" });
            return new Response(metrics.render(), {
              headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
            });
          },
        });
  return {
    store,
    metrics,
    port: server.port!,
    metricsPort: metricsServer?.port ?? null,
    view,
    apiPort: apiServer?.port ?? null,
    async stop() {
      allowlist?.stop();
      await Promise.all(forwarders.map((f) => f.stop()));
      await server.stop(false);
      await metricsServer?.stop();
      await apiServer?.stop(true);
      if (reader instanceof SqlStatus) reader.close();
      await store.close();
      // After the log's last write: the view applies it before closing.
      await view?.stop();
    },
  };
}

/**
 * PostgreSQL as the journal, migrated (safe when replicas start at once: advisory lock). A database
 * that cannot be reached at start leaves the server up but unhealthy (503 with Retry-After,
 * /healthz 503) until a probe, backed off, reaches it and migrates. With --log, a local copy.
 */
async function openDatabase(config: ServeConfig): Promise<Store> {
  const db = await openSqlStore(config.databaseUrl!, {
    replica: config.replica,
    maxConnections: config.dbMaxConnections,
    maxInFlight: Math.max(1, config.dbMaxConnections - 1),
    timeoutMs: config.dbStatementTimeout,
    prepare: !config.dbNoPrepare,
    startUnhealthy: true,
  });
  if (!db.healthy) process.stderr.write(`sms-status: warning: ${db.lastError}; answering 503 until it can be reached\n`);
  if (!config.logGiven) return db;
  const copy = new FileStore(new FileJournal(config.log, { fsync: config.fsync }), { format: config.format });
  return new LogCopyStore(db, copy);
}

/** What an unexpected failure answers: a 500 without internals; the operator reads stderr. */
function internalError(error: unknown): Response {
  console.error("sms-status: internal error:", error);
  return answer(500, { error: "internal", message: "internal error" });
}

/** Where the read API answers from: PostgreSQL, else the SQLite view, else the log files. */
function readerOf(config: ServeConfig, database: Store | undefined, view: ViewThread | null): StatusReader {
  const sql = database instanceof LogCopyStore ? database.database : database;
  if (sql instanceof SqlStore) return new SqlStatus(sql.sql, "postgres", "postgres");
  if (view) return new SqlStatus(view.store.sql, "sqlite", config.db!, config.db!);
  return new LogStatus([config.log]);
}

/** The replica column: --replica, else host name and the port bound. */
function setReplica(store: SqlStore | LogCopyStore, config: ServeConfig, port: number): void {
  if (config.replica !== null) return;
  const sql = store instanceof LogCopyStore ? store.database : store;
  if (sql instanceof SqlStore) sql.replica = `${hostname()}:${port}`;
}

/**
 * The page (a Bun HTML import: bundled at start, embedded by `bun build --compile`). Loaded only
 * for the API listener; the npm package's transpiled library does not carry it, and runs without.
 */
async function loadDashboard() {
  try {
    return (await import("./dashboard.ts")).default;
  } catch {
    console.error("sms-status: the dashboard is not in this build (the compiled binary and the source have it); the read API runs without it");
    return null;
  }
}

/** The read API's app, answering from `reader` (the database or the view when there is one), errors without internals. */
function apiApp(config: ServeConfig, reader: StatusReader, metrics: Metrics): AnyElysia {
  return new Elysia()
    .onError(function answerUnhandled({ code }) {
      if (code === "NOT_FOUND") return answer(404, { error: "not_found", message: "no such route (try /v1/openapi.json)" });
      return answer(500, { error: "internal", message: "internal error" });
    })
    .use(statusApi({ reader, log: config.format === "jsonl" && (config.databaseUrl === null || config.logGiven) ? config.log : undefined, token: config.apiToken ?? undefined, health: () => metrics.health() }));
}
