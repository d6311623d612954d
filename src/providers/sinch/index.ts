/**
 * Sinch SMS as a `Provider`: delivery reports (JSON) at `<path>/sinch`, checked against Sinch's
 * HMAC signature unless the operator said `--sinch-unsigned`.
 */
import { jsonProvider } from "../fields.ts";
import type { Provider } from "../provider.ts";
import { PROVIDER, sinchEntries } from "./adapter.ts";
import { SinchReport } from "./schema.ts";
import { sinchVerifier } from "./signature.ts";

/** Sinch with its HMAC secret, or unsigned (no secret). */
export function sinch(secret: string | null): Provider {
  return jsonProvider({
    name: PROVIDER,
    title: "Sinch",
    schema: SinchReport,
    entries: sinchEntries,
    verify: secret === null ? null : sinchVerifier(secret),
  });
}
