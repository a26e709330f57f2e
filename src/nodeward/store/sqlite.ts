import { closeSync, openSync } from "node:fs";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { RunosError } from "../../common/errors.js";
import { KyselyRepository } from "./kysely-repository.js";
import { migrationProvider } from "./migrations.js";
import type { Repository } from "./repository.js";
import type { Database } from "./schema.js";
import { withStatementCache } from "./statement-cache.js";

/**
 * Opens (or creates) the SQLite file and brings its schema up to date. WAL with
 * synchronous=NORMAL: durable at checkpoints, fast enough for batched presence writes.
 */
export async function openSqliteRepository(path: string): Promise<Repository> {
  // token hashes and node records: owner-only, and SQLite gives its -wal/-shm files the same mode
  closeSync(openSync(path, "a", 0o600));
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new KyselyRepository(db, false, () => db.destroy());
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider("sqlite") });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new RunosError("NA_INTERNAL", `database migration ${failed} failed`, { cause: error });
  }
}
