/** Which reports are the same report: the key a retry shares with the report it repeats. */
import { createHash } from "node:crypto";
import type { LogEntry } from "./entry.ts";

/**
 * The identity of one callback, for duplicate detection. A status report (`dlr`) is its part
 * (`smsId`, else `messageId` + `part`, else `trackingId`), its status name and the status's date,
 * on its channel: the same status again is a retry whatever else changed. Any other callback
 * (inbound, campaign, other) is its body: the same body again is a retry. Rejected bodies have none.
 */
export function duplicateKey(entry: LogEntry): string | null {
  if (entry.kind === "rejected") return null;
  // Length-prefixed and tagged, so that no choice of field values makes two reports one key
  // (an smsId "m#1" is not messageId "m" part 1; a separator inside a value moves nothing).
  const part =
    entry.kind !== "dlr"
      ? null
      : entry.smsId !== null
        ? `s${entry.smsId.length}:${entry.smsId}`
        : entry.messageId !== null
          ? `m${entry.messageId.length}:${entry.messageId}#${entry.part ?? ""}`
          : entry.trackingId !== null
            ? `t${entry.trackingId.length}:${entry.trackingId}`
            : null;
  if (part === null) return `${entry.provider}\u0000${entry.kind}\u0000b:${bodyHash(entry.report)}`;
  const status = entry.status ?? "";
  // Logs written before channels existed hold SMS reports only.
  const channel = entry.channel ?? "sms";
  return `${entry.provider}\u0000${channel}\u0000${part}\u0000${status.length}:${status}\u0000${entry.updatedDate ?? ""}`;
}

/** SHA-256 of the body as parsed: the same whether it comes from a request or back from the log. */
function bodyHash(report: unknown): string {
  return createHash("sha256").update(JSON.stringify(report) ?? "").digest("base64");
}
