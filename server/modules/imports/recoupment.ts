import type { EntityManager } from 'typeorm';
import type { FieldSpec, ImportRow, ImportSource, RecordsImport, Refs } from './kinds';
import type { ErrorList } from './report';
import { FY_FIELD, loadBy, requireYear, rowProblem } from './kind-parts';
import { money } from '../funding/model';
import { recomputeRecord } from '../scenario/parameters.service';

/**
 * The commissioning and the providing authority, per financial year (DfE high-needs operational guidance):
 * - importedPupils: other authorities' high-needs children in the LA's schools and colleges. Their top-up is the
 *   other authority's to pay; their place funding is the LA's providers', and the LA's allocation gains the
 *   import/export rate (£6,000) per pupil.
 * - exportedPupils: the LA's children in other authorities' provision. Their place funding is the providing
 *   authority's: the LA's allocation loses the rate per pupil.
 * - otherLaPlacements and otherLaUnitCost: those of the LA's children for whom it pays a school top-up, and the
 *   average top-up (the OTHER_LA placement driver of the OTHER_LA_PLACEMENTS line).
 * A row updates the year's DSG income row (the allocation must be held first) and the OTHER_LA placement; the
 * block lines of record are then recomputed from the year's start.
 */

const fields: FieldSpec[] = [
  { ...FY_FIELD, description: 'Financial year code, e.g. 2026-27.', example: '2026-27' },
  {
    name: 'importedPupils',
    kind: 'int',
    required: true,
    description: "Other authorities' high-needs pupils in the LA's schools and colleges (imports).",
    example: '1310',
  },
  {
    name: 'exportedPupils',
    kind: 'int',
    required: true,
    description: "The LA's high-needs pupils in other authorities' schools and colleges (exports).",
    example: '1160',
  },
  {
    name: 'otherLaPlacements',
    kind: 'int',
    required: false,
    description: "The LA's children in other authorities' schools for whom it pays a top-up (empty: as held).",
    example: '790',
  },
  {
    name: 'otherLaUnitCost',
    kind: 'money',
    required: false,
    description: 'The average annual top-up the LA pays for each of them (£; with otherLaPlacements).',
    example: '25700.00',
  },
];

export const RECOUPMENT_KIND: RecordsImport = {
  kind: 'recoupment',
  mode: 'records',
  title: "Pupils imported and exported, and the LA's placements in other authorities' schools",
  description:
    "Per financial year: other authorities' children in the LA's schools (imports), the LA's in theirs (exports), " +
    'for the import/export adjustment at £6,000 a pupil, and the OTHER_LA placements (count and top-up) the ' +
    'OTHER_LA_PLACEMENTS line is computed from.',
  fields,
  key: ['financialYear'],
  check(row: ImportRow, refs: Refs, bad) {
    const v = row.values;
    requireYear(refs, row, bad);
    if ((v.otherLaPlacements ?? null) === null && (v.otherLaUnitCost ?? null) !== null)
      bad('otherLaPlacements', 'is required with otherLaUnitCost');
    if ((v.otherLaPlacements ?? null) !== null && (v.otherLaUnitCost ?? null) === null)
      bad('otherLaUnitCost', 'is required with otherLaPlacements');
  },
  async checkAgainstStore(tx: EntityManager, rows: ImportRow[], errors: ErrorList) {
    const held: { fy: string }[] = await tx.query(
      `SELECT financial_year_code AS fy FROM dsg_income_year WHERE financial_year_code = ANY($1::text[])`,
      [rows.map((r) => r.values.financialYear)],
    );
    const years = new Set(held.map((h) => h.fy));
    for (const r of rows)
      if (!years.has(r.values.financialYear as string))
        rowProblem(errors, r, 'financialYear', 'has no DSG income held (the high-needs allocation): import it first');
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: v.financialYear as string,
      after: {
        importedPupils: v.importedPupils as number,
        exportedPupils: v.exportedPupils as number,
        ...(v.otherLaPlacements == null
          ? {}
          : { otherLaPlacements: v.otherLaPlacements as number, otherLaUnitCost: money(v.otherLaUnitCost as string) }),
      },
    })),
  store: {
    async load(tx, ids) {
      return loadBy(
        tx,
        `SELECT d.financial_year_code AS id, d.imported_pupils AS "importedPupils", d.exported_pupils AS "exportedPupils",
                p.placements AS "otherLaPlacements", p.unit_cost AS "otherLaUnitCost"
           FROM dsg_income_year d LEFT JOIN placement p ON p.financial_year_code = d.financial_year_code AND p.kind = 'OTHER_LA'
          WHERE d.financial_year_code = ANY($1::text[])`,
        [ids],
      );
    },
    async write(tx, changed, _existing, src: ImportSource) {
      const ids = changed.map((c) => c.id);
      await tx.query(
        `UPDATE dsg_income_year d SET imported_pupils = x.i, exported_pupils = x.e, source_kind = 'IMPORTED', source_file = $4, source_by = $5,
                source_at = now(), source_parameter_version = NULL
           FROM unnest($1::text[], $2::int[], $3::int[]) x(fy, i, e) WHERE d.financial_year_code = x.fy`,
        [ids, changed.map((c) => c.after.importedPupils), changed.map((c) => c.after.exportedPupils), src.file, src.by],
      );
      const placements = changed.filter((c) => c.after.otherLaPlacements !== undefined);
      if (placements.length)
        await tx.query(
          `INSERT INTO placement (financial_year_code, kind, placements, unit_cost, source_kind, source_file, source_by, source_at)
           SELECT fy, 'OTHER_LA', n, c, 'IMPORTED', $4, $5, now() FROM unnest($1::text[], $2::int[], $3::numeric[]) x(fy, n, c)
           ON CONFLICT (financial_year_code, kind) DO UPDATE SET placements = EXCLUDED.placements, unit_cost = EXCLUDED.unit_cost,
             source_kind = 'IMPORTED', source_file = EXCLUDED.source_file, source_by = EXCLUDED.source_by, source_at = EXCLUDED.source_at,
             source_parameter_version = NULL`,
          [
            placements.map((c) => c.id),
            placements.map((c) => c.after.otherLaPlacements),
            placements.map((c) => c.after.otherLaUnitCost),
            src.file,
            src.by,
          ],
        );
      // The OTHER_LA_PLACEMENTS line of record follows its drivers (a line entered by hand is kept and reported).
      if (placements.length) {
        const from = `${[...placements.map((c) => c.id)].sort()[0].slice(0, 4)}-04-01`;
        await recomputeRecord(tx, { from, what: 'the recoupment import' });
      }
    },
  },
};
