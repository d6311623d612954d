/**
 * The Elysia plugin: `POST /sms/status` for Routee's delivery reports and `GET /healthz`, in any
 * Elysia app with one `.use()`. The plugin is the only module that knows Elysia: it owns the
 * options, the routes and their OpenAPI description, and hands each request to the receiver
 * (http/receiver.ts), which reads it through the provider and writes its entries to the store.
 */
import { Elysia, type AnyElysia } from "elysia";
import { DEFAULT_LOG, DEFAULT_PATH, HEALTH_PATH } from "../core/defaults.ts";
import { statusApi } from "../api/routes.ts";
import { LogStatus } from "../store/log-status.ts";
import { routee } from "../providers/routee/index.ts";
import { Allowlist } from "./access.ts";
import { HEALTH_RESPONSES, REPORT_RESPONSES } from "./answers.ts";
import { Metrics } from "./metrics.ts";
import { assertOptions, type SmsStatusOptions } from "./options.ts";
import type { PeerSource } from "./receiver.ts";
import { setUpReceiver, type ProviderRoute } from "./setup.ts";
import { parseForwardFilter } from "../forward/filter.ts";
import { Forwarder } from "../forward/forwarder.ts";
import { statePathFor } from "../forward/state.ts";

/**
 * Receive Routee delivery reports in any Elysia app.
 * @example new Elysia().use(smsStatus({ path: "/hooks/routee", log: "/var/log/sms/status.log" }))
 */
export function smsStatus(options: SmsStatusOptions = {}) {
  assertOptions(options);
  const healthPath = options.healthPath ?? HEALTH_PATH;
  const { routes, metrics, close } = setUpReceiver(options, true);
  const forwarders = startForwarding(options, metrics);
  const app = receiverRoutes(routes, {
    healthPath,
    seed: seedOf(options),
    // Elysia's Bun adapter does not await this.
    close: async () => {
      await Promise.all(forwarders.map((forwarder) => forwarder.stop()));
      await close();
    },
  });
  if (!options.api) return app;
  const log = options.log ?? DEFAULT_LOG;
  return app.use(statusApi({ reader: new LogStatus([log]), log: options.format === "text" ? undefined : log, prefix: options.api.prefix }));
}

/**
 * The plugin's forwarders, started now: on a first start each holds the log's end before any
 * report can be answered, so nothing acknowledged is missed. In this thread: at real callback
 * rates a few hundred µs a second; the standalone server gives them a thread of their own.
 */
function startForwarding(options: SmsStatusOptions, metrics: Metrics): Forwarder[] {
  const forward = options.forward;
  if (!forward) return [];
  const log = options.log ?? DEFAULT_LOG;
  const urls = typeof forward.url === "string" ? [forward.url] : [...forward.url];
  return urls.map((url) => {
    const forwarder = new Forwarder({
      log,
      url,
      secret: forward.secret,
      statePath: statePathFor(log, url, forward.stateDir ?? null),
      filter: parseForwardFilter(forward.filter ?? ""),
      // Unset stays unset: an undefined would replace the forwarder's default.
      ...(forward.batch !== undefined && { batch: forward.batch }),
      ...(forward.timeoutMs !== undefined && { timeoutMs: forward.timeoutMs }),
      warn: (message) => console.error(message.replace(/^sms-status:/, "elysia-sms-status:")),
    });
    metrics.watchForwarder(url, forwarder.stats);
    forwarder.start();
    return forwarder;
  });
}

/**
 * The plugin's routes around the receivers (one per provider). The standalone server uses this
 * too, with receivers it also serves directly on its hot path.
 */
export function receiverRoutes(
  routes: readonly ProviderRoute[],
  options: { healthPath: string | false; seed?: unknown; close?: () => Promise<void> },
) {
  const { healthPath, close } = options;
  let app: AnyElysia = new Elysia({ name: "elysia-sms-status", seed: options.seed });
  for (const { provider, path, receiver } of routes) {
    const handle = (context: { [key: string]: any }) =>
      receiver.handle(context.request as Request, context.server as PeerSource | null);
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
    seed[key] = typeof value === "function" || value instanceof Metrics || value instanceof Allowlist || ((key === "journal" || key === "store") && value)
      ? identity(value)
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
