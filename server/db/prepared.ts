import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * Statements PostgreSQL prepares once per connection. The compiled reads (school/school.compiled.ts) send the same
 * few long statements with new parameters on every request; prepared, a connection parses and plans each the first
 * time only, and afterwards just its name and parameters cross the wire (the text of a school(urn) read is a few KB).
 *
 * `prepared(ds, sql)` is what to hand TypeORM's `query` in place of the SQL: an object carrying `name` and `text`,
 * which node-postgres takes as a named query config, and which reads as the SQL itself everywhere else (TypeORM's
 * logging, slow-query warnings and QueryFailedError), so the statement is counted, budgeted and reported as any
 * other. At most MAX_PREPARED distinct texts are prepared per process (each lives in every connection that ran it);
 * past that, and where the DataSource says not to (embedded PGlite, whose connections share one session;
 * HUB_PREPARED_STATEMENTS=0 behind a transaction-pooling proxy), the plain text is sent.
 */
const MAX_PREPARED = 500;
const named = new Map<string, string>();
const enabled = new WeakMap<DataSource, boolean>();

/** Marks whether a DataSource's connections may prepare statements (createDataSource does). */
export function allowPreparedStatements(ds: DataSource, allow: boolean): void {
  enabled.set(ds, allow);
}

export function prepared(ds: DataSource, sql: string): string {
  if (!enabled.get(ds)) return sql;
  let statement = named.get(sql);
  if (!statement) {
    if (named.size >= MAX_PREPARED) return sql;
    // String.prototype's methods are generic (they read the text through toString), so TypeORM and the logger use
    // it as a string; node-postgres copies only its own four properties (a String object would give it one per
    // character to copy).
    statement = Object.assign(Object.create(String.prototype), {
      name: `hnh_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 32)}`,
      text: sql,
      toString: () => sql,
      valueOf: () => sql,
    }) as string;
    named.set(sql, statement);
  }
  return statement;
}
