/**
 * Infobip's delivery reports turned into entries: one `dlr` per item of `results` (up to 100 per
 * request), all stored in one write, so the 200 means every one is stored. The first entry keeps
 * the whole body as its `report`, each other one its own item.
 *
 * - `status` is the status `name` (DELIVERED_TO_HANDSET), `detailedStatus` the error's name when
 *   there is an error (id not 0), `description` the error's or else the status's description.
 * - `updatedDate` is `doneAt` (milliseconds, `+0000`), else `sentAt`.
 * - `price` is `pricePerMessage` × `smsCount`: Infobip prices each SMS part, one report covers them all.
 * - `label` is `callbackData`, `operator` the `mccMnc`; `bulkId` stays in the report.
 * - A body without reports is one `other` entry.
 */
import { blankEntry, type ReceivedEntry } from "../../core/entry.ts";
import { num, obj, str, type Json } from "../fields.ts";
import { classify } from "./classify.ts";

export const PROVIDER = "infobip";

export function infobipEntries(body: Json, raw: string, receivedAt?: Date): ReceivedEntry[] {
  const results = Array.isArray(body.results) ? body.results : [];
  if (results.length === 0) return [{ entry: blankEntry(PROVIDER, "other", body, receivedAt), raw }];
  return results.map((item, i): ReceivedEntry => {
    const result = obj(item) ?? {};
    const entry = blankEntry(PROVIDER, "dlr", i === 0 ? body : result, receivedAt, "sms");
    const status = obj(result.status);
    const error = obj(result.error);
    const failure = error !== null && num(error.id) !== 0 ? error : null;
    Object.assign(entry, classify(str(status?.name), str(status?.groupName)));
    entry.status = str(status?.name) ?? str(status?.groupName);
    entry.detailedStatus = str(failure?.name);
    entry.description = str(failure?.description) ?? str(status?.description);
    entry.messageId = str(result.messageId);
    entry.to = str(result.to);
    entry.updatedDate = str(result.doneAt) ?? str(result.sentAt);
    const perMessage = num(obj(result.price)?.pricePerMessage);
    entry.price = perMessage === null ? null : Math.round(perMessage * (num(result.smsCount) ?? 1) * 1e6) / 1e6;
    entry.operator = str(result.mccMnc);
    entry.label = str(result.callbackData);
    return i === 0 ? { entry, raw } : { entry };
  });
}
