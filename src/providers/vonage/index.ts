/**
 * Vonage (SMS API) as a `Provider`: delivery receipts at `<path>/vonage` by GET query, POST form or
 * POST JSON, with their `sig` checked against the signature secret before they are stored.
 */
import { duplicateKey } from "../../core/identity.ts";
import { formFields, requestFields } from "../form.ts";
import type { CallbackRequest, DecodedBody, Provider } from "../provider.ts";
import { PROVIDER, vonageEntry } from "./adapter.ts";
import { invalidField, VonageDeliveryReceipt } from "./schema.ts";
import { verifyVonage } from "./signature.ts";

/** A receipt is a flat object: more brackets than this is not one, and is not parsed. */
const MAX_BRACKETS = 32;

/** The receipt's fields: the query of a GET, the JSON or form body of a POST. */
function decode(request: CallbackRequest): DecodedBody {
  const text = request.text.trimStart();
  const json = text.startsWith("{") || /json/i.test(request.headers.get("content-type") ?? "");
  if (request.method === "GET" || !json) return { body: request.method === "GET" ? requestFields(request) : formFields(request.text) };
  let brackets = 0;
  for (let i = 0; i < text.length && brackets <= MAX_BRACKETS; i++) if (text[i] === "{" || text[i] === "[") brackets++;
  if (brackets > MAX_BRACKETS) return { invalid: { message: "the body must be a flat JSON object" } };
  try {
    const body: unknown = JSON.parse(text);
    if (body !== null && typeof body === "object" && !Array.isArray(body)) return { body: body as Record<string, unknown>, raw: request.text };
  } catch {}
  return { invalid: { message: "the body must be a JSON object" } };
}

/** Vonage checking `sig` with `secret`, or accepting every receipt when it is null. */
export function vonage(secret: string | null): Provider {
  return {
    name: PROVIDER,
    title: "Vonage",
    schema: VonageDeliveryReceipt,
    methods: ["GET", "POST"],
    ...(secret === null
      ? {}
      : {
          verify(request: CallbackRequest) {
            const decoded = decode(request);
            // A body that cannot be read cannot be signed: refused as unsigned, nothing written.
            return decoded.invalid ? "the body is not a delivery receipt, so its sig cannot be checked" : verifyVonage(decoded.body, secret);
          },
        }),
    decode,
    read(body, raw, receivedAt) {
      const invalid = invalidField(body);
      return invalid ? { invalid } : { entries: [{ entry: vonageEntry(body, receivedAt), raw: raw }] };
    },
    duplicateKey,
  };
}
