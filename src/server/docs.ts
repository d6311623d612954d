/**
 * `sms-status --docs`: the standalone server's OpenAPI document and viewer, at /openapi and
 * /openapi/json. Only the CLI imports this module (dynamically), so `@elysiajs/openapi` is needed by
 * the server alone, never by apps that use the plugin.
 */
import { openapi } from "@elysiajs/openapi";
import { VERSION } from "../core/version.ts";

export function docs() {
  return openapi({
    path: "/openapi",
    documentation: {
      info: {
        title: "sms-status",
        version: VERSION,
        description: "Receives Routee SMS delivery reports and appends each one to a log.",
      },
    },
  });
}
