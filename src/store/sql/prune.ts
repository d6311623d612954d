/**
 * Retention: old rows of `sms_status_reports` deleted in small batches, each its own short
 * transaction, so receivers writing meanwhile wait for one batch at most. The messages' current
 * status rows (`sms_status_messages`) are never deleted.
 */
import type { SQL } from "bun";

/** Rows per DELETE: small enough that a writer waits milliseconds, not seconds. */
export const PRUNE_BATCH = 5_000;

/** The position row that holds the latest cut. */
export const PRUNED = "pruned-before";

/** Delete the reports received before `cutoff` (ISO); returns how many. */
export async function pruneReports(sql: SQL, cutoff: string, batch = PRUNE_BATCH): Promise<number> {
  // First: from now on the read API folds a message older than the cut from the reports kept (sql-status.ts).
  await sql`INSERT INTO sms_status_position (source, position) VALUES (${PRUNED}, ${cutoff})
    ON CONFLICT (source) DO UPDATE SET position = CASE WHEN excluded.position > sms_status_position.position
      THEN excluded.position ELSE sms_status_position.position END`;
  let total = 0;
  for (;;) {
    const rows: unknown[] = await sql`DELETE FROM sms_status_reports WHERE id IN (
      SELECT id FROM sms_status_reports WHERE received_at < ${cutoff} ORDER BY id LIMIT ${batch}) RETURNING id`;
    total += rows.length;
    if (rows.length < batch) return total;
    // Let a waiting writer in between batches.
    await Bun.sleep(1);
  }
}
