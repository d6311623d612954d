/**
 * The log entry: one per callback received, whatever the provider. Its renderings are in
 * render.ts; its fields are the same in the file log and the databases.
 */
import { Type, type Static } from "@sinclair/typebox";
import { OUTCOMES } from "./outcome.ts";

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Number>>(t: T) =>
  Type.Union([t, Type.Null()]);

/**
 * What a callback is: `dlr`, a status of a message you sent (on any channel); `inbound`, a message
 * you received; `campaign`, a campaign's progress; `other`, any other object; `rejected`, a body
 * refused (kept as received).
 */
export const EntryKind = Type.Union([
  Type.Literal("dlr"),
  Type.Literal("inbound"),
  Type.Literal("campaign"),
  Type.Literal("other"),
  Type.Literal("rejected"),
]);
export type EntryKind = Static<typeof EntryKind>;

/** The channels a provider reports on; null when a callback has none (rejected, unknown objects). */
export const CHANNELS = ["sms", "viber", "whatsapp", "voice", "verification", "failover"] as const;
export type Channel = (typeof CHANNELS)[number];

export const LogEntry = Type.Object(
  {
    receivedAt: Type.String({ description: "When the callback arrived, ISO 8601 with milliseconds (UTC)" }),
    provider: Type.String({ description: "Which adapter read the callback, e.g. `routee`" }),
    kind: EntryKind,
    channel: Type.Union([...CHANNELS.map((c) => Type.Literal(c)), Type.Null()], {
      description: "sms, viber, whatsapp, voice, verification or failover; null for rejected and unknown callbacks",
    }),
    outcome: Type.Union(OUTCOMES.map((o) => Type.Literal(o))),
    final: Type.Boolean(),
    messageId: Nullable(Type.String()),
    smsId: Nullable(Type.String()),
    trackingId: Nullable(Type.String({ description: "Viber, two-step verification, campaign and failover ids" })),
    part: Nullable(Type.Number()),
    parts: Nullable(Type.Number()),
    to: Nullable(Type.String()),
    from: Nullable(Type.String()),
    status: Nullable(Type.String({ description: "The status name exactly as the provider sent it" })),
    detailedStatus: Nullable(Type.String()),
    description: Nullable(Type.String()),
    updatedDate: Nullable(Type.String({ description: "When the provider says the status changed (or the message arrived)" })),
    price: Nullable(Type.Number()),
    latency: Nullable(Type.Number()),
    country: Nullable(Type.String()),
    operator: Nullable(Type.String()),
    campaignTrackingId: Nullable(Type.String()),
    campaignName: Nullable(Type.String()),
    label: Nullable(Type.String()),
    poolName: Nullable(Type.String({ description: "The SMS pool of a pool report or pool inbound message" })),
    sequence: Type.Optional(
      Type.Number({
        description:
          "The provider's order of this report among the message's reports (Plivo's `Sequence`, Twilio's status order); only from providers that give one",
      }),
    ),
    report: Type.Unknown({ description: "The body as received (for `rejected`: the raw text)" }),
    error: Type.Optional(
      Type.Object({ reason: Type.String(), field: Type.Optional(Type.String()), message: Type.String() }),
    ),
  },
  { title: "LogEntry" },
);
export type LogEntry = Static<typeof LogEntry>;

let lastMs = -1;
let lastIso = "";

/** Now, as ISO 8601 with milliseconds; formatted once per millisecond however many reports share it. */
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/**
 * An entry read back from a log written before channels existed (0.1.0): the fields it lacks, as
 * that version meant them (every delivery report and campaign was SMS). Newer entries are unchanged.
 */
export function upgradeEntry<T extends Partial<LogEntry> & Pick<LogEntry, "kind">>(entry: T): T {
  if (entry.channel !== undefined) return entry;
  entry.channel = entry.kind === "dlr" || entry.kind === "campaign" ? "sms" : null;
  entry.trackingId ??= entry.kind === "campaign" ? (entry.campaignTrackingId ?? null) : null;
  entry.campaignName ??= null;
  entry.poolName ??= null;
  return entry;
}

/** An entry with every field empty, for adapters to fill in. */
export function blankEntry(
  provider: string,
  kind: EntryKind,
  report: unknown,
  receivedAt?: Date,
  channel: Channel | null = null,
): LogEntry {
  return {
    receivedAt: receivedAt ? receivedAt.toISOString() : nowIso(),
    provider,
    kind,
    channel,
    outcome: "unknown",
    final: false,
    messageId: null,
    smsId: null,
    trackingId: null,
    part: null,
    parts: null,
    to: null,
    from: null,
    status: null,
    detailedStatus: null,
    description: null,
    updatedDate: null,
    price: null,
    latency: null,
    country: null,
    operator: null,
    campaignTrackingId: null,
    campaignName: null,
    label: null,
    poolName: null,
    report,
  };
}

/**
 * Set the provider's ordering hint (`sequence`), which decides between two reports of a part when
 * their ranks and dates do not. It goes before `report`, where readers that scan a line's fields
 * in order (status/scan.ts) look for it; an entry without one has no `sequence` field at all.
 */
export function setSequence(entry: LogEntry, sequence: number | null): void {
  if (sequence === null || !Number.isFinite(sequence)) return;
  const { report, error } = entry;
  delete (entry as Partial<LogEntry>).report;
  delete entry.error;
  entry.sequence = sequence;
  entry.report = report;
  if (error !== undefined) entry.error = error;
}

/** An entry a provider made from a callback, with the body's text when the entry records it whole. */
export interface ReceivedEntry {
  entry: LogEntry;
  /** The body as received; `renderJsonl` writes it as the `report` field without serialising again. */
  raw?: string;
}
