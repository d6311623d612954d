/**
 * Plivo as a `Provider`: status callbacks at `<path>/plivo`, POSTed as a form or sent as a GET's
 * query, signed with the auth token (`X-Plivo-Signature-V3`, checked before anything is read).
 */
import { duplicateKey } from "../../core/identity.ts";
import { requestFields } from "../form.ts";
import type { Provider } from "../provider.ts";
import { plivoEntry, PROVIDER } from "./adapter.ts";
import { invalidField, PlivoCallback } from "./schema.ts";
import { verifyPlivo } from "./signature.ts";

/** Plivo checking signatures with `authToken`, or accepting every callback when it is null. */
export function plivo(authToken: string | null): Provider {
  return {
    name: PROVIDER,
    title: "Plivo",
    schema: PlivoCallback,
    methods: ["GET", "POST"],
    ...(authToken === null ? {} : { verify: (request) => verifyPlivo(request, authToken) }),
    decode: (request) => ({ body: requestFields(request) }),
    read(body, _raw, receivedAt) {
      const invalid = invalidField(body);
      return invalid ? { invalid } : { entries: [{ entry: plivoEntry(body, receivedAt) }] };
    },
    duplicateKey,
  };
}
