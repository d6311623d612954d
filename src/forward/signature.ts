/**
 * Signing as the Standard Webhooks specification says (standardwebhooks.com): the secret is
 * `whsec_` + base64 of the key; the signature is `v1,` + base64 of HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>`. An application verifies it with the `standardwebhooks`
 * package or a few lines of its own.
 */
import { createHmac } from "node:crypto";

const PREFIX = "whsec_";

/** The key bytes of a `whsec_…` secret; throws with a clear message for anything else. */
export function webhookKey(secret: string): Buffer {
  const trimmed = secret.trim();
  const base64 = trimmed.startsWith(PREFIX) ? trimmed.slice(PREFIX.length) : trimmed;
  const key = Buffer.from(base64, "base64");
  if (key.length < 24 || key.toString("base64").replace(/=+$/, "") !== base64.replace(/=+$/, ""))
    throw new Error("the forwarding secret must be whsec_ followed by at least 24 bytes in base64 (try: echo whsec_$(openssl rand -base64 32))");
  return key;
}

/** The three headers of a signed webhook. */
export function webhookHeaders(key: Buffer, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(timestampSeconds), "webhook-signature": `v1,${signature}` };
}
