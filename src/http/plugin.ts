/**
 * The Elysia plugin: `POST /sms/status` for Routee's delivery reports and `GET /healthz`, in any
 * Elysia app with one `.use()`. The plugin is the only module that knows Elysia: it owns the
 * options, the routes and their OpenAPI description, and hands each request to the receiver
 * (http/receiver.ts), which reads it through the provider and writes its entries to the store.
 */
import { Elysia } from "elysia";
import { DEFAULT_PATH, HEALTH_PATH } from "../core/defaults.ts";
import { routee } from "../providers/routee/index.ts";
import { Allowlist } from "./access.ts";
import { HEALTH_RESPONSES, REPORT_RESPONSES } from "./answers.ts";
import { Metrics } from "./metrics.ts";
import { assertOptions, type SmsStatusOptions } from "./options.ts";
import type { Receiver } from "./receiver.ts";
import { setUpReceiver } from "./setup.ts";

/**
 * Receive Routee delivery reports in any Elysia app.
 * @example new Elysia().use(smsStatus({ path: "/hooks/routee", log: "/var/log/sms/status.log" }))
 */
export function smsStatus(options: SmsStatusOptions = {}) {
  assertOptions(options);
  const path = options.path ?? DEFAULT_PATH;
  const healthPath = options.healthPath ?? HEALTH_PATH;
  const { receiver, close } = setUpReceiver(options, true);
  return receiverRoutes(receiver, {
    path,
    healthPath,
    seed: seedOf(options),
    // Elysia's Bun adapter does not await this.
    close,
  });
}

/**
 * The plugin's routes around a receiver. The standalone server uses this too, with a receiver it
 * also serves directly on its hot path.
 */
export function receiverRoutes(
  receiver: Receiver,
  options: { path: string; healthPath: string | false; seed?: unknown; close?: () => Promise<void> },
) {
  const { path, healthPath, close } = options;
  return new Elysia({ name: "elysia-sms-status", seed: options.seed })
    .post(path, ({ request, server }) => receiver.handle(request, server), {
      // The receiver reads and validates the raw body itself (TypeBox, compiled once), so that the
      // report is logged exactly as received; Elysia must not parse or reshape it first.
      parse: "none",
      detail: {
        summary: "Receive a Routee SMS delivery report",
        description: "Routee POSTs here each time an SMS changes status. Answered 200 once the report is in the log.",
        tags: ["sms-status"],
        requestBody: { required: true, content: { "application/json": { schema: routee.schema as never } } },
      },
      response: REPORT_RESPONSES,
    })
    .onStop(async function closeJournal() {
      await close?.();
    })
    .use((app) =>
      healthPath === false
        ? app
        : app.get(healthPath, () => receiver.health(), {
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
    seed[key] = typeof value === "function" || value instanceof Metrics || value instanceof Allowlist || (key === "journal" && value)
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
