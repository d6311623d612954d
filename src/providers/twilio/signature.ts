/**
 * Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's auth token, over the
 * full URL Twilio called (query included) followed by every POST parameter sorted by name, each as
 * name + value (a repeated name: its distinct values sorted). The URL is checked as called, and with
 * the default port added and removed, because Twilio signs whichever form it was given (as its SDK's
 * `validateRequest` does). `X-Twilio-Webhooks-Signature-Settings: algorithm=HMAC_SHA256` asks for
 * SHA-256 with the same key.
 */
import { createHmac } from "node:crypto";
import { formPairs, groupPairs, sameSignature, sortedNames } from "../check.ts";
import type { CallbackRequest } from "../provider.ts";

/** The string Twilio signs: the URL, then each parameter's name and value in name order. */
export function signedText(url: string, body: string): string {
  const groups = groupPairs(formPairs(body));
  let text = url;
  for (const name of sortedNames(groups)) for (const value of [...new Set(groups.get(name))].sort()) text += name + value;
  return text;
}

/** The URL with its default port (`:443`, `:80`) added when absent and removed when present. */
export function urlForms(url: string): string[] {
  const match = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, authority, rest] = match;
  const port = scheme!.toLowerCase() === "https" ? "443" : "80";
  const hostPort = /^(.*?)(?::(\d+))?$/.exec(authority!)!;
  const host = hostPort[1]!;
  const forms = [url];
  if (hostPort[2] === undefined) forms.push(`${scheme}://${host}:${port}${rest}`);
  else if (hostPort[2] === port) forms.push(`${scheme}://${host}${rest}`);
  return forms;
}

/** null when the request carries a valid Twilio signature made with `authToken`; else why not. */
export function verifyTwilio(request: CallbackRequest, authToken: string): string | null {
  const presented = request.headers.get("x-twilio-signature");
  if (!presented) return "the X-Twilio-Signature header is missing";
  const settings = request.headers.get("x-twilio-webhooks-signature-settings") ?? "";
  const algorithm = /(?:^|,)\s*algorithm\s*=\s*([A-Z0-9_]+)/i.exec(settings)?.[1]?.toUpperCase() ?? "HMAC_SHA1";
  const hash = algorithm === "HMAC_SHA1" ? "sha1" : algorithm === "HMAC_SHA256" ? "sha256" : null;
  if (!hash) return `the signature algorithm ${algorithm} is not supported`;
  const body = request.method === "POST" ? request.text : "";
  for (const url of urlForms(request.url)) {
    const expected = createHmac(hash, authToken).update(signedText(url, body)).digest("base64");
    if (sameSignature(expected, presented)) return null;
  }
  return "the X-Twilio-Signature does not match (check the auth token and --public-url)";
}
