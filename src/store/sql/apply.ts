/**
 * The SQLite view's writer: applies log entries with the position they end at in one transaction,
 * as `SqlStore.applyBatch` does, but on bun:sqlite's prepared statements: one INSERT per report
 * (its id from `lastInsertRowid`, no RETURNING), and each part folded in memory by the status
 * rules (`supersedes`, as the upsert in write.ts says in SQL) from its stored row, then written
 * once per batch. The SQL store's upsert takes a round per report of a part; this takes one write.
 */
import { Database, type Statement } from "bun:sqlite";
import type { LogEntry } from "../../core/entry.ts";
import { compareReceived, compareSequence, supersedes } from "../../status/rules.ts";
import { rollupRefresh } from "./rollup.ts";
import { CURRENT_COLUMNS, PART_KEYS, partIdentity, partRow, REPORT_KEYS, reportRow, type PartRow } from "./rows.ts";


/** A part's row after report `r` (arrived after what `m` holds): write.ts's upsert, in JavaScript. */
export function applyPart(m: PartRow | null, r: PartRow): PartRow {
  if (m === null) return r;
  const newer = supersedes(r.rank, m.rank, {
    updatedDate: () => Math.sign(r.updated_ms - m.updated_ms),
    sequence: () => compareSequence(r.sequence, m.sequence),
    receivedAt: () => compareReceived(r.received_at, m.received_at),
  });
  const next: PartRow = {
    ...m,
    reports: m.reports + 1,
    part: m.part ?? r.part,
    parts: Math.max(m.parts, r.parts),
    country: m.country ?? r.country,
    operator: m.operator ?? r.operator,
    campaign_tracking_id: m.campaign_tracking_id ?? r.campaign_tracking_id,
    label: m.label ?? r.label,
    last_received_at: m.last_received_at !== null && r.received_at >= m.last_received_at ? r.received_at : null,
    price: newer ? (r.price ?? m.price) : (m.price ?? r.price),
    latency: newer ? (r.latency ?? m.latency) : (m.latency ?? r.latency),
  };
  if (newer) for (const key of CURRENT_COLUMNS) (next as unknown as Record<string, unknown>)[key] = r[key];
  return next;
}

export class ViewWriter {
  readonly #db: Database;
  readonly #insertReport: Statement;
  readonly #readPart: Statement;
  readonly #writePart: Statement;
  readonly #savePosition: Statement;
  readonly #refresh: Statement;

  /** `file` must already hold the schema (`openSqlStore` migrates it). */
  constructor(file: string, busyTimeoutMs = 60_000) {
    this.#db = new Database(file);
    this.#db.run(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
    this.#db.run("PRAGMA journal_mode = WAL");
    // Derived from the log: a commit lost to a power cut is applied again from the saved position.
    this.#db.run("PRAGMA synchronous = NORMAL");
    this.#insertReport = this.#db.prepare(
      `INSERT INTO sms_status_reports (${REPORT_KEYS.join(", ")}) VALUES (${REPORT_KEYS.map(() => "?").join(", ")})
       ON CONFLICT (duplicate_key) DO NOTHING`,
    );
    this.#readPart = this.#db.prepare(`SELECT ${PART_KEYS.join(", ")} FROM sms_status_messages WHERE message_id = ? AND part_key = ?`);
    this.#writePart = this.#db.prepare(
      `INSERT INTO sms_status_messages (${PART_KEYS.join(", ")}) VALUES (${PART_KEYS.map(() => "?").join(", ")})
       ON CONFLICT (message_id, part_key) DO UPDATE SET ${PART_KEYS.slice(2).map((k) => `${k} = excluded.${k}`).join(", ")}`,
    );
    this.#refresh = this.#db.prepare(rollupRefresh("?"));
    this.#savePosition = this.#db.prepare(
      "INSERT INTO sms_status_position (source, position) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET position = excluded.position",
    );
  }

  /** Apply `entries` and record `position` in one transaction; returns which entries were new. */
  apply(entries: readonly LogEntry[], position: string, source = "log"): boolean[] {
    return this.#db.transaction(() => {
      const fresh: boolean[] = [];
      const parts = new Map<string, PartRow>();
      for (const entry of entries) {
        const row = reportRow({ entry }, null);
        const { changes, lastInsertRowid } = this.#insertReport.run(...(REPORT_KEYS.map((k) => sqlValue(row[k])) as never[]));
        fresh.push(changes === 1);
        if (changes !== 1) continue;
        const part = partRow(entry, Number(lastInsertRowid));
        if (!part) continue;
        const key = partIdentity(part);
        const current = parts.get(key) ?? this.#stored(part.message_id, part.part_key);
        parts.set(key, applyPart(current, part));
      }
      const touched = new Set<string>();
      for (const part of parts.values()) {
        this.#writePart.run(...(PART_KEYS.map((k) => sqlValue(part[k])) as never[]));
        touched.add(part.message_id);
      }
      if (touched.size > 0) this.#refresh.run(JSON.stringify([...touched]));
      this.#savePosition.run(source, position);
      return fresh;
    })();
  }

  #stored(messageId: string, partKey: string): PartRow | null {
    const row = this.#readPart.get(messageId, partKey) as PartRow | null;
    if (row) row.final = Boolean(row.final);
    return row;
  }

  close(): void {
    this.#db.close();
  }
}

/** Booleans as SQLite stores them (0/1). */
function sqlValue(value: unknown): unknown {
  return typeof value === "boolean" ? (value ? 1 : 0) : value;
}
