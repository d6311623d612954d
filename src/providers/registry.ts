/**
 * Every provider the server can enable (`--provider NAME`), in one list: the CLI builds its flags
 * and the server its routes from it. Routee is at the callback path itself, every other provider
 * at `<path>/<name>`.
 */
import { infobip } from "./infobip/index.ts";
import type { ProviderSpec } from "./provider.ts";
import { plivo } from "./plivo/index.ts";
import { routee } from "./routee/index.ts";
import { twilio } from "./twilio/index.ts";
import { vonage } from "./vonage/index.ts";
import { sinch } from "./sinch/index.ts";
import { telnyx } from "./telnyx/index.ts";
import { badPublicKey } from "./telnyx/signature.ts";

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
    create: (secrets) => twilio(secrets["auth-token"] ?? null),
  },
  {
    name: "plivo",
    authenticity: "X-Plivo-Signature-V3: HMAC-SHA256 with the auth token over the URL Plivo called, the sorted parameters and a nonce",
    secrets: [{ name: "auth-token", help: "Plivo's auth token, which signs its callbacks" }],
    create: (secrets) => plivo(secrets["auth-token"] ?? null),
  },
  {
    name: "vonage",
    authenticity: "signed webhooks: the sig parameter, an MD5 hash or HMAC (MD5, SHA-1, SHA-256, SHA-512) with the signature secret over the sorted parameters",
    secrets: [{ name: "signature-secret", help: "Vonage's signature secret, which signs its delivery receipts" }],
    create: (secrets) => vonage(secrets["signature-secret"] ?? null),
  },
  {
    name: "telnyx",
    authenticity: "Telnyx signs every webhook with Ed25519 (telnyx-signature-ed25519 over telnyx-timestamp|body, checked with your public key); older than 5 minutes is refused",
    secrets: [{ name: "public-key", help: "Telnyx's webhook public key (base64, from the portal)", check: badPublicKey }],
    create: (secrets) => telnyx(secrets["public-key"] ?? null),
  },
  {
    name: "sinch",
    authenticity: "Sinch signs when an HMAC secret is set up for the callback URL: x-sinch-webhook-signature, HMAC-SHA256 over body.nonce.timestamp",
    secrets: [{ name: "hmac-secret", help: "the HMAC secret Sinch signs SMS callbacks with" }],
    create: (secrets) => sinch(secrets["hmac-secret"] ?? null),
  },
  {
    name: "infobip",
    authenticity: "Infobip signs nothing: the token in the URL and the allowlist (Infobip's webhook addresses)",
    secrets: [],
    create: () => infobip,
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
