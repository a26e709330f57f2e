import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import type { SqliteDatabase as KyselySqliteDatabase } from "kysely";

/**
 * Kysely's SQLite driver prepares every query anew; compiling the SQL was the largest single cost
 * of a session opening (a quarter of nodeward's CPU during a reconnect storm). Statements are
 * reusable, so keep the recent ones by their SQL text. Queries with IN lists of different lengths
 * are different texts: the cache is bounded and drops the least recently used.
 */
export function withStatementCache(db: SqliteDatabase, capacity = 256): KyselySqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    close: () => {
      statements.clear();
      db.close();
    },
    prepare: (sql: string) => {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql); // re-insert: Map order is the recency order
      } else {
        statement = db.prepare(sql);
        if (statements.size >= capacity) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
