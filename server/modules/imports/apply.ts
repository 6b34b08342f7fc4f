import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import type { ApplyResult, ImportSource, RecordChange, RecordStore, Stored } from './kinds';
import type { Checked } from './validate';

/**
 * The apply step: what a validated file changes, written in the caller's transaction. A records or published
 * import diffs its records against the store and writes the changed ones; a replace import replaces its sets
 * itself. Either way the result counts what changed and carries the audit entries, written by the caller.
 */
export async function applyChecked(tx: EntityManager, checked: Checked, src: ImportSource): Promise<ApplyResult> {
  switch (checked.mode) {
    case 'replace':
      return checked.kind.apply(tx, checked.result.rows);
    case 'records':
      return applyRecords(tx, checked.kind.kind, checked.kind.store, checked.kind.records(checked.result.rows), src);
    case 'published':
      return applyRecords(tx, checked.kind.kind, checked.kind.store, checked.result.records, src);
  }
}

/** Stored and new values compared as exact decimals where both are numbers, so "15.00" equals "15". */
export function differs(before: Stored, after: Stored): boolean {
  return Object.keys(after).some((k) => {
    const a = before[k] ?? null;
    const b = after[k] ?? null;
    if (a === null || b === null) return a !== b;
    const num = /^-?\d+(\.\d+)?$/;
    if (num.test(String(a)) && num.test(String(b))) return !new Decimal(String(a)).eq(String(b));
    return String(a) !== String(b);
  });
}

/** Writes the records that are new or differ from the store's, and says which were created, updated or unchanged. */
export async function applyRecords(
  tx: EntityManager,
  kindName: string,
  store: RecordStore,
  records: RecordChange[],
  src: ImportSource,
): Promise<ApplyResult> {
  const existing = await store.load(
    tx,
    records.map((r) => r.id),
  );
  const changed = records.filter((r) => {
    const before = existing.get(r.id);
    return before === undefined || differs(before, r.after);
  });
  if (changed.length) await store.write(tx, changed, existing, src);
  return {
    created: changed.filter((c) => !existing.has(c.id)).length,
    updated: changed.filter((c) => existing.has(c.id)).length,
    unchanged: records.length - changed.length,
    audit: changed.map((c) => ({
      entity: 'IMPORT' as const,
      entityId: `${kindName}:${c.id}`.slice(0, 80),
      action: existing.has(c.id) ? 'UPDATE' : 'CREATE',
      before: existing.get(c.id) ?? null,
      after: c.after,
    })),
  };
}
