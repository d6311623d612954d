/**
 * Which entries a forwarder sends, from terms such as `dlr,failed,sms` or `changes`: the same for
 * `--forward-filter` and the plugin's `forward.filter`.
 */
import { CHANNELS, EntryKind } from "../core/entry.ts";
import { OUTCOMES } from "../core/outcome.ts";

/**
 * Each list empty means any; `final` keeps only final statuses; `changes` only the delivery
 * reports that change their message's status (outcome, status name, parts, parts delivered or
 * cost: what `onMessageStatus` is called for).
 */
export interface ForwardFilter {
  kinds: string[];
  outcomes: string[];
  channels: string[];
  final: boolean;
  changes: boolean;
}

export const FORWARD_EVERYTHING: ForwardFilter = { kinds: [], outcomes: [], channels: [], final: false, changes: false };

const KINDS: string[] = EntryKind.anyOf.map((k) => k.const);

/**
 * `dlr,failed,sms,final`: each term a kind, an outcome, a channel, `final` or `changes`; terms of
 * one sort are alternatives, sorts combine. Throws an Error naming the term it does not know.
 */
export function parseForwardFilter(raw: string): ForwardFilter {
  const filter: ForwardFilter = { kinds: [], outcomes: [], channels: [], final: false, changes: false };
  for (const term of raw.split(",").map((t) => t.trim()).filter(Boolean)) {
    if (term === "final") filter.final = true;
    else if (term === "changes") filter.changes = true;
    else if (KINDS.includes(term)) filter.kinds.push(term);
    else if ((OUTCOMES as readonly string[]).includes(term)) filter.outcomes.push(term);
    else if ((CHANNELS as readonly string[]).includes(term)) filter.channels.push(term);
    else
      throw new Error(
        `${JSON.stringify(term)} is not a kind (${KINDS.join(", ")}), an outcome (${OUTCOMES.join(", ")}), a channel (${CHANNELS.join(", ")}), final or changes`,
      );
  }
  return filter;
}

/** Whether the filter keeps anything less than everything. */
export function filters(filter: ForwardFilter): boolean {
  return filter.final || filter.changes || filter.kinds.length + filter.outcomes.length + filter.channels.length > 0;
}
