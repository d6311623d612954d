/**
 * One batch of entries into the database, inside the caller's transaction: the reports inserted
 * once (`ON CONFLICT (duplicate_key) DO NOTHING`: a retry, from any replica, is a duplicate), then
 * each new report's part upserted by the status rules (status/rules.ts), in the database itself:
 * a row changes only when the new report supersedes it (higher rank, then later `updated_ms`, then
 * later `sequence` when both have one, then later `received_at`), so late and repeated reports change nothing. On SQLite the touched
 * messages' rollup rows (rollup.ts) are refreshed in the same transaction.
 */
import type { SQL } from "bun";
import type { ReceivedEntry } from "../../core/entry.ts";
import { CURRENT_COLUMNS, PART_COLUMNS, PART_TYPES, partIdentity, partRow, REPORT_COLUMNS, REPORT_TYPES, reportRow, type PartRow, type ReportRow } from "./rows.ts";
import { rollupRefresh } from "./rollup.ts";
import type { Engine } from "./schema.ts";

/** Parameters per statement: PostgreSQL's limit is 65,535; SQLite's default is 32,766. */
const MAX_PARAMS: Record<Engine, number> = { postgres: 65_000, sqlite: 32_000 };

/** Does the new report (`excluded`) supersede the part's current one (`m`)? `supersedes` in SQL. */
const SUPERSEDES = `(excluded.rank > m.rank OR (excluded.rank = m.rank AND (excluded.updated_ms > m.updated_ms
  OR (excluded.updated_ms = m.updated_ms AND (excluded.sequence > m.sequence
  OR ((excluded.sequence IS NULL OR m.sequence IS NULL OR excluded.sequence = m.sequence) AND excluded.received_at > m.received_at))))))`;

const pick = (column: string) => `${column} = CASE WHEN ${SUPERSEDES} THEN excluded.${column} ELSE m.${column} END`;

/** As `MessageTracker.add`: the current report's fields, a price charged once, the first non-null of the rest. */
const UPSERT = `ON CONFLICT (message_id, part_key) DO UPDATE SET
  reports = m.reports + 1,
  part = COALESCE(m.part, excluded.part),
  parts = CASE WHEN excluded.parts > m.parts THEN excluded.parts ELSE m.parts END,
  country = COALESCE(m.country, excluded.country),
  operator = COALESCE(m.operator, excluded.operator),
  campaign_tracking_id = COALESCE(m.campaign_tracking_id, excluded.campaign_tracking_id),
  label = COALESCE(m.label, excluded.label),
  last_received_at = CASE WHEN excluded.received_at >= m.last_received_at THEN excluded.received_at END,
  price = CASE WHEN ${SUPERSEDES} THEN COALESCE(excluded.price, m.price) ELSE COALESCE(m.price, excluded.price) END,
  latency = CASE WHEN ${SUPERSEDES} THEN COALESCE(excluded.latency, m.latency) ELSE COALESCE(m.latency, excluded.latency) END,
  ${CURRENT_COLUMNS.map(pick).join(",\n  ")}
`;

const ROLLUP_REFRESH = rollupRefresh("$1");

function chunks<T>(rows: T[], size: number): T[][] {
  if (rows.length <= size) return [rows];
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * Insert `entries` in `tx`; returns, per entry, whether it was new (false: its duplicate key was
 * already stored, or came earlier in the same batch).
 */
export async function insertEntries(
  tx: SQL,
  engine: Engine,
  entries: readonly ReceivedEntry[],
  replica: string | null,
): Promise<boolean[]> {
  if (engine === "postgres") return insertPostgres(tx, entries, replica);
  const rows = entries.map((e) => reportRow(e, replica));
  const ids = new Map<string, number>();
  const keyless: number[] = [];
  for (const chunk of chunks(rows, Math.floor(MAX_PARAMS[engine] / REPORT_COLUMNS))) {
    const inserted: { id: unknown; duplicate_key: string | null }[] =
      await tx`INSERT INTO sms_status_reports ${tx(chunk)} ON CONFLICT (duplicate_key) DO NOTHING RETURNING id, duplicate_key`;
    for (const r of inserted) {
      if (r.duplicate_key === null) keyless.push(Number(r.id));
      else ids.set(r.duplicate_key, Number(r.id));
    }
  }
  const fresh: boolean[] = [];
  // Rounds: PostgreSQL refuses an upsert that touches one row twice, so a part's second report of
  // the batch goes in the next statement, in arrival order.
  const rounds: PartRow[][] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const key = row.duplicate_key;
    const id = key === null ? -1 : ids.get(key);
    const isNew = key === null || id !== undefined;
    if (key !== null) ids.delete(key); // a second copy in the same batch is a duplicate
    fresh.push(isNew);
    if (!isNew || id === undefined || id < 0) return;
    const part = partRow(entries[i]!.entry, id);
    if (!part) return;
    const partKey = partIdentity(part);
    const round = seen.get(partKey) ?? 0;
    seen.set(partKey, round + 1);
    (rounds[round] ??= []).push(part);
  });
  for (const round of rounds)
    for (const chunk of chunks(round, Math.floor(MAX_PARAMS[engine] / PART_COLUMNS)))
      await tx`INSERT INTO sms_status_messages AS m ${tx(chunk)} ${tx.unsafe(UPSERT)}`;
  // SQLite's report reads the rollup: the touched messages' rows change in this transaction.
  if (engine === "sqlite" && rounds.length > 0)
    await tx.unsafe(ROLLUP_REFRESH, [JSON.stringify([...new Set(rounds[0]!.map((p) => p.message_id))])]);
  return fresh;
}

// ---- PostgreSQL: one statement per batch -------------------------------------------------------

const columns = (types: Record<string, string>) => Object.keys(types).join(", ");
const definitions = (types: Record<string, string>) => Object.entries(types).map(([c, t]) => `${c} ${t}`).join(", ");
const PART_NAMES = Object.keys(PART_TYPES);

/**
 * The batch's reports and their parts (first round) in one statement, whatever the batch's size:
 * the rows travel as two JSON parameters, so PostgreSQL prepares and plans the statement once per
 * connection (a multi-row VALUES list is a new statement for every row count). The parts' upsert
 * joins the reports inserted, so only new reports change a part.
 */
const PG_BATCH = `WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS x(${definitions(REPORT_TYPES)}, ord integer)
), ins AS (
  INSERT INTO sms_status_reports (${columns(REPORT_TYPES)})
  SELECT ${columns(REPORT_TYPES)} FROM input ORDER BY ord
  ON CONFLICT (duplicate_key) DO NOTHING RETURNING id, duplicate_key
), parts AS (
  SELECT p.*, ins.id AS first_report FROM json_to_recordset($2::json) AS p(${definitions(PART_TYPES)}, report_key text, ord integer)
  JOIN ins ON ins.duplicate_key = p.report_key
), upserted AS (
  INSERT INTO sms_status_messages AS m (${PART_NAMES.join(", ")}, first_report)
  SELECT ${PART_NAMES.join(", ")}, first_report FROM parts ORDER BY ord
  ${UPSERT}
)
SELECT id, duplicate_key FROM ins`;

/** A later round's parts (a part reported twice in one batch), after the batch's statement. */
const PG_ROUND = `INSERT INTO sms_status_messages AS m (${PART_NAMES.join(", ")}, first_report)
  SELECT ${PART_NAMES.join(", ")}, first_report FROM json_to_recordset($1::json) AS p(${definitions(PART_TYPES)}, first_report bigint, ord integer)
  ORDER BY ord
  ${UPSERT}`;

/** A batch for PostgreSQL: its report rows, and its parts in rounds (a part reported twice goes in a later round). */
export interface PostgresBatch {
  rows: ReportRow[];
  /** Where each duplicate key first occurs in the batch: a later copy is a duplicate. */
  first: Map<string, number>;
  rounds: (PartRow & { report_key: string; ord: number })[][];
}

export function planPostgres(entries: readonly ReceivedEntry[], replica: string | null): PostgresBatch {
  const rows = entries.map((e) => reportRow(e, replica));
  const first = new Map<string, number>();
  rows.forEach((row, i) => row.duplicate_key !== null && !first.has(row.duplicate_key) && first.set(row.duplicate_key, i));
  const rounds: PostgresBatch["rounds"] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const key = row.duplicate_key;
    if (key === null || first.get(key) !== i) return;
    const part = partRow(entries[i]!.entry, 0);
    if (!part) return;
    const partKey = partIdentity(part);
    const round = seen.get(partKey) ?? 0;
    seen.set(partKey, round + 1);
    (rounds[round] ??= []).push({ ...part, report_key: key, ord: i });
  });
  return { rows, first, rounds };
}

/** The batch's one statement (the reports and the first round of parts), on a pool or in a transaction. */
export function postgresStatement(sql: SQL, batch: PostgresBatch) {
  // Bun sends a json parameter as JSON.stringify makes it.
  return sql.unsafe<{ id: unknown; duplicate_key: string | null }[]>(PG_BATCH, [
    batch.rows.map((row, ord) => ({ ...row, ord })),
    batch.rounds[0] ?? [],
  ]);
}

/** The later rounds (in the statement's transaction), then which entries were new. */
export async function finishPostgres(
  tx: SQL | null,
  batch: PostgresBatch,
  inserted: readonly { id: unknown; duplicate_key: string | null }[],
): Promise<boolean[]> {
  const ids = new Map<string, number>();
  for (const r of inserted) if (r.duplicate_key !== null) ids.set(r.duplicate_key, Number(r.id));
  for (const round of batch.rounds.slice(1)) {
    const fresh = round.filter((p) => ids.has(p.report_key)).map((p) => ({ ...p, first_report: ids.get(p.report_key)! }));
    if (fresh.length === 0) continue;
    if (tx === null) throw new Error("a batch with a part reported twice needs a transaction");
    await tx.unsafe(PG_ROUND, [fresh]);
  }
  const { first } = batch;
  return batch.rows.map((row, i) => row.duplicate_key === null || (first.get(row.duplicate_key) === i && ids.has(row.duplicate_key)));
}

async function insertPostgres(tx: SQL, entries: readonly ReceivedEntry[], replica: string | null): Promise<boolean[]> {
  const batch = planPostgres(entries, replica);
  return finishPostgres(tx, batch, await postgresStatement(tx, batch));
}
