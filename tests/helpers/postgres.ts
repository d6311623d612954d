/**
 * A real PostgreSQL server for tests: `initdb` and `postgres` from Debian's `postgresql` package,
 * started on a random port in a temp dir, as an unprivileged user when the test runs as root
 * (postgres refuses root), and stopped at the end. `startPostgres()` returns null with the reason
 * when it cannot run here, so a suite can skip loudly.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Postgres {
  /** `postgres://…` for the server's `postgres` database. */
  url: string;
  port: number;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stop the server (fast shutdown) and remove its directory. */
  stop(): Promise<void>;
  /**
   * Stop only the server, keeping the data (to test reconnection); `start()` brings it back on the
   * same port. `immediate`: as `pg_ctl stop -m immediate` (SIGQUIT, no checkpoint: a crash).
   */
  halt(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
}

/** Where the binaries are: on PATH, else Debian's versioned directory (newest first). */
function findBin(name: string): string | null {
  const onPath = Bun.which(name);
  if (onPath) return onPath;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, "bin", name))) return join(root, v, "bin", name);
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Why PostgreSQL cannot run here, or null when it can. */
export function postgresMissing(): string | null {
  if (!findBin("initdb") || !findBin("postgres"))
    return "initdb/postgres not found on PATH nor in /usr/lib/postgresql/*/bin (apt-get install postgresql)";
  return null;
}

/**
 * Start a throwaway server. Resolves to null with `reason` filled when it cannot start.
 * @example const pg = await startPostgres(); if (pg) { ...; await pg.stop(); }
 */
export async function startPostgres(why: { reason?: string } = {}): Promise<Postgres | null> {
  const missing = postgresMissing();
  if (missing) {
    why.reason = missing;
    return null;
  }
  const initdb = findBin("initdb")!;
  const postgres = findBin("postgres")!;
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "sms-status-pg-"));
  const data = join(dir, "data");
  if (root) {
    // nobody owns the directory; its parent (tmp) is world-traversable.
    chmodSync(dir, 0o700);
    chownSync(dir, 65534, 65534);
  }
  const as = (cmd: string[]) => (root ? ["runuser", "-u", "nobody", "--", ...cmd] : cmd);
  const init = Bun.spawnSync(as([initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, LC_ALL: "C" },
  });
  if (init.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    why.reason = `initdb failed (${init.exitCode}): ${init.stderr.toString().trim().slice(-500)}`;
    return null;
  }
  const port = await freePort();
  let child: ReturnType<typeof Bun.spawn> | null = null;
  let output = "";

  async function start(): Promise<void> {
    // Socket in the data dir (not /var/run), TCP on localhost only, fsync off: a test's data is disposable.
    child = Bun.spawn(
      as([postgres, "-D", data, "-p", String(port), "-k", dir, "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"]),
      { stdout: "ignore", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } },
    );
    const running = child;
    (async () => {
      for await (const chunk of running.stderr as ReadableStream<Uint8Array>) output += new TextDecoder().decode(chunk);
    })().catch(() => {});
    for (let i = 0; i < 200; i++) {
      if (running.exitCode !== null) throw new Error(`postgres exited ${running.exitCode}: ${output.slice(-500)}`);
      if (await accepting()) return;
      await Bun.sleep(50);
    }
    throw new Error(`postgres did not accept connections in 10 s: ${output.slice(-500)}`);
  }

  async function accepting(): Promise<boolean> {
    const { SQL } = await import("bun");
    const sql = new SQL(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, connectionTimeout: 1 });
    try {
      await sql`select 1`;
      return true;
    } catch {
      return false;
    } finally {
      await sql.close().catch(() => {});
    }
  }

  /** SIGINT (fast shutdown) or SIGQUIT (immediate) to the postmaster itself: runuser does not pass signals on. */
  function interrupt(signal: "SIGINT" | "SIGQUIT" = "SIGINT"): void {
    try {
      const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      if (pid > 0) process.kill(pid, signal);
    } catch {
      child?.kill(signal); // not started far enough to write its pid file
    }
  }

  async function halt(mode: "fast" | "immediate" = "fast"): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null) return;
    interrupt(mode === "immediate" ? "SIGQUIT" : "SIGINT");
    await running.exited;
    child = null;
  }

  // A test process that dies must not leave a server behind.
  process.once("exit", () => {
    if (child && child.exitCode === null) interrupt();
  });
  try {
    await start();
  } catch (error) {
    await halt();
    rmSync(dir, { recursive: true, force: true });
    why.reason = String(error instanceof Error ? error.message : error);
    return null;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    start,
    halt,
    async createDatabase(name: string) {
      const { SQL } = await import("bun");
      const sql = new SQL(url, { max: 1 });
      try {
        await sql.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await sql.close();
      }
      return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
