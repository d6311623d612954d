/**
 * Telnyx signs each webhook with Ed25519: `telnyx-signature-ed25519` (base64, 64 bytes) over
 * `<telnyx-timestamp>|<body>`, verifiable with the account's public key (base64, 32 bytes, from
 * the portal). A timestamp more than 5 minutes from now is refused, as Telnyx's SDK does, so a
 * captured request cannot be replayed later.
 */
import type { CallbackRequest } from "../provider.ts";

export const TOLERANCE_SECONDS = 300;

/** Why a public key is unusable, or null. */
export function badPublicKey(key: string): string | null {
  const bytes = Buffer.from(key, "base64");
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && bytes.byteLength === 32
    ? null
    : "must be the base64 Ed25519 public key from the Telnyx portal (32 bytes)";
}

/** A verifier for one public key: null when the request is Telnyx's, else why not. */
export function telnyxVerifier(publicKey: string, now: () => number = Date.now) {
  const key = crypto.subtle.importKey("raw", Buffer.from(publicKey, "base64"), { name: "Ed25519" }, false, ["verify"]);
  return async function verifyTelnyx(request: CallbackRequest): Promise<string | null> {
    const signature = request.headers.get("telnyx-signature-ed25519");
    const timestamp = request.headers.get("telnyx-timestamp");
    if (!signature || !timestamp) return "telnyx-signature-ed25519 and telnyx-timestamp are required";
    if (!/^\d{1,12}$/.test(timestamp)) return "telnyx-timestamp must be seconds since 1970";
    if (Math.abs(now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return "telnyx-timestamp is more than 5 minutes away";
    const bytes = Buffer.from(signature, "base64");
    if (bytes.byteLength !== 64) return "telnyx-signature-ed25519 must be 64 bytes in base64";
    // Ed25519 verification is not a byte comparison: nothing secret leaks through its timing.
    const ok = await crypto.subtle.verify("Ed25519", await key, bytes, new TextEncoder().encode(`${timestamp}|${request.text}`));
    return ok ? null : "the signature does not match";
  };
}
