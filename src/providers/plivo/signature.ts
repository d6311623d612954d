/**
 * Plivo's V3 signature: `X-Plivo-Signature-V3` is base64 HMAC-SHA256, keyed with the auth token,
 * over the URL Plivo called with its query sorted (`name=value` by name, joined by `&`), then for a
 * POST with a body `?`-or-`.` and the sorted form as name + value, then `.` and the nonce of
 * `X-Plivo-Signature-V3-Nonce`. The header may list several signatures, comma-separated (one per
 * token while a token is rotated): any one matching is enough. Matches plivo-node's
 * `validateV3Signature`, which the tests check.
 */
import { createHmac } from "node:crypto";
import { formPairs, groupPairs, sameSignature, sortedNames } from "../check.ts";
import type { CallbackRequest } from "../provider.ts";

function sortedQuery(query: string): string {
  const groups = groupPairs(formPairs(query));
  return sortedNames(groups)
    .flatMap((name) => groups.get(name)!.sort().map((value) => `${name}=${value}`))
    .join("&");
}

function sortedForm(body: string): string {
  const groups = groupPairs(formPairs(body));
  return sortedNames(groups)
    .flatMap((name) => groups.get(name)!.sort().map((value) => name + value))
    .join("");
}

/** The text Plivo signs for a request, before `.nonce`. */
export function signedBase(method: string, url: string, body: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url);
  if (!match) return url;
  const [, origin, path, query = ""] = match;
  let base = origin!.replace(/\/$/, "") + path!;
  const q = sortedQuery(query);
  const form = method === "POST" ? sortedForm(body) : "";
  if (form === "") return q ? `${base}?${q}` : base;
  base += `?${q}`;
  if (q) base += ".";
  return base + form;
}

/** null when the request carries a valid Plivo V3 signature made with `authToken`; else why not. */
export function verifyPlivo(request: CallbackRequest, authToken: string): string | null {
  const presented = request.headers.get("x-plivo-signature-v3");
  const nonce = request.headers.get("x-plivo-signature-v3-nonce");
  if (!presented || !nonce) return "the X-Plivo-Signature-V3 or X-Plivo-Signature-V3-Nonce header is missing";
  const base = signedBase(request.method, request.url, request.text);
  const expected = createHmac("sha256", authToken).update(`${base}.${nonce}`).digest("base64");
  // Every listed signature is compared, so the time taken does not say which one matched.
  let matched = false;
  for (const signature of presented.split(",")) matched = sameSignature(expected, signature.trim()) || matched;
  return matched ? null : "the X-Plivo-Signature-V3 does not match (check the auth token and --public-url)";
}
