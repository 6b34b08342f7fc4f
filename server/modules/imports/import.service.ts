import type { DataSource } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { authorize, ACTIONS } from '../../auth/policy';
import { fromPotTrigger } from '../allocation/pot-lock';
import { writeAudit } from '../audit/audit.service';
import { assertImportAllowed } from '../instance/instance';
import { applyChecked } from './apply';
import type { ImportKind, ImportOptionValues } from './kinds';
import { IMPORT_KINDS, requireKind } from './registry';
import type { RowError } from './report';
import type { TableOptions } from './table';
import { inTransaction } from './transaction';
import { readTable } from './upload';
import { loadRefs, validateFile } from './validate';

/**
 * An import of a file as one of the kinds (registry.ts): the figures Finance keeps in spreadsheets, from the
 * templates the hub provides (GET /import/templates/<kind>.xlsx), and the files as publishers lay them out. The
 * whole file is validated first (validate.ts), every rejected row is reported with its line, column, value and
 * reason, and it is written all or nothing (apply.ts), in one transaction, with an audit entry per changed record.
 */

export interface ImportReport {
  kind: string;
  format: 'csv' | 'xlsx';
  applied: boolean;
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  errorCount: number;
  errors: RowError[];
  ignoredColumns: string[];
  /** What changed, in plain words, when the kind reports it (e.g. community moves). */
  notes: string[];
  message: string;
  /** Kind-specific: what was derived, split or left out (see the kind's description). */
  details?: Record<string, unknown>;
}

export interface ImportFileOptions {
  viewer: Viewer;
  source: 'API' | 'IMPORT';
  fileName: string;
  dryRun?: boolean;
  /** The kind's options (ImportKind.options), already parsed. */
  options?: ImportOptionValues;
}

/** How a kind's files are read: a published layout as it says; a template's own columns only (the others' cells are dropped as the file is read). */
function readOptionsOf(kind: ImportKind): TableOptions {
  return kind.mode === 'published' ? (kind.table ?? {}) : { columns: kind.fields.map((f) => f.name) };
}

export async function importFile(
  ds: DataSource,
  kindName: string,
  file: Buffer,
  opts: ImportFileOptions,
): Promise<ImportReport> {
  authorize(opts.viewer, ACTIONS.import, 'import');
  const kind = requireKind(kindName);
  await assertImportAllowed(ds);
  const table = await readTable(file, readOptionsOf(kind));
  const dryRun = Boolean(opts.dryRun);
  return inTransaction(ds, { rollback: dryRun }, async (tx) => {
    const refs = await loadRefs(tx);
    const checked = await validateFile(tx, kind, table, refs, opts.options ?? {}, IMPORT_KINDS);
    const { errors, ignoredColumns } = checked.result;
    const details = checked.mode === 'published' ? checked.result.details : undefined;
    const report: ImportReport = {
      kind: kind.kind,
      format: table.format,
      applied: false,
      dryRun,
      rows: table.rows.length,
      created: 0,
      updated: 0,
      unchanged: 0,
      rejected: errors.rejectedLines.size,
      errorCount: errors.count,
      errors: errors.items,
      ignoredColumns,
      notes: [],
      message: '',
      ...(details ? { details } : {}),
    };
    if (errors.count > 0) {
      report.message = `Nothing imported: ${errors.count} problem${errors.count > 1 ? 's' : ''} in ${report.rejected} row${report.rejected > 1 ? 's' : ''}. Fix them and import the file again.`;
      return report;
    }
    const result = await applyChecked(tx, checked, { file: opts.fileName, by: opts.viewer.name });
    await writeAudit(
      tx,
      { viewer: opts.viewer, source: opts.source, reason: `${kind.title} import of ${opts.fileName}` },
      result.audit,
    );
    const verb = dryRun ? 'Dry run: would create' : 'Imported: created';
    return Object.assign(report, {
      created: result.created,
      updated: result.updated,
      unchanged: result.unchanged,
      notes: result.notes ?? [],
      message: `${verb} ${result.created}, updated ${result.updated}; ${result.unchanged} unchanged.`,
      // A dry run's writes are rolled back with its transaction: nothing was applied.
      applied: !dryRun && result.audit.length > 0,
    });
  }).catch((err: unknown) => {
    throw fromPotTrigger(err, `The ${kind.kind} import`) ?? err;
  });
}
