/**
 * The database for the reading commands (`--db FILE` for SQLite, `--database-url URL` or
 * $SMS_STATUS_DATABASE_URL for PostgreSQL), and the commands that keep it: `reindex`, `migrate`,
 * `prune`.
 */
import { SQL } from "bun";
import { existsSync } from "node:fs";
import { DEFAULT_LOG } from "../core/defaults.ts";
import { migrate as migrateSchema, SqlStatus, type Engine } from "../store/sql/index.ts";
import { pruneReports } from "../store/sql/prune.ts";
import { reindex as rebuild, rotatedSiblings, sqliteUrl } from "../store/sql/view.ts";
import { CommandError, UsageError } from "./errors.ts";
import { parseFlags, type Env } from "./flags.ts";
import { LOG_OPTION, type Command, type OptionSpec } from "./output.ts";

export const DB_OPTION: OptionSpec = { flag: "db", value: "FILE", help: "read the SQLite view FILE instead of the log (see serve --db)" };
export const DATABASE_URL_OPTION: OptionSpec = {
  flag: "database-url",
  value: "URL",
  help: "read PostgreSQL at URL instead of the log (default $SMS_STATUS_DATABASE_URL)",
};

export interface Database {
  sql: SQL;
  engine: Engine;
  /** Where it is, without a password: what `report` names as its source. */
  name: string;
  close(): Promise<void>;
}

/** The URL without its password, for messages and output. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

/**
 * The database the flags name, or null to read the log. `--db` wins over the variable; the
 * log flags and a database are exclusive. A SQLite file must exist (a reader never creates one).
 */
export function databaseFrom(values: Record<string, unknown>, env: Env, hasLogs: boolean): Database | null {
  const file = values.db as string | undefined;
  const flagUrl = values["database-url"] as string | undefined;
  if (file !== undefined && flagUrl !== undefined) throw new UsageError("--db and --database-url are exclusive: give one");
  const url = flagUrl ?? (file === undefined && !hasLogs ? env.SMS_STATUS_DATABASE_URL || undefined : undefined);
  if ((file !== undefined || flagUrl !== undefined) && hasLogs)
    throw new UsageError("read either log files or a database (--db, --database-url), not both");
  if (file !== undefined) {
    if (file === "") throw new UsageError("--db needs a FILE");
    if (!existsSync(file)) throw new CommandError(`no database at ${file} (serve keeps one beside the log; 'sms-status reindex' builds one)`);
    const sql = new SQL(sqliteUrl(file));
    return { sql, engine: "sqlite", name: file, close: () => sql.close() };
  }
  if (url === undefined) return null;
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new UsageError(`--database-url must be postgres://USER@HOST/DB (got ${JSON.stringify(redact(url))})`);
  const sql = new SQL(url, { max: 2 });
  return { sql, engine: "postgres", name: redact(url), close: () => sql.close() };
}

/** A status reader on the database; its errors become one line and exit 1. */
export function statusOf(db: Database): SqlStatus {
  return new SqlStatus(db.sql, db.engine, db.name);
}

/** Run `work` on the database, closing it after, with a database error as a one-line failure. */
export async function using<T>(db: Database, work: (db: Database) => Promise<T>): Promise<T> {
  try {
    return await work(db);
  } catch (error) {
    if (error instanceof UsageError || error instanceof CommandError) throw error;
    throw new CommandError(`cannot read the database ${db.name}: ${(error as Error).message}`, { cause: error });
  } finally {
    await db.close().catch(() => {});
  }
}

/** The SQLite file or PostgreSQL URL of migrate and prune (a file is created by migrate). */
function target(values: Record<string, unknown>, env: Env, command: string): { url: string; engine: Engine; name: string } {
  const file = values.db as string | undefined;
  const url = (values["database-url"] as string | undefined) ?? (file === undefined ? env.SMS_STATUS_DATABASE_URL || undefined : undefined);
  if (file !== undefined && values["database-url"] !== undefined) throw new UsageError("--db and --database-url are exclusive: give one");
  if (file !== undefined) return { url: sqliteUrl(file), engine: "sqlite", name: file };
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//i.test(url)) throw new UsageError(`--database-url must be postgres://USER@HOST/DB`);
    return { url, engine: "postgres", name: redact(url) };
  }
  const file2 = `${env.SMS_STATUS_LOG || DEFAULT_LOG}.db`;
  if (command === "prune" && !existsSync(file2)) throw new CommandError(`no database at ${file2}: give --db FILE or --database-url URL`);
  return { url: sqliteUrl(file2), engine: "sqlite", name: file2 };
}

/** Open the target, run `work`, close it; a database error is one line naming what failed (exit 1). */
async function onTarget(url: string, engine: Engine, name: string, verb: string, work: (sql: SQL) => Promise<void>): Promise<void> {
  const sql = engine === "sqlite" ? new SQL(url) : new SQL(url, { max: 2 });
  try {
    if (engine === "sqlite") await sql.unsafe("PRAGMA busy_timeout = 5000");
    await work(sql);
  } catch (error) {
    throw new CommandError(`cannot ${verb} ${name}: ${(error as Error).message}`, { cause: error });
  } finally {
    await sql.close().catch(() => {});
  }
}

const TARGET_FLAGS: OptionSpec[] = [
  { flag: "db", value: "FILE", help: "the SQLite file (default: the log's, $SMS_STATUS_LOG.db)" },
  { flag: "database-url", value: "URL", help: "the PostgreSQL database (default $SMS_STATUS_DATABASE_URL)" },
];

export const migrate: Command = {
  usage: "migrate [--db FILE | --database-url URL]",
  flags: TARGET_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values } = parseFlags(args, TARGET_FLAGS, false);
    const { url, engine, name } = target(values, env, "migrate");
    await onTarget(url, engine, name, "migrate", async (sql) => {
      const from = await migrateSchema(sql, engine);
      const [{ version }] = await sql`SELECT version FROM sms_status_schema`;
      process.stdout.write(from === Number(version) ? `${name}: schema at version ${version}\n` : `${name}: schema from version ${from} to ${version}\n`);
    });
  },
};

const UNITS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PRUNE_FLAGS: OptionSpec[] = [
  { flag: "older-than", value: "90d", help: "delete reports received longer ago than this (h, d or w)" },
  ...TARGET_FLAGS,
];

export const prune: Command = {
  usage: "prune --older-than 90d [--db FILE | --database-url URL]",
  flags: PRUNE_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values } = parseFlags(args, PRUNE_FLAGS, false);
    const raw = values["older-than"] as string | undefined;
    const match = raw === undefined ? null : /^(\d+)([hdw])$/.exec(raw);
    if (!match) throw new UsageError(`prune needs --older-than N followed by h, d or w, such as 90d (got ${JSON.stringify(raw ?? "")})`);
    const cutoff = new Date(Date.now() - Number(match[1]) * UNITS[match[2]!]!).toISOString();
    const { url, engine, name } = target(values, env, "prune");
    await onTarget(url, engine, name, "prune", async (sql) => {
      const deleted = await pruneReports(sql, cutoff);
      process.stdout.write(`${name}: deleted ${deleted} report${deleted === 1 ? "" : "s"} received before ${cutoff}\n`);
    });
  },
};

const REINDEX_FLAGS: OptionSpec[] = [
  { ...LOG_OPTION, help: "log file to read, oldest first; repeatable, plain or gzip (default: the log and its rotated copies)" },
  { flag: "db", value: "FILE", help: "the SQLite view to rebuild (default: the log's, LOG.db)" },
];

export const reindex: Command = {
  usage: "reindex [--log FILE]... [--db FILE]",
  flags: REINDEX_FLAGS,
  async run(args: string[], env: Env): Promise<void> {
    const { values } = parseFlags(args, REINDEX_FLAGS, false);
    const named = values.log as string[] | undefined;
    const log = named?.[named.length - 1] ?? (env.SMS_STATUS_LOG || DEFAULT_LOG);
    const files = named ?? [...rotatedSiblings(log), log];
    for (const file of files) if (!existsSync(file)) throw new CommandError(`cannot read ${file}: no such file`);
    const db = (values.db as string | undefined) ?? `${log}.db`;
    try {
      const n = await rebuild(files, db);
      process.stdout.write(`${db}: rebuilt from ${files.length} file${files.length === 1 ? "" : "s"} (${n} entries)\n`);
    } catch (error) {
      throw new CommandError(`cannot rebuild ${db}: ${(error as Error).message}`, { cause: error });
    }
  },
};
