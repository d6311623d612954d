/**
 * Message status read back from the database, with the same answers as the log readers
 * (store/log-status.ts, store/log-report.ts): `lookup` folds the message's report rows with the
 * `MessageTracker`, as the log reader folds its lines; `report` sums SQLite's per-message rollup
 * (rollup.ts) or folds the current part rows of `sms_status_messages` (or, within a --since/--until
 * window, the report rows received in it, as the log reader does) with the same `ReportTally`.
 * `message` (the read API's hot path) answers what `lookup` does from the message's part rows when
 * they say it exactly (see `messageFromParts`), and from `lookup` otherwise.
 */
import type { SQL } from "bun";
import { Database } from "bun:sqlite";
import type { EntryKind, LogEntry } from "../../core/entry.ts";
import type { Outcome } from "../../core/outcome.ts";
import { inChannel, ReportTally, type ChannelFilter, type GroupBy, type Report, type ReportQuery } from "../../status/report.ts";
import { compareReceived, MessageFold, type MessageOutcome } from "../../status/rules.ts";
import { seriesDefaults, SeriesTally, STEP_CHARS, type Series, type SeriesQuery } from "../../status/series.ts";
import type { MessageSummary } from "../../status/table.ts";
import { deriveMessage, messageKey, MessageTracker, type PartState } from "../../status/tracker.ts";
import type { Lookup, MessageListQuery, MessagePage, StatusReader } from "../store.ts";
import type { MessageStatus } from "../../status/tracker.ts";
import { listMessageIds } from "./list.ts";
import { PRUNED } from "./prune.ts";
import { entryOf, type PartRow } from "./rows.ts";
import type { Engine } from "./schema.ts";

/** What `report` reads of a part row. */
export type PartRead = Pick<
  PartRow,
  "message_id" | "part" | "parts" | "status" | "detailed_status" | "price" | "latency" | "country" | "operator" | "campaign_tracking_id" | "label"
> & { outcome: Outcome; final: boolean | number; provider: string | null };

/** A part row as `message` reads it, with the latest prune's cut. */
export type PartOfMessage = Pick<
  PartRow,
  | "part_key" | "channel" | "part" | "parts" | "outcome" | "status" | "detailed_status" | "updated_date" | "received_at"
  | "price" | "latency" | "country" | "operator" | "campaign_tracking_id" | "label" | "first_report"
> & { final: boolean | number; rank: number; reports: number; provider: string | null; first_received_at: string | null; last_received_at: string | null; pruned: string | null };

/** How much of the view's file the API's reader maps. */
const READER_MMAP_BYTES = 256 << 20;

/** The queries of `message`, with the engine's placeholder for the id. */
const QUERIES = (p: string) => ({
  parts: `SELECT part_key, channel, part, parts, outcome, final, rank, status, detailed_status, updated_date, received_at,
    price, latency, country, operator, campaign_tracking_id, label, reports, first_report, provider, first_received_at,
    last_received_at, (SELECT position FROM sms_status_position WHERE source = '${PRUNED}') AS pruned
    FROM sms_status_messages WHERE message_id = ${p}`,
  // A report naming the id that belongs to another message: lookup's fold would start there.
  // (`kind` inside CASE: SQLite would otherwise search the kind index, a scan of every report.)
  others: `SELECT EXISTS (SELECT 1 FROM sms_status_reports WHERE (sms_id = ${p} OR tracking_id = ${p})
    AND CASE WHEN kind = 'dlr' THEN COALESCE(message_id, tracking_id) END <> ${p}) AS found`,
  // The message an smsId names, as lookup finds it.
  ofPart: `SELECT message_id FROM sms_status_reports WHERE sms_id = ${p} AND CASE WHEN kind = 'dlr' THEN message_id END <> ${p}
    ORDER BY received_at, id LIMIT 1`,
  any: `SELECT EXISTS (SELECT 1 FROM sms_status_reports WHERE (message_id = ${p} OR sms_id = ${p} OR tracking_id = ${p})
    AND kind <> 'rejected') AS found`,
});
type Query = keyof ReturnType<typeof QUERIES>;

export class SqlStatus implements StatusReader {
  readonly #db: Database | null;
  readonly #queries: Record<Query, string>;
  /** How `message` answered: from part rows, or folded from the reports by `lookup`. */
  readonly answered = { fromParts: 0, fromReports: 0 };

  /**
   * @param name what `report` names as its source (`files`), e.g. the database's path or host
   * @param file the SQLite file, read by `message` on bun:sqlite's cached statements (Bun.SQL
   *   prepares each query anew: most of a lookup's time)
   */
  constructor(
    readonly sql: SQL,
    readonly engine: Engine,
    readonly name = engine === "sqlite" ? "sqlite" : "postgres",
    file?: string,
  ) {
    this.#db = file === undefined ? null : new Database(file, { readonly: true });
    // Pages read through a memory map, not a read() each into a 2 MB cache: random ids over a
    // large view took half the time per request (file-backed pages: the kernel reclaims them).
    this.#db?.run(`PRAGMA mmap_size = ${READER_MMAP_BYTES}`);
    this.#queries = QUERIES(engine === "sqlite" ? "?1" : "$1");
  }

  async #all<T>(query: Query, id: string): Promise<T[]> {
    if (!this.#db) return this.sql.unsafe(this.#queries[query], [id]);
    this.#snapshot(this.#db);
    return this.#db.query(this.#queries[query]).all(id) as T[];
  }

  /** The read transaction of this turn, ended by the immediate. */
  #snapshotEnd: ReturnType<typeof setImmediate> | null = null;

  /**
   * The reads of one event-loop turn share one read transaction: outside one, each statement takes
   * and drops the WAL's read lock (fcntl and fstat calls, about 6 µs; 0.6 µs inside one). The
   * snapshot is at most a turn old, and a turn holds off no writer (WAL).
   */
  #snapshot(db: Database): void {
    if (this.#snapshotEnd) return;
    db.run("BEGIN");
    this.#snapshotEnd = setImmediate(() => {
      this.#snapshotEnd = null;
      db.run("COMMIT");
    });
  }

  async #exists(query: Query, id: string): Promise<boolean> {
    const [row] = await this.#all<{ found: unknown }>(query, id);
    return Boolean(Number(row?.found));
  }

  /** `lookup(id, "all")` without the reports: what `GET /v1/messages/{id}` answers. */
  async message(id: string): Promise<{ message: MessageStatus | null } | null> {
    let key = id;
    let parts = await this.#all<PartOfMessage>("parts", id);
    if (parts.length === 0) {
      const [part] = await this.#all<{ message_id: string }>("ofPart", id);
      if (part) parts = await this.#all<PartOfMessage>("parts", (key = part.message_id));
      else if (!(await this.#exists("any", id))) return null;
    }
    const message = parts.length > 0 && !(await this.#exists("others", key)) ? messageFromParts(key, parts) : null;
    if (message) {
      this.answered.fromParts++;
      return { message };
    }
    this.answered.fromReports++;
    const found = await this.lookup(id, "all");
    return found && { message: found.message };
  }

  close(): void {
    if (this.#snapshotEnd) {
      clearImmediate(this.#snapshotEnd);
      this.#snapshotEnd = null;
      this.#db?.run("COMMIT");
    }
    this.#db?.close();
  }

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
 * A message's status from its part rows, exactly as `MessageTracker` folds its reports in
 * received order; null when the rows cannot say it. They can when every part's reports came in
 * time order (then the writer applied them in the order the fold does, and a part's first report
 * is its earliest), none was pruned, and the parts agree on the message's first-reported fields.
 */
export function messageFromParts(key: string, rows: PartOfMessage[]): MessageStatus | null {
  const pruned = rows[0]?.pruned ?? null;
  for (const r of rows)
    if (r.last_received_at === null || r.first_received_at === null || r.provider === null || (pruned !== null && r.first_received_at < pruned))
      return null;
  // The order first reported: the tracker keeps parts so before sorting them by number.
  const sorted = [...rows].sort((a, b) => compareReceived(a.first_received_at!, b.first_received_at!) || Number(a.first_report) - Number(b.first_report));
  const fields = { country: agreed(sorted, "country"), operator: agreed(sorted, "operator"), campaignTrackingId: agreed(sorted, "campaign_tracking_id"), label: agreed(sorted, "label") };
  if (Object.values(fields).includes(undefined)) return null;
  const partStates: PartState[] = sorted.map((r) => ({
    key: r.part_key,
    part: r.part === null ? null : Number(r.part),
    outcome: r.outcome as Outcome,
    final: Boolean(r.final),
    status: r.status,
    detailedStatus: r.detailed_status,
    updatedDate: r.updated_date,
    receivedAt: r.received_at,
    price: r.price === null ? null : Number(r.price),
    latency: r.latency === null ? null : Number(r.latency),
    reports: Number(r.reports),
    rank: Number(r.rank),
    sequence: undefined, // only a new report compares with it; deriving reads none
  }));
  return deriveMessage({
    messageId: key,
    provider: sorted[0]!.provider!,
    channel: sorted[0]!.channel as MessageStatus["channel"],
    parts: Math.max(1, ...sorted.map((r) => Number(r.parts))),
    partStates,
    ...(fields as { [K in keyof typeof fields]: string | null }),
  });
}

/** The one value the parts give for a field (null: none does); undefined when they differ. */
function agreed(rows: PartOfMessage[], column: "country" | "operator" | "campaign_tracking_id" | "label"): string | null | undefined {
  let value: string | null = null;
  for (const r of rows) {
    const v = r[column];
    if (v === null) continue;
    if (value !== null && v !== value) return undefined;
    value = v;
  }
  return value;
}

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
