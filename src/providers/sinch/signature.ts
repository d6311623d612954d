/**
 * Sinch signs SMS callbacks when an HMAC secret is set up for the callback URL (ask Sinch):
 * `x-sinch-webhook-signature` is base64 HMAC-SHA256 with the secret over
 * `<body>.<x-sinch-webhook-signature-nonce>.<x-sinch-webhook-signature-timestamp>`, and
 * `x-sinch-webhook-signature-algorithm` says `HmacSHA256`. Sinch's SDK checks no age, and neither
 * do we: a replayed report is a retry, stored once by duplicate detection.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { CallbackRequest } from "../provider.ts";

/** A verifier for one secret: null when the request is Sinch's, else why not. */
export function sinchVerifier(secret: string) {
  return function verifySinch(request: CallbackRequest): string | null {
    const signature = request.headers.get("x-sinch-webhook-signature");
    const nonce = request.headers.get("x-sinch-webhook-signature-nonce");
    const timestamp = request.headers.get("x-sinch-webhook-signature-timestamp");
    const algorithm = request.headers.get("x-sinch-webhook-signature-algorithm");
    if (!signature || nonce === null || timestamp === null) return "x-sinch-webhook-signature, -nonce and -timestamp are required";
    if (algorithm !== null && algorithm.toLowerCase() !== "hmacsha256") return `x-sinch-webhook-signature-algorithm ${JSON.stringify(algorithm)} is not HmacSHA256`;
    const expected = createHmac("sha256", secret).update(`${request.text}.${nonce}.${timestamp}`).digest();
    const given = Buffer.from(signature, "base64");
    // Equal lengths first: timingSafeEqual throws on unequal ones, and the length is no secret.
    return given.byteLength === expected.byteLength && timingSafeEqual(given, expected) ? null : "the signature does not match";
  };
}
