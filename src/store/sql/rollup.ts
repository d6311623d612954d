/**
 * SQLite's per-message rollup (`sms_status_rollup`): one row per message and channel with what
 * `report` sums (outcome, cost, latency, the `--by status` key, the failure reason, the group
 * fields), derived from the message's part rows by the rules of `MessageFold`. Both writers
 * (write.ts for the store, apply.ts for the view) refresh the messages a batch touched in the same
 * transaction, so `report` is one GROUP BY over it: a million messages in well under a second,
 * where folding the part rows at read time took seconds.
 */
import { PARTS_MISSING, PRICE_SCALE } from "../../status/rules.ts";

/** A report's name for "no reason given". */
export const NONE = "(none)";

/** The rollup's group columns, the first non-null of the message's parts in report order. */
export const ROLLUP_FIELDS = ["country", "operator", "campaign_tracking_id", "label"] as const;

export const ROLLUP_TABLE = `CREATE TABLE IF NOT EXISTS sms_status_rollup (
  message_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  outcome TEXT NOT NULL,
  micros INTEGER,
  latency DOUBLE PRECISION,
  status TEXT,
  reason TEXT,
  country TEXT,
  operator TEXT,
  campaign_tracking_id TEXT,
  label TEXT,
  PRIMARY KEY (message_id, channel)
)`;

/**
 * The part that speaks for a message (`MessageFold.decisive`), as an ORDER BY over its parts in
 * part order (then first reported): the first final failure, else the first part not delivered,
 * else the last.
 */
const DECISIVE_ORDER = `CASE WHEN x.final AND x.outcome = 'failed' THEN 0 WHEN x.outcome <> 'delivered' THEN 1 ELSE 2 END,
  CASE WHEN x.outcome = 'delivered' THEN -COALESCE(x.part, 0) ELSE COALESCE(x.part, 0) END,
  CASE WHEN x.outcome = 'delivered' THEN -x.first_report ELSE x.first_report END`;

/**
 * Each message's rollup from its part rows of one channel, as a SELECT (with its CTEs) over the
 * part rows passing `where` (on `g`). A message of one part row (the most) is read from the
 * aggregates alone: only messages of several part rows pay for the subqueries and the lookup.
 */
export function rollupSelect(where: string): string {
  const parts = `FROM sms_status_messages x WHERE x.message_id = g.message_id AND x.channel = g.channel`;
  const one = (column: string) => `CASE WHEN a.n = 1 THEN a.s_${column} ELSE d.${column} END`;
  return `WITH a AS (
    SELECT g.message_id, g.channel, COUNT(*) AS n, MAX(parts) AS declared, SUM(outcome = 'delivered') AS delivered,
      MAX(final AND outcome = 'failed') AS failed, SUM(floor(price * ${PRICE_SCALE} + 0.5)) AS micros, MAX(latency) AS latency,
      MIN(g.outcome) AS s_outcome, MIN(g.status) AS s_status, MIN(g.detailed_status) AS s_detailed_status,
      CASE WHEN COUNT(*) = 1 THEN NULL ELSE (SELECT x.rowid ${parts} ORDER BY ${DECISIVE_ORDER} LIMIT 1) END AS decisive,
      ${ROLLUP_FIELDS.map((f) => `CASE WHEN COUNT(*) = 1 THEN MIN(g.${f}) ELSE (SELECT x.${f} ${parts} AND x.${f} IS NOT NULL ORDER BY x.first_report LIMIT 1) END AS ${f}`).join(",\n      ")}
    FROM sms_status_messages g ${where} GROUP BY g.message_id, g.channel
  ), m AS (
    SELECT a.*, CASE WHEN a.failed THEN 'failed' WHEN a.delivered >= a.declared THEN 'delivered' ELSE 'pending' END AS o,
      ${one("outcome")} AS d_outcome, ${one("status")} AS d_status, ${one("detailed_status")} AS d_detailed
    FROM a LEFT JOIN sms_status_messages d ON d.rowid = a.decisive
  )
  SELECT message_id, channel, o AS outcome, micros, latency,
    CASE WHEN o = 'pending' AND d_outcome = 'delivered' THEN '${PARTS_MISSING}' ELSE d_status END AS status,
    CASE WHEN o = 'failed' THEN COALESCE(d_detailed, d_status, '${NONE}') END AS reason, ${ROLLUP_FIELDS.join(", ")}
  FROM m`;
}

const COLUMNS = `(message_id, channel, outcome, micros, latency, status, reason, ${ROLLUP_FIELDS.join(", ")})`;

/** Rebuild every message's rollup (the migration to schema 2 on a database with messages). */
export const ROLLUP_ALL = `INSERT OR REPLACE INTO sms_status_rollup ${COLUMNS} SELECT * FROM (${rollupSelect("")})`;

/** Refresh the messages whose ids are the JSON array bound to `param` (`?` or `$1`). */
export function rollupRefresh(param: string): string {
  return `INSERT OR REPLACE INTO sms_status_rollup ${COLUMNS} SELECT * FROM (${rollupSelect(`WHERE g.message_id IN (SELECT value FROM json_each(${param}))`)})`;
}
