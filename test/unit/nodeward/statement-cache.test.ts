import assert from "node:assert/strict";
import { describe, test } from "node:test";
import SqliteDatabase from "better-sqlite3";
import { withStatementCache } from "../../../src/nodeward/store/statement-cache.js";

describe("statement cache", () => {
  test("the same SQL reuses its prepared statement, which still runs with new parameters", () => {
    const db = withStatementCache(new SqliteDatabase(":memory:"));
    db.prepare("create table t (v integer)").run([]);
    const insert = db.prepare("insert into t (v) values (?)");
    assert.equal(db.prepare("insert into t (v) values (?)"), insert);
    insert.run([1]);
    db.prepare("insert into t (v) values (?)").run([2]);
    assert.deepEqual(db.prepare("select v from t order by v").all([]), [{ v: 1 }, { v: 2 }]);
    db.close();
  });

  test("bounded: the least recently used statement is dropped", () => {
    const db = withStatementCache(new SqliteDatabase(":memory:"), 2);
    const a = db.prepare("select 1");
    const b = db.prepare("select 2");
    assert.equal(db.prepare("select 1"), a); // a is now the most recent
    db.prepare("select 3"); // evicts b
    assert.equal(db.prepare("select 1"), a);
    assert.notEqual(db.prepare("select 2"), b);
    db.close();
  });
});
