/**
 * One batch of entries into the database, inside the caller's transaction: the reports inserted
 * once (`ON CONFLICT (duplicate_key) DO NOTHING`: a retry, from any replica, is a duplicate), then
 * each new report's part upserted by the status rules (status/rules.ts), in the database itself:
 * a row changes only when the new report supersedes it (higher rank, then later `updated_ms`, then
 * later `received_at`), so late and repeated reports change nothing. On SQLite the touched
 * messages' rollup rows (rollup.ts) are refreshed in the same transaction.
 */
import type { SQL } from "bun";
import type { ReceivedEntry } from "../../core/entry.ts";
import { PART_COLUMNS, partRow, REPORT_COLUMNS, reportRow, type PartRow } from "./rows.ts";
import { rollupRefresh } from "./rollup.ts";
import type { Engine } from "./schema.ts";

/** Parameters per statement: PostgreSQL's limit is 65,535; SQLite's default is 32,766. */
const MAX_PARAMS: Record<Engine, number> = { postgres: 65_000, sqlite: 32_000 };

/** Does the new report (`excluded`) supersede the part's current one (`m`)? `supersedes` in SQL. */
const SUPERSEDES = `(excluded.rank > m.rank OR (excluded.rank = m.rank AND (excluded.updated_ms > m.updated_ms
  OR (excluded.updated_ms = m.updated_ms AND excluded.received_at > m.received_at))))`;

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
  ${["outcome", "final", "rank", "status", "detailed_status", "updated_date", "updated_ms", "received_at"].map(pick).join(",\n  ")}
RETURNING message_id`;

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
    const partKey = `${part.message_id.length}:${part.message_id}${part.part_key}`;
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
