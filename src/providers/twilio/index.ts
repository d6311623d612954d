/**
 * Twilio as a `Provider`: form-encoded status callbacks at `<path>/twilio`, signed with the auth
 * token (`X-Twilio-Signature`, checked before anything is read), one entry per callback.
 */
import { duplicateKey } from "../../core/identity.ts";
import { formFields } from "../form.ts";
import type { Provider } from "../provider.ts";
import { PROVIDER, twilioEntry } from "./adapter.ts";
import { invalidField, TwilioCallback } from "./schema.ts";
import { verifyTwilio } from "./signature.ts";

/** Twilio checking signatures with `authToken`, or accepting every callback when it is null. */
export function twilio(authToken: string | null): Provider {
  return {
    name: PROVIDER,
    title: "Twilio",
    schema: TwilioCallback,
    ...(authToken === null ? {} : { verify: (request) => verifyTwilio(request, authToken) }),
    decode: (request) => ({ body: formFields(request.text) }),
    read(body, _raw, receivedAt) {
      const invalid = invalidField(body);
      return invalid ? { invalid } : { entries: [{ entry: twilioEntry(body, receivedAt) }] };
    },
    duplicateKey,
  };
}
