/**
 * Your application's side of `sms-status --forward URL`: verify each webhook's signature with the
 * `standardwebhooks` package, drop repeats by `webhook-id`, and keep each message part's status in
 * a table by the same rule the receiver uses (a final status beats a pending one, then the later
 * status date wins), so retries and out-of-order arrivals change nothing. It takes both shapes:
 * one entry per webhook (the default) and `--forward-batch N`'s `sms_status.batch`, whose entries
 * each carry the id their own webhook would have.
 *
 *   WEBHOOK_SECRET=whsec_... PORT=8080 npx bun examples/forward-receiver.ts
 *   sms-status --forward http://127.0.0.1:8080/hooks/sms --forward-secret-file forward.secret
 */
import { Database } from "bun:sqlite";
import { Webhook } from "standardwebhooks";

export function forwardReceiver(secret: string, path = ":memory:") {
  const webhook = new Webhook(secret);
  const db = new Database(path);
  // Others may read the table while webhooks arrive (sqlite3 forwarded.db …): WAL, and wait for locks.
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA busy_timeout = 5000");
  db.run(`CREATE TABLE IF NOT EXISTS seen (webhook_id TEXT PRIMARY KEY)`);
  db.run(`CREATE TABLE IF NOT EXISTS sms_parts (
    message_id TEXT NOT NULL, part TEXT NOT NULL, outcome TEXT NOT NULL, final INTEGER NOT NULL,
    status TEXT, updated TEXT, PRIMARY KEY (message_id, part))`);
  // Insert, or replace only when the new status supersedes the stored one.
  const upsert = db.prepare(`INSERT INTO sms_parts VALUES ($message, $part, $outcome, $final, $status, $updated)
    ON CONFLICT (message_id, part) DO UPDATE SET outcome = excluded.outcome, final = excluded.final,
      status = excluded.status, updated = excluded.updated
    WHERE excluded.final > sms_parts.final
       OR (excluded.final = sms_parts.final AND coalesce(excluded.updated, '') > coalesce(sms_parts.updated, ''))`);

  type Event = { type: string; timestamp: string; data: Record<string, any> };

  async function handle(request: Request): Promise<Response> {
    const body = await request.text();
    let payload: Event | { type: "sms_status.batch"; data: (Event & { id: string })[] };
    try {
      payload = webhook.verify(body, Object.fromEntries(request.headers)) as typeof payload;
    } catch {
      return new Response("bad signature", { status: 401 });
    }
    const events = payload.type === "sms_status.batch" ? (payload.data as (Event & { id: string })[]) : [{ ...(payload as Event), id: request.headers.get("webhook-id")! }];
    // All of a webhook or none of it: a failure answers 500 and the whole webhook comes again.
    db.transaction(() => {
      for (const event of events) if (db.query(`INSERT OR IGNORE INTO seen VALUES (?) RETURNING webhook_id`).get(event.id) !== null) store(event);
    })();
    return new Response(null, { status: 204 });
  }

  function store(event: Event): void {
    const entry = event.data;
    const message = entry.messageId ?? entry.trackingId;
    if (event.type !== "sms_status.dlr" || !message) return;
    upsert.run({
      $message: message,
      $part: entry.smsId ?? `#${entry.part ?? 1}`,
      $outcome: entry.outcome,
      $final: entry.final ? 1 : 0,
      $status: entry.status,
      // Routee's dates come with and without milliseconds: compare them as instants.
      $updated: entry.updatedDate ? new Date(entry.updatedDate).toISOString() : null,
    });
  }

  /** A message is delivered when every part seen is, failed when any part finally failed. */
  function outcome(messageId: string): string | null {
    const parts = db.query(`SELECT outcome, final FROM sms_parts WHERE message_id = ?`).all(messageId) as { outcome: string; final: number }[];
    if (parts.length === 0) return null;
    if (parts.some((p) => p.final && p.outcome === "failed")) return "failed";
    return parts.every((p) => p.outcome === "delivered") ? "delivered" : "pending";
  }

  return { handle, outcome, db };
}

if (import.meta.main) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret?.startsWith("whsec_")) {
    console.error("set WEBHOOK_SECRET to the whsec_ secret the server signs with");
    process.exit(2);
  }
  const db = process.env.DB ?? "forwarded.db";
  const receiver = forwardReceiver(secret, db);
  const server = Bun.serve({
    port: Number(process.env.PORT ?? 8080),
    async fetch(request) {
      const answer = await receiver.handle(request);
      console.error(`${request.headers.get("webhook-id")} -> ${answer.status}`);
      return answer;
    },
  });
  console.error(`forward receiver on port ${server.port}, statuses in ${db} (table sms_parts)`);
}
