/** The SQL store and its reader, for the server and the CLI: `openSqlStore(url)`, `SqlStatus`, `migrate`. */
export { engineOf, openSqlStore, redact, SqlStore, type SqlStoreOptions } from "./sql-store.ts";
export { SqlStatus } from "./sql-status.ts";
export { migrate, MIGRATIONS, SCHEMA_VERSION, type Engine } from "./schema.ts";
