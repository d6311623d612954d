/**
 * Vonage's signed webhooks: the receipt carries `sig`, a hex digest, keyed with the account's
 * signature secret, over every other parameter sorted by name as `&name=value` (`&` and `=` inside
 * a value replaced by `_`). The method is an account setting the receipt does not name: MD5 hash
 * (the text + secret, MD5) or HMAC with MD5, SHA-1, SHA-256 or SHA-512. The digest's length says
 * which family it is (32 hex: both MD5 methods are tried); every method needs the secret, so
 * accepting each lets an account keep the setting its API requests already use. Matches
 * `@vonage/sms`'s `verifySignature`, which the tests check.
 */
import { createHash, createHmac } from "node:crypto";
import { sameSignature } from "../check.ts";

/** The text Vonage signs: `&name=value` for each parameter but `sig`, by name. */
export function signedText(fields: Record<string, unknown>): string {
  let text = "";
  for (const name of Object.keys(fields).sort()) {
    if (name === "sig") continue;
    const value = fields[name];
    // Only text and numbers are signed; anything else (an object in a JSON receipt) cannot match.
    const shown = typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : "";
    text += `&${name}=${shown.replace(/[&=]/g, "_")}`;
  }
  return text;
}

const HMAC_BY_LENGTH: Record<number, string> = { 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" };

/** null when `fields` carry a `sig` made with `secret` by one of Vonage's methods; else why not. */
export function verifyVonage(fields: Record<string, unknown>, secret: string): string | null {
  const sig = fields.sig;
  if (typeof sig !== "string" || sig === "") return "the sig parameter is missing (turn on signed webhooks for the API key)";
  const presented = sig.toLowerCase();
  const hash = HMAC_BY_LENGTH[presented.length];
  if (!hash) return "the sig parameter is not a digest Vonage makes";
  const text = signedText(fields);
  let matched = sameSignature(createHmac(hash, secret).update(text).digest("hex"), presented);
  if (hash === "md5") matched = sameSignature(createHash("md5").update(text + secret).digest("hex"), presented) || matched;
  return matched ? null : "the sig parameter does not match (check the signature secret)";
}
