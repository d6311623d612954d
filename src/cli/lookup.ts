/** `sms-status lookup ID`: one message's parts, every callback for it, its status and cost. */
import { LogStatus } from "../store/log-status.ts";
import type { Lookup } from "../store/store.ts";
import { databaseFrom, DATABASE_URL_OPTION, DB_OPTION, statusOf, using } from "./database.ts";
import { CommandError, UsageError } from "./errors.ts";
import { parseFlags, type Env } from "./flags.ts";
import { CHANNEL_OPTION, channelFlag, JSON_OPTION, jsonText, LOG_OPTION, logFiles, safe, table, type Command, type OptionSpec } from "./output.ts";

const dash = (value: unknown) => (value === null || value === undefined || value === "" ? "-" : safe(value));

/** What a channel's message is called in a sentence. */
const NOUN: Record<string, string> = {
  sms: "Message",
  viber: "Viber message",
  whatsapp: "WhatsApp message",
  voice: "Voice call",
  verification: "Verification",
  failover: "Failover flow",
};

/** The lookup as a person reads it: the message's status, its parts, then every callback naming it. */
export function renderLookup({ message: m, reports }: Lookup): string {
  const out: string[] = [];
  if (m) {
    const first = reports.find((r) => r.kind === "dlr") ?? reports[0]!;
    const delivered = m.partStatuses.filter((p) => p.outcome === "delivered").length;
    const detail = m.detailedStatus && m.detailedStatus !== m.status ? `: ${safe(m.detailedStatus)}` : "";
    out.push(
      `${NOUN[m.channel] ?? "Message"} ${safe(m.messageId)}: ${m.outcome.toUpperCase()} (${dash(m.status)}${detail}), ` +
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
    );
  } else {
    out.push("No delivery report names this id; the callbacks that do are below.", "");
  }
  out.push(
    `Callbacks received (${reports.length}):`,
    table(
      [
        ["received", "kind", "channel", "part", "status", "detailed status", "updated", "price", "description"],
        ...reports.map((r) => [
          dash(r.receivedAt),
          dash(r.kind),
          dash(r.channel),
          dash(r.part),
          dash(r.status),
          dash(r.detailedStatus),
          dash(r.updatedDate),
          dash(r.price),
          dash(r.description),
        ]),
      ],
      new Set([7]),
    ),
  );
  return out.join("\n");
}

export const LOOKUP_FLAGS: OptionSpec[] = [LOG_OPTION, CHANNEL_OPTION, JSON_OPTION, DB_OPTION, DATABASE_URL_OPTION];

export const lookup: Command = {
  usage: "lookup ID [--log FILE]... [FILE...] [--db FILE | --database-url URL] [--channel C] [--json]   (ID: messageId, smsId or trackingId)",
  flags: LOOKUP_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values, positionals } = parseFlags(args, LOOKUP_FLAGS, true);
    const [messageId, ...files] = positionals;
    if (!messageId || messageId.trim() === "") throw new UsageError("lookup needs an ID (a messageId, smsId or trackingId)");
    const channel = channelFlag(values.channel as string | undefined, "all");
    const db = databaseFrom(values, env, values.log !== undefined || files.length > 0);
    const paths = db ? [db.name] : logFiles(values.log as string[] | undefined, files, env);
    const found = db ? await using(db, (d) => statusOf(d).lookup(messageId, channel)) : await new LogStatus(paths).lookup(messageId, channel);
    if (!found) throw new CommandError(`no callback names ${safe(JSON.stringify(messageId))} in ${paths.map(safe).join(", ")}`);
    process.stdout.write(values.json ? jsonText(found) : renderLookup(found));
  },
};
