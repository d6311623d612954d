/** Which reports are the same report: the key a retry shares with the report it repeats. */
import type { LogEntry } from "./entry.ts";

/**
 * The identity of one status report: the part (`smsId`, else `messageId` + `part`), the status name
 * and its `updatedDate`. Only per-SMS reports have one.
 */
export function duplicateKey(entry: LogEntry): string | null {
  if (entry.kind !== "dlr") return null;
  // Length-prefixed and tagged, so that no choice of field values makes two reports one key
  // (an smsId "m#1" is not messageId "m" part 1; a separator inside a value moves nothing).
  const part =
    entry.smsId !== null
      ? `s${entry.smsId.length}:${entry.smsId}`
      : entry.messageId !== null
        ? `m${entry.messageId.length}:${entry.messageId}#${entry.part ?? ""}`
        : null;
  if (part === null) return null;
  const status = entry.status ?? "";
  return `${entry.provider}\u0000${part}\u0000${status.length}:${status}\u0000${entry.updatedDate ?? ""}`;
}
