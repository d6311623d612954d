/**
 * Telnyx as a `Provider`: messaging webhooks (JSON) at `<path>/telnyx`, checked against Telnyx's
 * Ed25519 signature unless the operator said `--telnyx-unsigned`.
 */
import { jsonProvider } from "../fields.ts";
import type { Provider } from "../provider.ts";
import { PROVIDER, telnyxEntries } from "./adapter.ts";
import { TelnyxEvent } from "./schema.ts";
import { telnyxVerifier } from "./signature.ts";

/** Telnyx with its public key (base64), or unsigned (no key). */
export function telnyx(publicKey: string | null): Provider {
  return jsonProvider({
    name: PROVIDER,
    title: "Telnyx",
    schema: TelnyxEvent,
    entries: telnyxEntries,
    verify: publicKey === null ? null : telnyxVerifier(publicKey),
  });
}
