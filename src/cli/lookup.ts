/** `sms-status lookup MESSAGE_ID`: one message's parts, every report for it, its status and cost. */
import { LogStatus } from "../store/log-status.ts";
import type { Lookup } from "../store/store.ts";
import { CommandError, UsageError } from "./errors.ts";
import { parseFlags, type Env } from "./flags.ts";
import { JSON_OPTION, LOG_OPTION, logFiles, safe, table, type Command, type OptionSpec } from "./output.ts";

const dash = (value: unknown) => (value === null || value === undefined || value === "" ? "-" : safe(value));

/** The lookup as a person reads it. */
export function renderLookup({ message: m, reports }: Lookup): string {
  const first = reports[0]!;
  const delivered = m.partStatuses.filter((p) => p.outcome === "delivered").length;
  const detail = m.detailedStatus && m.detailedStatus !== m.status ? `: ${safe(m.detailedStatus)}` : "";
  const out = [
    `Message ${safe(m.messageId)}: ${m.outcome.toUpperCase()} (${dash(m.status)}${detail}), ` +
      `${delivered} of ${m.parts} part${m.parts === 1 ? "" : "s"} delivered, cost ${dash(m.cost)}`,
    `To ${dash(first.to)} from ${dash(first.from)}; country ${dash(m.country)}, operator ${dash(m.operator)}, ` +
      `label ${dash(m.label)}, campaign ${dash(m.campaignTrackingId)}`,
    "",
    table(
      [
        ["Part", "smsId", "status", "detailed status", "updated", "price", "latency", "reports"],
        ...m.partStatuses.map((p) => [
          dash(p.part),
          dash(p.key),
          dash(p.status),
          dash(p.detailedStatus),
          dash(p.updatedDate),
          dash(p.price),
          dash(p.latency),
          String(p.reports),
        ]),
      ],
      new Set([5, 6, 7]),
    ),
    `Reports received (${reports.length}):`,
    table(
      [
        ["received", "part", "status", "detailed status", "updated", "price", "description"],
        ...reports.map((r) => [
          dash(r.receivedAt),
          dash(r.part),
          dash(r.status),
          dash(r.detailedStatus),
          dash(r.updatedDate),
          dash(r.price),
          dash(r.description),
        ]),
      ],
      new Set([5]),
    ),
  ];
  return out.join("\n");
}

export const LOOKUP_FLAGS: OptionSpec[] = [LOG_OPTION, JSON_OPTION];

export const lookup: Command = {
  usage: "lookup MESSAGE_ID [--log FILE]... [FILE...] [--json]",
  flags: LOOKUP_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values, positionals } = parseFlags(args, LOOKUP_FLAGS, true);
    const [messageId, ...files] = positionals;
    if (!messageId || messageId.trim() === "") throw new UsageError("lookup needs a MESSAGE_ID");
    const paths = logFiles(values.log as string[] | undefined, files, env);
    const found = await new LogStatus(paths).lookup(messageId);
    if (!found) throw new CommandError(`no delivery report for message ${JSON.stringify(messageId)} in ${paths.join(", ")}`);
    process.stdout.write(values.json ? JSON.stringify(found, null, 2) + "\n" : renderLookup(found));
  },
};
