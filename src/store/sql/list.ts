/**
 * A page of messages from the database, newest first, for the read API's `GET /v1/messages`.
 *
 * "Newest" is the order messages were first seen (the id of their first report row): a message
 * keeps its place as later reports arrive, so paging through with the cursor while reports keep
 * coming neither repeats nor skips one (new messages appear before the first page). The outcome
 * filter is the status rules in SQL: failed when any part finally failed, delivered when as many
 * parts as declared are delivered, pending otherwise.
 */
import type { SQL } from "bun";
import type { MessageListQuery } from "../store.ts";

/** One page's message ids, newest first, and the cursor of the next page (null: none). */
export async function listMessageIds(sql: SQL, query: MessageListQuery): Promise<{ ids: string[]; next: number | null }> {
  const failedPart = sql`max(CASE WHEN final AND outcome = 'failed' THEN 1 ELSE 0 END)`;
  const deliveredParts = sql`sum(CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END)`;
  const outcome =
    query.outcome === "failed"
      ? sql`AND ${failedPart} = 1`
      : query.outcome === "delivered"
        ? sql`AND ${failedPart} = 0 AND ${deliveredParts} >= max(parts)`
        : query.outcome === "pending"
          ? sql`AND ${failedPart} = 0 AND ${deliveredParts} < max(parts)`
          : sql``;
  const channel = query.channel === "all" ? sql`` : sql`AND channel = ${query.channel}`;
  const label = query.label === null ? sql`` : sql`AND label = ${query.label}`;
  const campaign = query.campaign === null ? sql`` : sql`AND campaign_tracking_id = ${query.campaign}`;
  const to =
    query.to === null ? sql`` : sql`AND message_id IN (SELECT message_id FROM sms_status_reports WHERE to_number = ${query.to})`;
  const since = query.since === null ? sql`` : sql`AND min(received_at) >= ${query.since}`;
  const until = query.until === null ? sql`` : sql`AND min(received_at) < ${query.until}`;
  const before = query.cursor === null ? sql`` : sql`AND min(first_report) < ${query.cursor}`;
  const rows: { message_id: string; first: number | bigint | string }[] = await sql`
    SELECT message_id, min(first_report) AS first FROM sms_status_messages
    WHERE 1 = 1 ${channel} ${label} ${campaign} ${to}
    GROUP BY message_id
    HAVING 1 = 1 ${since} ${until} ${outcome} ${before}
    ORDER BY first DESC
    LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  const more = rows.length > query.limit;
  return { ids: page.map((r) => r.message_id), next: more ? Number(page[page.length - 1]!.first) : null };
}
