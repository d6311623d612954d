/**
 * Message status read back from the database, with the same answers as the log readers
 * (store/log-status.ts, store/log-report.ts): `lookup` folds the message's report rows with the
 * `MessageTracker`, as the log reader folds its lines; `report` sums SQLite's per-message rollup
 * (rollup.ts) or folds the current part rows of `sms_status_messages` (or, within a --since/--until
 * window, the report rows received in it, as the log reader does) with the same `ReportTally`.
 */
import type { SQL } from "bun";
import type { EntryKind, LogEntry } from "../../core/entry.ts";
import type { Outcome } from "../../core/outcome.ts";
import { inChannel, ReportTally, type ChannelFilter, type GroupBy, type Report, type ReportQuery } from "../../status/report.ts";
import { MessageFold, type MessageOutcome } from "../../status/rules.ts";
import { seriesDefaults, SeriesTally, STEP_CHARS, type Series, type SeriesQuery } from "../../status/series.ts";
import type { MessageSummary } from "../../status/table.ts";
import { messageKey, MessageTracker } from "../../status/tracker.ts";
import type { Lookup, MessageListQuery, MessagePage, StatusReader } from "../store.ts";
import type { MessageStatus } from "../../status/tracker.ts";
import { listMessageIds } from "./list.ts";
import { entryOf, type PartRow } from "./rows.ts";
import type { Engine } from "./schema.ts";

/** What `report` reads of a part row. */
export type PartRead = Pick<
  PartRow,
  "message_id" | "part" | "parts" | "status" | "detailed_status" | "price" | "latency" | "country" | "operator" | "campaign_tracking_id" | "label"
> & { outcome: Outcome; final: boolean | number; provider: string | null };

export class SqlStatus implements StatusReader {
  /**
   * @param name what `report` names as its source (`files`), e.g. the database's path or host
   */
  constructor(
    readonly sql: SQL,
    readonly engine: Engine,
    readonly name = engine === "sqlite" ? "sqlite" : "postgres",
  ) {}

  /** A page of messages, newest first (store/sql/list.ts), each with its status by the rules. */
  async messages(query: MessageListQuery): Promise<MessagePage> {
    const { ids, next } = await listMessageIds(this.sql, query);
    const messages: MessageStatus[] = [];
    for (const id of ids) {
      const found = await this.lookup(id, "all");
      if (found?.message) messages.push(found.message);
    }
    return { messages, next };
  }

  async lookup(id: string, channel: ChannelFilter = "all"): Promise<Lookup | null> {
    let reports = await this.#naming(id, channel);
    // An smsId names one part: the message is every report of its messageId.
    const part = reports.find((e) => e.kind === "dlr" && e.smsId === id && e.messageId !== null && e.messageId !== id);
    if (part) reports = await this.#naming(part.messageId!, channel);
    if (reports.length === 0) return null;
    const tracker = new MessageTracker();
    let key: string | null = null;
    for (const entry of reports) if (tracker.add(entry)) key ??= messageKey(entry);
    return { message: key === null ? null : tracker.get(key)!, reports };
  }

  async #naming(id: string, channel: ChannelFilter) {
    const sql = this.sql;
    const onChannel = channel === "all" ? sql`` : sql`AND (channel IS NULL OR channel = ${channel})`;
    const rows: Record<string, unknown>[] = await sql`SELECT * FROM sms_status_reports
      WHERE (message_id = ${id} OR sms_id = ${id} OR tracking_id = ${id}) AND kind <> 'rejected' ${onChannel}
      ORDER BY received_at, id`;
    return rows.map(entryOf);
  }

  /**
   * The last `n` reports passing `where` (kind, outcome, channel), oldest first, with their ids:
   * what `tail` prints first; `after` gives what came since (tail -f polls it by id).
   */
  async last(n: number, where: { kind?: string; outcome?: string; channel?: ChannelFilter }): Promise<{ id: number; entry: LogEntry }[]> {
    const sql = this.sql;
    const channel = where.channel ?? "all";
    const rows: Record<string, unknown>[] = await sql`SELECT * FROM sms_status_reports WHERE
      ${where.kind ? sql`kind = ${where.kind}` : sql`TRUE`} AND ${where.outcome ? sql`outcome = ${where.outcome}` : sql`TRUE`}
      AND ${channel === "all" ? sql`TRUE` : sql`(channel IS NULL OR channel = ${channel})`}
      ORDER BY id DESC LIMIT ${n}`;
    return rows.reverse().map((row) => ({ id: Number(row.id), entry: entryOf(row) }));
  }

  /** Reports with an id above `id`, in order, up to `limit`. */
  async after(id: number, limit = 1000): Promise<{ id: number; entry: LogEntry }[]> {
    const rows: Record<string, unknown>[] = await this.sql`SELECT * FROM sms_status_reports WHERE id > ${id} ORDER BY id LIMIT ${limit}`;
    return rows.map((row) => ({ id: Number(row.id), entry: entryOf(row) }));
  }

  /** The highest report id (0 when empty). */
  async lastId(): Promise<number> {
    const [{ id }] = await this.sql`SELECT COALESCE(MAX(id), 0) AS id FROM sms_status_reports`;
    return Number(id);
  }

  /** The buckets grouped in the database: one row per bucket, outcome and failure. */
  async series(options: SeriesQuery): Promise<Series> {
    const sql = this.sql;
    const query = seriesDefaults(options);
    const { since, until, channel } = query;
    const chars = STEP_CHARS[query.step];
    const rows: { bucket: string; outcome: string; reason: string | null; n: unknown }[] = await sql`
      SELECT substr(received_at, 1, ${chars}) AS bucket, outcome, COALESCE(detailed_status, status) AS reason, COUNT(*) AS n
      FROM sms_status_reports
      WHERE kind = 'dlr'
        AND ${since === null ? sql`TRUE` : sql`received_at >= ${since}`} AND ${until === null ? sql`TRUE` : sql`received_at < ${until}`}
        AND ${channel === "all" ? sql`TRUE` : sql`(channel IS NULL OR channel = ${channel})`}
      GROUP BY 1, 2, 3`;
    const tally = new SeriesTally(query);
    for (const row of rows) tally.add(row.bucket, row.outcome, row.outcome === "failed" ? row.reason : null, Number(row.n));
    return tally.finish();
  }

  async report(query: ReportQuery): Promise<Report> {
    const sql = this.sql;
    const since = query.since ?? null;
    const until = query.until ?? null;
    const channel = query.channel ?? "sms";
    const windowed = since !== null || until !== null;
    const inWindow = sql`${since === null ? sql`TRUE` : sql`received_at >= ${since}`} AND ${until === null ? sql`TRUE` : sql`received_at < ${until}`}`;
    const onChannel = channel === "all" ? sql`TRUE` : sql`(channel IS NULL OR channel = ${channel})`;

    const [{ total }] = await sql`SELECT COUNT(*) AS total FROM sms_status_reports`;
    const [{ inside }] = windowed
      ? await sql`SELECT COUNT(*) AS inside FROM sms_status_reports WHERE ${inWindow}`
      : [{ inside: total }];
    const callbacks: Record<EntryKind, number> = { dlr: 0, inbound: 0, campaign: 0, other: 0, rejected: 0 };
    const kinds: { kind: EntryKind; n: unknown }[] =
      await sql`SELECT kind, COUNT(*) AS n FROM sms_status_reports WHERE ${inWindow} AND ${onChannel} GROUP BY kind`;
    for (const { kind, n } of kinds) if (kind in callbacks) callbacks[kind] = Number(n);

    const tally = new ReportTally(query.by ?? null);
    if (windowed) {
      // A window counts only the reports received in it, so the status is folded from them.
      const tracker = new MessageTracker();
      const rows: Record<string, unknown>[] = await sql`SELECT * FROM sms_status_reports
        WHERE kind = 'dlr' AND ${inWindow} AND ${onChannel} ORDER BY id`;
      for (const row of rows) {
        const entry = entryOf(row);
        if (inChannel(entry.channel, channel)) tracker.add(entry);
      }
      for (const message of tracker.messages()) tally.add(message);
    } else if (this.engine === "sqlite" && query.by !== "provider" && channel !== "all") {
      // The rollup is per channel; --by provider (its first report's) and --channel all fold below.
      await this.#tallyRollup(tally, channel, query.by ?? null);
    } else {
      // A part's provider is its first report's.
      const rows: PartRead[] = await sql`SELECT message_id, part, parts, outcome, final, status, detailed_status,
        price, latency, country, operator, campaign_tracking_id, label,
        (SELECT provider FROM sms_status_reports WHERE id = first_report) AS provider
        FROM sms_status_messages ${channel === "all" ? sql`` : sql`WHERE channel = ${channel}`}
        ORDER BY message_id, first_report`;
      foldMessages(rows, (m) => tally.add(m));
    }
    return {
      files: [this.name],
      channel,
      since,
      until,
      lines: { read: Number(total), unparseable: 0, outsideWindow: Number(total) - Number(inside) },
      callbacks,
      ...tally.finish(),
    };
  }

  /** The channel's messages summed from the rollup (rollup.ts): one GROUP BY, so one snapshot. */
  async #tallyRollup(tally: ReportTally, channel: string, by: GroupBy | null): Promise<void> {
    const key = by === null || by === "provider" ? "NULL" : by === "status" ? "status" : GROUP_COLUMN[by];
    const rows: { outcome: MessageOutcome; key: string | null; reason: string | null; latency: number | null; n: unknown; micros: unknown }[] =
      await this.sql.unsafe(
        `SELECT outcome, ${key} AS key, reason, CASE WHEN outcome = 'delivered' THEN latency END AS latency,
          COUNT(*) AS n, COALESCE(SUM(micros), 0) AS micros
        FROM sms_status_rollup WHERE channel = $1 GROUP BY 1, 2, 3, 4`,
        [channel],
      );
    for (const row of rows) {
      const n = Number(row.n);
      tally.addCounted(n, row.outcome, Number(row.micros), row.key);
      if (row.reason !== null) tally.addFailures(row.reason, n);
      if (row.latency !== null) tally.addLatency(Number(row.latency), n);
    }
  }
}

/** The columns `--by` reads (`status` is the decisive part's, by the rules). */
const GROUP_COLUMN: Record<Exclude<GroupBy, "status" | "provider">, string> = {
  country: "country",
  operator: "operator",
  campaign: "campaign_tracking_id",
  label: "label",
};

const fold = new MessageFold();

/**
 * Part rows, grouped by message and in the order first reported, into message summaries (as
 * `MessageTracker` derives them: parts in part order, the first non-null of the message's fields).
 */
export function foldMessages(rows: PartRead[], visit: (message: MessageSummary) => void): void {
  let start = 0;
  while (start < rows.length) {
    let end = start + 1;
    while (end < rows.length && rows[end]!.message_id === rows[start]!.message_id) end++;
    const first = rows.slice(start, end);
    // Stable: parts of the same number stay in the order first reported.
    const parts = [...first].sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
    fold.reset();
    let declared = 1;
    parts.forEach((p, i) => {
      declared = Math.max(declared, p.parts);
      fold.part(i, p.outcome, Boolean(p.final), p.price === null ? null : Number(p.price), p.latency === null ? null : Number(p.latency));
    });
    const outcome = fold.outcome(declared);
    const decisive = parts[fold.decisive()];
    visit({
      outcome,
      cost: fold.cost(),
      latency: fold.latency(),
      status: fold.status(decisive?.outcome, decisive?.status ?? null),
      detailedStatus: decisive?.detailed_status ?? null,
      country: first.find((p) => p.country !== null)?.country ?? null,
      operator: first.find((p) => p.operator !== null)?.operator ?? null,
      campaignTrackingId: first.find((p) => p.campaign_tracking_id !== null)?.campaign_tracking_id ?? null,
      label: first.find((p) => p.label !== null)?.label ?? null,
      provider: first[0]!.provider ?? "",
    });
    start = end;
  }
}
