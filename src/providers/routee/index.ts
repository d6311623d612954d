/**
 * Routee as a `Provider`: one callback body is one entry, kept whole as the entry's `report`.
 * Routee signs nothing; its callbacks are protected by the token and the allowlist (http/access.ts).
 */
import { duplicateKey } from "../../core/identity.ts";
import type { Provider } from "../provider.ts";
import { PROVIDER, routeeEntry } from "./adapter.ts";
import { invalidField, RouteeCallback } from "./schema.ts";

export const routee: Provider = {
  name: PROVIDER,
  schema: RouteeCallback,
  read(body, raw, receivedAt) {
    const invalid = invalidField(body);
    if (invalid) return { invalid };
    return { entries: [{ entry: routeeEntry(body as RouteeCallback, receivedAt), raw }] };
  },
  duplicateKey,
};
