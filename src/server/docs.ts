/**
 * `sms-status --docs`: the standalone server's OpenAPI document at /openapi/json. No viewer: the
 * package's viewer loads its script from a CDN, and the binary fetches nothing from the internet. Only the CLI imports this module (dynamically), so `@elysiajs/openapi` is needed by
 * the server alone, never by apps that use the plugin.
 */
import { openapi } from "@elysiajs/openapi";
import { VERSION } from "../core/version.ts";

export function docs() {
  return openapi({
    path: "/openapi",
    provider: null,
    documentation: {
      info: {
        title: "sms-status",
        version: VERSION,
        description: "Receives Routee SMS delivery reports and appends each one to a log.",
      },
    },
  });
}
