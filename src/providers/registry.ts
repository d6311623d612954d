/**
 * Every provider the server can enable (`--provider NAME`), in one list: the CLI builds its flags
 * and the server its routes from it. Routee is at the callback path itself, every other provider
 * at `<path>/<name>`.
 */
import type { ProviderSpec } from "./provider.ts";
import { plivo } from "./plivo/index.ts";
import { routee } from "./routee/index.ts";
import { twilio } from "./twilio/index.ts";
import { vonage } from "./vonage/index.ts";

export const DEFAULT_PROVIDER = "routee";

export const PROVIDERS: readonly ProviderSpec[] = [
  {
    name: "routee",
    authenticity: "Routee signs nothing: the token in the URL and the allowlist (callbacksallow.routee.net)",
    secrets: [],
    create: () => routee,
  },
  {
    name: "twilio",
    authenticity: "X-Twilio-Signature: HMAC-SHA1 with the auth token over the URL Twilio called and the sorted form parameters",
    secrets: [{ name: "auth-token", help: "Twilio's auth token, which signs its callbacks" }],
    create: (secrets, { unsigned }) => twilio(unsigned ? null : secrets["auth-token"]!),
  },
  {
    name: "plivo",
    authenticity: "X-Plivo-Signature-V3: HMAC-SHA256 with the auth token over the URL Plivo called, the sorted parameters and a nonce",
    secrets: [{ name: "auth-token", help: "Plivo's auth token, which signs its callbacks" }],
    create: (secrets, { unsigned }) => plivo(unsigned ? null : secrets["auth-token"]!),
  },
  {
    name: "vonage",
    authenticity: "signed webhooks: the sig parameter, an MD5 hash or HMAC (MD5, SHA-1, SHA-256, SHA-512) with the signature secret over the sorted parameters",
    secrets: [{ name: "signature-secret", help: "Vonage's signature secret, which signs its delivery receipts" }],
    create: (secrets, { unsigned }) => vonage(unsigned ? null : secrets["signature-secret"]!),
  },
];

/** The route of a provider under the callback path. */
export function providerPath(path: string, name: string): string {
  return name === DEFAULT_PROVIDER ? path : `${path.replace(/\/+$/, "")}/${name}`;
}

/** The environment variable that holds a provider's secret: SMS_STATUS_TWILIO_AUTH_TOKEN. */
export function secretEnv(provider: string, secret: string): string {
  return `SMS_STATUS_${provider}_${secret}`.toUpperCase().replaceAll("-", "_");
}
