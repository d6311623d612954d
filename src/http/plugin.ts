/**
 * The Elysia plugin: `POST /sms/status` for Routee's delivery reports and `GET /healthz`, in any
 * Elysia app with one `.use()`. The plugin is the only module that knows Elysia: it owns the
 * options, the routes and their OpenAPI description, and hands each request to the receiver
 * (http/receiver.ts), which reads it through the provider and writes its entries to the store.
 */
import { createHash } from "node:crypto";
import { Elysia, type AnyElysia } from "elysia";
import { DEFAULT_LOG, DEFAULT_PATH, HEALTH_PATH } from "../core/defaults.ts";
import { statusApi } from "../api/routes.ts";
import { LogStatus } from "../store/log-status.ts";
import { routee } from "../providers/routee/index.ts";
import { Allowlist } from "./access.ts";
import { HEALTH_RESPONSES, REPORT_RESPONSES } from "./answers.ts";
import { Metrics } from "./metrics.ts";
import { assertOptions, type ForwardOptions, type SmsStatusOptions } from "./options.ts";
import type { PeerSource } from "./receiver.ts";
import { setUpReceiver, type ProviderRoute } from "./setup.ts";
import { parseForwardFilter } from "../forward/filter.ts";
import { Forwarder, redact } from "../forward/forwarder.ts";
import { makeStateDir, statePathFor } from "../forward/state.ts";

/**
 * Receive Routee delivery reports in any Elysia app.
 * @example new Elysia().use(smsStatus({ path: "/hooks/routee", log: "/var/log/sms/status.log" }))
 */
export function smsStatus(options: SmsStatusOptions = {}) {
  assertOptions(options);
  const healthPath = options.healthPath ?? HEALTH_PATH;
  const { routes, metrics, close } = setUpReceiver(options, true);
  const forwarders = options.forward ? plannedForwarding(options, options.forward, metrics) : null;
  const app = receiverRoutes(routes, {
    healthPath,
    seed: seedOf(options),
    start: forwarders?.start,
    // Elysia's Bun adapter does not await this.
    close: async () => {
      await forwarders?.stop();
      await close();
    },
  });
  if (!options.api) return app;
  const log = options.log ?? DEFAULT_LOG;
  return app.use(statusApi({ reader: new LogStatus([log]), log: options.format === "text" ? undefined : log, prefix: options.api.prefix }));
}

/** The plugin's forwarders running in this process, by state file: never two on one file. */
const forwarding = new Map<string, Forwarder>();

/**
 * The plugin's forwarders, started when the app starts or at the first report, whichever comes
 * first (a report starts them before its entry is written, so a first start's position, the log's
 * end, is before it): an instance that is never registered starts nothing, and one served through
 * `app.fetch` (Deno, Node) still forwards. Elysia merges a second `.use()` of equal options keeping
 * one instance's start hook and the other's route, so the forwarders are kept by state file: the
 * instance that starts first runs them and either one stops them. Not started again by a stopped
 * instance. In this thread: at real callback rates a few hundred µs a second; the standalone
 * server gives them a thread of their own.
 */
function plannedForwarding(options: SmsStatusOptions, forward: ForwardOptions, metrics: Metrics) {
  const log = options.log ?? DEFAULT_LOG;
  const urls = typeof forward.url === "string" ? [forward.url] : [...forward.url];
  const targets = urls.map((url) => ({ url, statePath: statePathFor(log, url, forward.stateDir ?? null) }));
  const filter = parseForwardFilter(forward.filter ?? "");
  if (forward.stateDir !== undefined) {
    // As the log's directory: made if missing, and a position that cannot be kept fails now, not at every save.
    try {
      makeStateDir(forward.stateDir);
    } catch (error) {
      throw new TypeError(`elysia-sms-status: forward.stateDir: ${(error as Error).message}`, { cause: error });
    }
  }
  const startOne = (url: string, statePath: string) => {
    const forwarder = new Forwarder({
      log,
      url,
      secret: forward.secret,
      statePath,
      filter,
      // Unset stays unset: an undefined would replace the forwarder's default.
      ...(forward.batch !== undefined && { batch: forward.batch }),
      ...(forward.timeoutMs !== undefined && { timeoutMs: forward.timeoutMs }),
      warn: (message) => console.error(message.replace(/^sms-status:/, "elysia-sms-status:")),
    });
    forwarder.start();
    forwarding.set(statePath, forwarder);
    metrics.watchForwarder(url, forwarder.stats);
  };
  let started = false;
  let stopped = false;
  return {
    start(): void {
      if (started || stopped) return;
      started = true;
      for (const { url, statePath } of targets) {
        if (forwarding.has(statePath)) continue;
        try {
          startOne(url, statePath);
        } catch (error) {
          // Not in the report's way: said, and tried again at the next report.
          started = false;
          console.error(`elysia-sms-status: forwarding to ${redact(url)} cannot start: ${(error as Error).message}`);
        }
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(
        targets.map(({ statePath }) => {
          const forwarder = forwarding.get(statePath);
          forwarding.delete(statePath);
          return forwarder?.stop();
        }),
      );
    },
  };
}

/**
 * The plugin's routes around the receivers (one per provider). The standalone server uses this
 * too, with receivers it also serves directly on its hot path.
 */
export function receiverRoutes(
  routes: readonly ProviderRoute[],
  options: { healthPath: string | false; seed?: unknown; start?: () => void; close?: () => Promise<void> },
) {
  const { healthPath, start, close } = options;
  let app: AnyElysia = new Elysia({ name: "elysia-sms-status", seed: options.seed });
  for (const { provider, path, receiver } of routes) {
    const handle = (context: { [key: string]: any }) => {
      start?.();
      return receiver.handle(context.request as Request, context.server as PeerSource | null);
    };
    const methods = provider.methods ?? ["POST"];
    const detail = {
      summary: `Receive a ${provider.title} SMS delivery report`,
      description: `${provider.title} calls here each time a message changes status. Answered 200 once the report is stored.`,
      tags: ["sms-status"],
      requestBody: { required: true, content: { [provider.decode ? "application/x-www-form-urlencoded" : "application/json"]: { schema: provider.schema as never } } },
    };
    // The receiver reads and validates the raw body itself, so that the report is logged exactly
    // as received; Elysia must not parse or reshape it first.
    if (methods.includes("POST")) app = app.post(path, handle, { parse: "none", detail, response: REPORT_RESPONSES });
    if (methods.includes("GET")) app = app.get(path, handle, { detail: { ...detail, requestBody: undefined }, response: REPORT_RESPONSES });
  }
  const health = routes[0]!.receiver;
  return app
    .onStart(function startForwarding() {
      start?.();
    })
    .onStop(async function closeStore() {
      await close?.();
    })
    .use((app) =>
      healthPath === false
        ? app
        : app.get(healthPath, () => health.health(), {
            detail: { summary: "Is the SMS status log writable?", tags: ["sms-status"] },
            response: HEALTH_RESPONSES,
          }),
    );
}

/**
 * Elysia registers a plugin once per name + JSON of its seed. Functions and journals do not survive
 * JSON, so each is replaced by an id of its identity: the same options register once, while two
 * instances with different hooks or journals are both kept.
 */
function seedOf(options: SmsStatusOptions): Record<string, unknown> {
  const seed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options))
    seed[key] =
      typeof value === "function" || value instanceof Metrics || value instanceof Allowlist || ((key === "journal" || key === "store") && value)
        ? identity(value)
        : key === "forward" && value
          ? // The secret as a hash: equal options still register once, and the app's config holds no key.
            { ...value, secret: createHash("sha256").update(String(value.secret)).digest("hex") }
          : value;
  return seed;
}

const identities = new WeakMap<object, number>();
let lastIdentity = 0;
function identity(value: object): string {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = ++lastIdentity));
  return `identity#${id}`;
}
