/**
 * Routee as a `Provider`: every callback Routee posts to one URL (SMS, Viber, WhatsApp, voice,
 * two-step verification, campaigns, failover) becomes entries (adapter.ts recognises the shape).
 * Routee signs nothing; its callbacks are protected by the token and the allowlist (http/access.ts).
 */
import { duplicateKey } from "../../core/identity.ts";
import type { Provider } from "../provider.ts";
import { PROVIDER, recognise, routeeEntries } from "./adapter.ts";
import { invalidField, RouteeCallback } from "./schema.ts";

export const routee: Provider = {
  name: PROVIDER,
  title: "Routee",
  schema: RouteeCallback,
  read(body, raw, receivedAt) {
    const shape = recognise(body);
    // Only an SMS delivery report has a schema to answer to; every other object is recorded.
    if (shape === "sms") {
      const invalid = invalidField(body);
      if (invalid) return { invalid };
    }
    // The first entry records the whole body; a failover's per-message entries record their message.
    return { entries: routeeEntries(body, receivedAt, shape).map((entry, i) => (i === 0 ? { entry, raw } : { entry })) };
  },
  duplicateKey,
};
