/**
 * The fleet crash test: three replicas (`bun src/cli.ts serve --database-url …`) on one real
 * PostgreSQL, reports spread across them and retried as Routee does (every unanswered one, and
 * some answered ones, at ANOTHER replica), a `kill -9` of a random replica every round and one
 * immediate restart of PostgreSQL mid-run. Then: every 200 is a committed row, no report is stored
 * twice, and every part's row is what `MessageTracker` says for the same reports in arrival order.
 * Rounds: SMS_STATUS_FLEET_ROUNDS (default 4) for a longer run by hand.
 */
import { afterAll, describe, expect, it } from "bun:test";
import { SQL } from "bun";
import { killServers, spawnServer, type SpawnedServer } from "../../scripts/lib/startup.ts";
import { routeeMessages, type SampleReport } from "../../scripts/lib/samples.ts";
import { seededRandom } from "../../scripts/checks/crash/args.ts";
import { MessageTracker } from "../../src/status/tracker.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";
import { reportEntry } from "../helpers/utils.ts";

const why: { reason?: string } = {};
const pg: Postgres | null = await startPostgres(why);
if (!pg) console.error(`\nSKIPPED: tests/system/fleet-crash.test.ts: ${why.reason}\n`);
afterAll(async () => {
  killServers();
  await pg?.stop();
});

const ROUNDS = Number(process.env.SMS_STATUS_FLEET_ROUNDS ?? 4);
const PER_ROUND = 150;
const WORKERS = 12;
const REPLICAS = 3;

/** A report's identity in the database's columns and in a body. */
const keyOf = (smsId: unknown, status: unknown, updatedDate: unknown) => `${smsId} ${status} ${updatedDate}`;
const bodyKey = (r: SampleReport) => {
  const s = r.status as { name: string; updatedDate: string };
  return keyOf(r.smsId, s.name, s.updatedDate);
};

describe.skipIf(!pg)("fleet crash", () => {
  it("keeps every acknowledged report once, and each part's status by the rules, across kill -9 of replicas and a PostgreSQL restart", async () => {
    const url = await pg!.createDatabase("fleet");
    const random = seededRandom(13);
    const args = ["--host", "127.0.0.1", "--port", "0", "--database-url", url, "--db-statement-timeout", "1000"];
    const spawn = (i: number) => spawnServer([...args, "--replica", `rx-${i}-${Date.now()}`], { timeoutMs: 20_000 });
    const replicas: SpawnedServer[] = await Promise.all(Array.from({ length: REPLICAS }, (_, i) => spawn(i)));

    const acknowledged = new Set<string>();
    let answers200 = 0;
    let retriesElsewhere = 0;
    let unanswered = 0;

    /** POST to replica `at`; the status, or null when no answer came (killed, refused). */
    async function postTo(at: number, body: string): Promise<number | null> {
      try {
        const res = await fetch(`${replicas[at]!.url}/sms/status`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        return res.status;
      } catch {
        return null;
      }
    }

    /** Routee: send until a 200, each retry at another replica than the last. */
    async function deliver(report: SampleReport): Promise<number> {
      const body = JSON.stringify(report);
      let at = Math.floor(random() * REPLICAS);
      for (let attempt = 0; attempt < 200; attempt++) {
        const status = await postTo(at, body);
        if (status === 200) {
          answers200 += 1;
          acknowledged.add(bodyKey(report));
          return at;
        }
        if (status === null) unanswered += 1;
        at = (at + 1 + Math.floor(random() * (REPLICAS - 1))) % REPLICAS;
        await Bun.sleep(20 + Math.floor(random() * 80));
      }
      throw new Error(`no 200 after 200 attempts for ${bodyKey(report)}`);
    }

    const reports = routeeMessages(random);
    const sent: SampleReport[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const batch = Array.from({ length: PER_ROUND }, () => reports.next().value as SampleReport);
      sent.push(...batch);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < batch.length; i = next++) {
          const first = await deliver(batch[i]!);
          // Some answered ones come again, at another replica: still one row.
          if (random() < 0.2) {
            retriesElsewhere += 1;
            const body = JSON.stringify(batch[i]!);
            for (let at = (first + 1) % REPLICAS, n = 0; n < 200; n++, at = (at + 1) % REPLICAS) {
              if ((await postTo(at, body)) === 200) break;
              await Bun.sleep(50);
            }
          }
        }
      };
      const load = Promise.all(Array.from({ length: WORKERS }, worker));
      // Mid-round: kill -9 one replica (and, in the middle round, restart PostgreSQL immediately).
      await Bun.sleep(150 + Math.floor(random() * 200));
      const victim = Math.floor(random() * REPLICAS);
      replicas[victim]!.proc.kill("SIGKILL");
      await replicas[victim]!.proc.exited;
      if (round === Math.floor(ROUNDS / 2)) {
        await pg!.halt("immediate");
        await Bun.sleep(300);
        await pg!.start();
      }
      replicas[victim] = await spawn(victim);
      await load;
    }

    const sql = new SQL(url, { max: 1 });
    const rows: { sms_id: string; status: string; updated_date: string }[] =
      await sql`SELECT sms_id, status, updated_date FROM sms_status_reports ORDER BY id`;
    const parts: any[] = await sql`SELECT * FROM sms_status_messages`;
    await sql.close();

    const stored = rows.map((r) => keyOf(r.sms_id, r.status, r.updated_date));
    const storedSet = new Set(stored);
    expect(stored.length - storedSet.size).toBe(0); // no report twice
    expect([...acknowledged].filter((k) => !storedSet.has(k))).toEqual([]); // every 200 is a row
    expect(acknowledged.size).toBe(sent.length);
    expect(storedSet.size).toBe(sent.length);

    // The tracker takes the same reports in the order the database stored them.
    const bodies = new Map(sent.map((r) => [bodyKey(r), r]));
    const tracker = new MessageTracker();
    for (const key of stored) tracker.add(reportEntry(bodies.get(key)!));
    const byPart = new Map(parts.map((p) => [`${p.message_id} ${p.part_key}`, p]));
    let compared = 0;
    for (const message of tracker.messages())
      for (const part of message.partStatuses) {
        const row = byPart.get(`${message.messageId} ${part.key}`);
        expect({ id: `${message.messageId} ${part.key}`, outcome: row?.outcome, final: Boolean(row?.final), status: row?.status }).toEqual({
          id: `${message.messageId} ${part.key}`,
          outcome: part.outcome,
          final: part.final,
          status: part.status,
        });
        compared += 1;
      }
    expect(compared).toBe(parts.length);
    console.log(
      `fleet: ${sent.length} reports, ${answers200} answers 200, ${unanswered} unanswered and retried, ` +
        `${retriesElsewhere} answered ones resent elsewhere, ${rows.length} rows, ${parts.length} parts, ${ROUNDS} kill -9, 1 PostgreSQL restart`,
    );
  }, 240_000);
});
