/**
 * Telnyx as a `Provider`: messaging webhooks (JSON) at `<path>/telnyx`, checked against Telnyx's
 * Ed25519 signature unless the operator said `--telnyx-unsigned`.
 */
import { duplicateKey } from "../../core/identity.ts";
import { schemaCheck } from "../fields.ts";
import type { Provider } from "../provider.ts";
import { PROVIDER, telnyxEntries } from "./adapter.ts";
import { TelnyxEvent } from "./schema.ts";
import { telnyxVerifier } from "./signature.ts";

const invalidField = schemaCheck(TelnyxEvent);

/** Telnyx with its public key (base64), or unsigned (no key). */
export function telnyx(publicKey: string | null): Provider {
  return {
    name: PROVIDER,
    title: "Telnyx",
    schema: TelnyxEvent,
    read(body, raw, receivedAt) {
      const invalid = invalidField(body);
      return invalid ? { invalid } : { entries: telnyxEntries(body, raw, receivedAt) };
    },
    duplicateKey,
    ...(publicKey === null ? {} : { verify: telnyxVerifier(publicKey) }),
  };
}
