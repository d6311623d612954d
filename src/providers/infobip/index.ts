/**
 * Infobip as a `Provider`: SMS delivery reports (JSON, `results`) at `<path>/infobip`. Infobip
 * signs nothing (a subscription may add basic auth or mTLS): the token and the allowlist protect it.
 */
import { jsonProvider } from "../fields.ts";
import { infobipEntries, PROVIDER } from "./adapter.ts";
import { InfobipReports } from "./schema.ts";

/**
 * A report holds about 48 `{ [ , :`; 100 of them (Infobip's most per request) would pass the
 * default bound of 2048 by far. Room for 100 reports of ~80, still bounding what a body costs.
 */
export const INFOBIP_MAX_JSON_STRUCTURE = 8192;

export const infobip = jsonProvider({
  name: PROVIDER,
  title: "Infobip",
  schema: InfobipReports,
  entries: infobipEntries,
  maxJsonStructure: INFOBIP_MAX_JSON_STRUCTURE,
});
