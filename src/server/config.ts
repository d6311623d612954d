/** The standalone server's configuration, as the CLI's `serve` flags produce it (cli/serve-flags.ts). */
import type { LogFormat } from "../core/render.ts";
import type { ForwardFilter } from "../forward/filter.ts";

export interface ServeConfig {
  /** Providers to receive (`routee` at `path`, others at `path/<name>`), by registry name. */
  providers: string[];
  /** The scheme, host and port providers call, when a proxy makes them differ (signatures cover it). */
  publicUrl: string | null;
  /** Per provider, its secrets by name (`auth-token`), read from the environment or `--<provider>-<secret>-file`. */
  providerSecrets: Record<string, Record<string, string>>;
  /** Providers whose signatures are not checked, explicitly. */
  unsigned: string[];
  /** Applications' URLs every entry is forwarded to, signed (empty: no forwarding). */
  forward: string[];
  /** The `whsec_` secret the forwarded webhooks are signed with. */
  forwardSecret: string | null;
  forwardSecretFile: string | null;
  forwardFilter: ForwardFilter;
  /** Seconds one forwarding attempt may take. */
  forwardTimeout: number;
  /** Entries per webhook: 1, each its own; more, `sms_status.batch` webhooks of up to that many. */
  forwardBatch: number;
  /** Where forwarders keep their positions; null: beside the log. */
  forwardStateDir: string | null;
  port: number;
  host: string;
  path: string;
  log: string;
  format: LogFormat;
  fsync: boolean;
  bodyLimit: number;
  dedupeKeys: number;
  dedupeHours: number;
  idleTimeout: number;
  /** The shared secret, from --token or read from --token-file. */
  token: string | null;
  tokenFile: string | null;
  allow: string[];
  trustProxy: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  metricsHost: string;
  /** null: no metrics listener. */
  metricsPort: number | null;
  docs: boolean;
  /** The read API's listener: null port, none. */
  apiHost: string;
  apiPort: number | null;
  /** The read API's Bearer token (never the callback token); required off loopback. */
  apiToken: string | null;
  apiTokenFile: string | null;
  /** The SQLite view beside the log (null: none); `--db`, default `<log>.db`, off with `--no-db` or `--format text`. */
  db: string | null;
  noDb: boolean;
  /** PostgreSQL as the journal (`postgres://…`); null: the log file is. */
  databaseUrl: string | null;
  /** The `replica` column; null: host name and port. */
  replica: string | null;
  dbStatementTimeout: number;
  dbMaxConnections: number;
  dbNoPrepare: boolean;
  /** --log (or SMS_STATUS_LOG) was given: with a database, the file is then a copy written after the commit. */
  logGiven: boolean;
}
