/**
 * The files a finance officer actually holds, read as the DfE publishes them (issue 13, item 5):
 *
 * - apt-budgets: school-level budget data in the Authority Proforma Tool's layout (the "New ISB" sheet: a row per
 *   school, a column per formula factor). The notional SEN lines are derived with the percentages of record and
 *   the file's own "Notional SEN Budget" is checked against them, school by school.
 * - s251: S251 budget or outturn lines in the statistics service's long format (one row per authority, year and
 *   line such as "1.2.1 Top-up funding – maintained schools"), filtered to the hub's authority and mapped to the
 *   High Needs block's lines.
 * - place-numbers: high needs place numbers per institution as the DfE publishes them (URN / UKPRN, pre-16 and
 *   post-16 SEN places, AP places, SEN unit and resourced provision places), into the table the block model reads.
 * - baselines-by-year: a baseline per school and financial or academic year, split into funding terms by the
 *   terms' months (5/12, 4/12, 3/12), exactly, to the penny.
 *
 * Each one validates the whole file, reports every problem with line, column, value and reason, and writes
 * through a finance kind's store (finance.ts) in the import's one transaction and audit, with provenance IMPORTED.
 */
import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import { localAuthority } from '../../common/local-authority';
import { NotionalSenFactorCode } from '../funding/funding.entity';
import { BLOCK_LINE_BY_CODE, BlockLineCode } from '../funding/block';
import { largestRemainderSplit, notionalSenLines, PlaceType, sumMoney } from '../funding/model';
import { recordParameters } from '../funding/parameters-of-record';
import type { FundingTerm } from '../period/period.entity';
import type {
  ImportOptionValues,
  ImportRow,
  PublishedImport,
  PublishedValidated,
  RecordChange,
  Refs,
  Stored,
} from './kinds';
import { BASELINE_STORE, BLOCK_LINE_STORE, NOTIONAL_SEN_STORE } from './finance';
import { columnsNotRead, sourcedStore } from './kind-parts';
import { ErrorList, FileRejected, FirstLines } from './report';
import type { Table, TableOptions, TableRow } from './table';
import {
  academicYearCode,
  capped,
  financialYearCode,
  isNoValue,
  loadSchoolIndex,
  normalizeHeading,
  publishedAmount,
  AMOUNT_UNITS,
  type AmountUnits,
  refuseOtherKinds,
  SchoolIndex,
  wrongFile,
} from './published';

// ---------------------------------------------------------------------------------------------------------------
// Shared bits

const text = (row: TableRow, heading: string | undefined) => row.text(heading);

/** A cell's Excel error (#REF!, a formula with no saved value) as the reason, else null. */
const cellError = (row: TableRow, heading: string | undefined) => row.error(heading);

function idHeading(h: string): 'urn' | 'laestab' | 'ukprn' | 'name' | 'financialYear' | 'academicYear' | 'la' | null {
  const n = normalizeHeading(h);
  if (/^(urn|school urn|schoolurn|provider urn)$/.test(n)) return 'urn';
  if (/^(laestab|la estab|la establishment number|dfe number|dfe no|la\/estab)$/.test(n)) return 'laestab';
  if (/^(ukprn|provider ukprn)$/.test(n)) return 'ukprn';
  if (/^(school name|provider name|institution name|establishment name|name|school)$/.test(n)) return 'name';
  if (/^(financial year|financialyear|fy|funding year)$/.test(n)) return 'financialYear';
  if (/^(academic year|academicyear)$/.test(n)) return 'academicYear';
  if (/^(la|la code|la number|old la code|local authority code|la no)$/.test(n)) return 'la';
  return null;
}

/**
 * A wide published sheet (a column per factor or place type): read from `sheet` (or a "Data" sheet), its header the
 * first of the first `scanRows` rows with an id heading of `ids` and a column the kind reads.
 */
function wideSheet(sheet: string, scanRows: number, ids: string[], reads: (heading: string) => boolean): TableOptions {
  return {
    preferredSheets: [sheet, 'Data'],
    maxColumns: 400,
    headerScanRows: scanRows,
    findHeader: (cells) => cells.some((c) => ids.includes(idHeading(c) ?? '')) && cells.some(reads),
  };
}

function headingsOf<K extends string>(table: Table, classify: (h: string) => K | null): Map<K, string> {
  const out = new Map<K, string>();
  for (const h of table.header) {
    const k = classify(h);
    if (k && !out.has(k)) out.set(k, h);
  }
  return out;
}

/** Resolves the school a row names by URN, else LAESTAB, else UKPRN; reports what does not fit. */
function schoolOf(
  row: TableRow,
  ids: Map<string, string>,
  index: SchoolIndex,
  bad: (column: string, value: string, reason: string) => void,
): number | null | 'none' {
  const la = localAuthority();
  const urnText = text(row, ids.get('urn'));
  const estabText = text(row, ids.get('laestab')).replace(/\//g, '');
  const ukprnText = text(row, ids.get('ukprn'));
  if (urnText === '' && estabText === '' && ukprnText === '') return 'none';
  let laestab: number | null = null;
  if (estabText !== '') {
    if (!/^\d{7}$/.test(estabText)) {
      bad(
        ids.get('laestab')!,
        estabText,
        'is not a LAESTAB (the 3-digit LA code and the 4-digit establishment number)',
      );
      return null;
    }
    laestab = Number(estabText);
    if (Math.floor(laestab / 10000) !== la.code) {
      bad(
        ids.get('laestab')!,
        estabText,
        `belongs to LA ${Math.floor(laestab / 10000)}, not this hub's (${la.code}, ${la.name})`,
      );
      return null;
    }
  }
  if (urnText !== '') {
    if (!/^\d{6,7}$/.test(urnText)) {
      bad(ids.get('urn')!, urnText, 'is not a URN (six digits)');
      return null;
    }
    const s = index.byUrn.get(Number(urnText));
    if (!s) {
      bad(ids.get('urn')!, urnText, 'is not a school in the hub (import the GIAS register first)');
      return null;
    }
    if (laestab !== null && s.laestab !== laestab) {
      bad(ids.get('laestab')!, estabText, `is not URN ${s.urn}'s LAESTAB in the hub (${s.laestab})`);
      return null;
    }
    return s.urn;
  }
  if (laestab !== null) {
    const urn = index.byLaestab.get(laestab);
    if (urn === undefined) {
      bad(ids.get('laestab')!, estabText, 'is not the LAESTAB of a school in the hub');
      return null;
    }
    return urn;
  }
  if (!/^\d{8}$/.test(ukprnText)) {
    bad(ids.get('ukprn')!, ukprnText, 'is not a UKPRN (eight digits)');
    return null;
  }
  const urn = index.byUkprn.get(Number(ukprnText));
  if (urn === undefined) {
    bad(ids.get('ukprn')!, ukprnText, 'is not the UKPRN of a school in the hub');
    return null;
  }
  return urn;
}

/** The year a row is for: its own column, else the option; both given must agree. */
function yearOf(
  row: TableRow,
  heading: string | undefined,
  option: string | null,
  parse: (t: string) => string | null,
  bad: (column: string, value: string, reason: string) => void,
  what: string,
): string | null {
  const t = text(row, heading);
  if (t === '' && !option) {
    bad(heading ?? 'year', '', `is required: ${what}`);
    return null;
  }
  if (t === '') return option;
  const code = parse(t);
  if (!code) {
    bad(heading!, t, `is not ${what}`);
    return null;
  }
  if (option && option !== code) {
    bad(heading!, t, `is not the year the import was asked for (${option})`);
    return null;
  }
  return code;
}

function optionYear(
  options: ImportOptionValues,
  name: string,
  parse: (t: string) => string | null,
  what: string,
): string | null {
  const raw = options[name];
  if (raw === undefined || raw === null || raw === '') return null;
  const code = parse(String(raw));
  if (!code) throw wrongOption(name, String(raw), what);
  return code;
}

function wrongOption(name: string, value: string, what: string) {
  const message = `The option ${name}=${JSON.stringify(value)} is not ${what}.`;
  return new FileRejected(message, [{ line: 0, column: name, value, reason: `is not ${what}` }]);
}

// ---------------------------------------------------------------------------------------------------------------
// apt-budgets

type AptColumn =
  | { kind: 'factor'; factor: NotionalSenFactorCode }
  | { kind: 'check' }
  | { kind: 'other' }
  | { kind: 'id'; id: NonNullable<ReturnType<typeof idHeading>> };

/**
 * An APT heading: a notional SEN factor (the DfE's names for the factor columns, with or without the phase:
 * "Basic Entitlement Primary", "KS3", "Primary FSM6", "Free School Meals Secondary", "Primary IDACI Band F",
 * "Low Prior Attainment", "Mobility", "Minimum Per Pupil Funding"), the file's own notional SEN budget, a factor
 * the hub does not count in notional SEN (EAL, lump sum, sparsity, split sites, PFI, …), or an identity column.
 * Totals, SEN portions, rates, percentages and pupil counts are never amounts of a factor.
 */
export function aptColumn(h: string): AptColumn | null {
  const id = idHeading(h);
  if (id) return { kind: 'id', id };
  const n = normalizeHeading(h);
  if (n === '') return null;
  // "Notional SEN Budget", "Notional SEN (£)", "Notional SEN budget 2026-27": the APT's own total, not a rate or share.
  if (/^notional sen\b/.test(n) && !/%|percent|rate|share|per pupil/.test(n)) return { kind: 'check' };
  if (/\b(minimum per pupil|min per pupil|mppl)\b/.test(n) && !/%|\b(rate|unit|value|percent)\b/.test(n))
    return { kind: 'factor', factor: NotionalSenFactorCode.MINIMUM_PER_PUPIL_MFG };
  if (
    /%/.test(n) ||
    /\b(total|subtotal|sen|percent|percentage|weighting|proportion|rate|unit value|per pupil|pupils|nor|number|count|ratio)\b/.test(
      n,
    )
  )
    return { kind: 'other' };
  if (/\b(fsm ?6|fsm ever ?6|free school meals ever ?6|ever ?6)\b/.test(n))
    return { kind: 'factor', factor: NotionalSenFactorCode.FSM_EVER6 };
  if (/\b(fsm|free school meals|idaci)\b/.test(n)) return { kind: 'factor', factor: NotionalSenFactorCode.DEPRIVATION };
  if (/\b(low prior attainment|low attainment|prior attainment|lpa)\b/.test(n))
    return { kind: 'factor', factor: NotionalSenFactorCode.LOW_PRIOR_ATTAINMENT };
  if (/\bmobility\b/.test(n)) return { kind: 'factor', factor: NotionalSenFactorCode.MOBILITY };
  if (/\b(basic entitlement|awpu|age weighted pupil)\b/.test(n) || /^(ks3|ks4|key stage 3|key stage 4)$/.test(n))
    return { kind: 'factor', factor: NotionalSenFactorCode.BASIC_ENTITLEMENT };
  if (
    /\b(eal|english as an additional language|lump sum|sparsity|split sites?|pfi|london fringe|rates|lac|looked after|exceptional|growth|falling rolls|premises|mfg|de ?delegation|education functions|budget|allocation|funding)\b/.test(
      n,
    )
  )
    return { kind: 'other' };
  return null;
}

const APT_TEMPLATE_HEADINGS = [
  'URN',
  'LAESTAB',
  'School Name',
  'Financial Year',
  'Basic Entitlement Primary',
  'Basic Entitlement KS3',
  'Basic Entitlement KS4',
  'Primary FSM',
  'Secondary FSM',
  'Primary FSM6',
  'Secondary FSM6',
  ...['F', 'E', 'D', 'C', 'B', 'A'].map((b) => `Primary IDACI Band ${b}`),
  ...['F', 'E', 'D', 'C', 'B', 'A'].map((b) => `Secondary IDACI Band ${b}`),
  'Primary Low Prior Attainment',
  'Secondary Low Prior Attainment',
  'Primary EAL',
  'Secondary EAL',
  'Primary Mobility',
  'Secondary Mobility',
  'Minimum Per Pupil Funding',
  'Lump Sum',
  'Sparsity',
  'Split Sites',
  'PFI',
  'London Fringe',
  'Notional SEN Budget',
];

function aptBudgets(): PublishedImport {
  return {
    kind: 'apt-budgets',
    mode: 'published',
    title: "School budgets in the APT's layout (notional SEN derived)",
    description:
      'School-level budget data as the DfE\'s Authority Proforma Tool holds it (its "New ISB" sheet, or a CSV of it): one row per school, ' +
      "a column per formula factor, headed as the APT heads them. Each school's factor columns are summed into the hub's notional SEN factors " +
      '(basic entitlement: Primary, KS3, KS4; FSM6; deprivation: FSM and IDACI bands F to A; low prior attainment; mobility; minimum per pupil ' +
      'funding), the notional SEN lines are derived with the notional SEN percentages of record for the year, and the file\'s own "Notional SEN ' +
      'Budget" is checked against the derived total: differences are reported per school, not refused (the APT may count factors or shares the ' +
      'hub does not). Other factors (EAL, lump sum, sparsity, split sites, PFI, …) are read and not counted. The financial year comes from a ' +
      '"Financial Year" column or the financialYear option.',
    fields: APT_TEMPLATE_HEADINGS.map((name) => ({
      name,
      kind: /^(URN|LAESTAB)$/.test(name)
        ? ('int' as const)
        : /Name|Year/.test(name)
          ? ('text' as const)
          : ('money' as const),
      required: name === 'URN' || name === 'Basic Entitlement Primary',
      description:
        name === 'URN'
          ? 'School URN (or give LAESTAB).'
          : name === 'Notional SEN Budget'
            ? "The APT's notional SEN budget: checked against the hub's derivation."
            : name === 'Financial Year'
              ? 'e.g. 2025-26; or pass the financialYear option.'
              : /Name|LAESTAB/.test(name)
                ? 'As in the APT.'
                : `The school's allocation through the factor (£), as the APT's New ISB sheet gives it.`,
      example: name === 'URN' ? '118001' : name === 'Financial Year' ? '2025-26' : '',
    })),
    key: ['URN', 'Financial Year'],
    table: wideSheet('New ISB', 40, ['urn', 'laestab'], (c) => aptColumn(c)?.kind === 'factor'),
    options: [
      {
        name: 'financialYear',
        kind: 'string',
        description: 'Financial year of the budgets (e.g. 2025-26) when the file has no Financial Year column.',
      },
    ],
    store: NOTIONAL_SEN_STORE,
    async validate(tx, table, refs, options) {
      return validateApt(tx, table, refs, options);
    },
    detailLines: (d) => {
      const diffs = d.differences as { items: AptDifference[]; count: number };
      return [
        `  notional SEN derived with the percentages of record (version ${d.parameterVersion}) for ${(d.schools as number) ?? 0} schools; ` +
          `${diffs.count} differ from the file's Notional SEN Budget`,
        ...diffs.items
          .slice(0, 50)
          .map(
            (x) =>
              `  line ${x.line} URN ${x.schoolUrn}: file £${x.fileNotionalSen}, hub £${x.derivedNotionalSen} (difference £${x.difference})`,
          ),
        ...((d.factorsWithoutColumn as string[]).length
          ? [`  no column for ${(d.factorsWithoutColumn as string[]).join(', ')}: those lines are not imported`]
          : []),
      ];
    },
  };
}

interface AptDifference {
  line: number;
  schoolUrn: number;
  schoolName: string;
  fileNotionalSen: string;
  derivedNotionalSen: string;
  difference: string;
}

async function validateApt(
  tx: EntityManager,
  table: Table,
  refs: Refs,
  options: ImportOptionValues,
): Promise<PublishedValidated> {
  const columns = table.header.map((h) => ({ h, c: aptColumn(h) }));
  const ids = headingsOf(table, idHeading);
  const factorCols = columns.filter((x) => x.c?.kind === 'factor');
  const expected =
    'the APT\'s "New ISB" sheet (or a CSV of it): a row per school with URN or LAESTAB and the formula factor columns ' +
    '(Basic Entitlement Primary, KS3, KS4, FSM, FSM6, IDACI Band F to A, Low Prior Attainment, EAL, Mobility, Lump Sum, Sparsity, ' +
    'Split Sites, PFI, Notional SEN Budget, …)';
  refuseOtherKinds(table, 'apt-budgets', expected);
  const sheetNames = (table.sheets ?? []).map(normalizeHeading);
  if (table.format === 'xlsx' && !sheetNames.includes('new isb') && !sheetNames.includes('data')) {
    const aptLike = sheetNames.some((s) =>
      ['proforma', 'inputs and adjustments', 'local factors', 'cover'].includes(s),
    );
    if (aptLike || factorCols.length === 0)
      throw wrongFile(
        table,
        'apt-budgets',
        `${expected}; the workbook has no "New ISB" sheet (its sheets: ${(table.sheets ?? []).join(', ')})`,
        ['New ISB'],
      );
  }
  if ((!ids.has('urn') && !ids.has('laestab')) || factorCols.length === 0) {
    throw wrongFile(table, 'apt-budgets', expected, [
      ...(!ids.has('urn') && !ids.has('laestab') ? ['URN'] : []),
      ...(factorCols.length === 0 ? ['Basic Entitlement Primary'] : []),
    ]);
  }
  const optionFy = optionYear(options, 'financialYear', financialYearCode, 'a financial year such as 2025-26');
  if (!ids.has('financialYear') && !optionFy) {
    throw new FileRejected(
      'The file has no "Financial Year" column: say which financial year its budgets are for with the financialYear option ' +
        '(POST /import/apt-budgets?financialYear=2025-26, or --financial-year 2025-26).',
      [{ line: table.headerLine ?? 1, column: 'Financial Year', value: null, reason: 'no column and no option' }],
    );
  }
  const checkCol = columns.find((x) => x.c?.kind === 'check')?.h;
  const present = new Set(factorCols.map((x) => (x.c as { factor: NotionalSenFactorCode }).factor));
  const factorsWithoutColumn = Object.values(NotionalSenFactorCode).filter((f) => !present.has(f));
  const index = await loadSchoolIndex(tx);
  const pctByYear = new Map<string, { version: number; pct: Record<NotionalSenFactorCode, string> }>();
  const errors = new ErrorList();
  const rows: ImportRow[] = [];
  const records: RecordChange[] = [];
  const differences: AptDifference[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const seen = new FirstLines();
  let rounded = 0;
  let checked = 0;
  for (const row of table.rows) {
    const before = errors.count;
    const bad = (column: string, value: string, reason: string) =>
      errors.add({ line: row.line, column, value, reason });
    const urn = schoolOf(row, ids, index, bad);
    if (urn === 'none') {
      skipped.push({ line: row.line, reason: 'no URN or LAESTAB (a total or note row)' });
      continue;
    }
    const fy = yearOf(
      row,
      ids.get('financialYear'),
      optionFy,
      financialYearCode,
      bad,
      'a financial year such as 2025-26',
    );
    if (fy && !refs.periods.financialYearByCode.has(fy))
      bad(
        ids.get('financialYear') ?? 'financialYear',
        fy,
        `is not a financial year the hub holds (${refs.periods.financialYears.map((y) => y.code).join(', ')})`,
      );
    const amounts: Record<string, Decimal> = {};
    for (const { h, c } of factorCols) {
      const f = (c as { factor: NotionalSenFactorCode }).factor;
      const err = cellError(row, h);
      if (err) {
        bad(h, text(row, h), err);
        continue;
      }
      const read = publishedAmount(text(row, h), h);
      if (!read.ok) {
        bad(h, text(row, h), read.reason);
        continue;
      }
      if (read.rounded) rounded++;
      amounts[f] = (amounts[f] ?? new Decimal(0)).plus(read.value ?? '0');
    }
    let fileTotal: string | null = null;
    if (checkCol) {
      const err = cellError(row, checkCol);
      const read = err ? null : publishedAmount(text(row, checkCol), checkCol);
      if (err) bad(checkCol, text(row, checkCol), err);
      else if (read && !read.ok) bad(checkCol, text(row, checkCol), read.reason);
      else if (read && read.ok) fileTotal = read.value;
    }
    if (errors.count > before || urn === null || fy === null) continue;
    const key = `${urn}|${fy}`;
    if (
      !seen.once(key, row.line, errors, {
        column: ids.get('urn') ?? ids.get('laestab')!,
        value: String(urn),
        reason: (first) => `the same school and year appear twice, on lines ${first} and ${row.line}: keep one`,
      })
    )
      continue;
    let p = pctByYear.get(fy);
    if (!p) {
      const start = refs.periods.financialYearByCode.get(fy)!.startDate;
      const rec = await recordParameters(tx, String(start).slice(0, 10));
      p = { version: rec.version, pct: rec.parameters.notionalSenPercentages };
      pctByYear.set(fy, p);
    }
    const factorAmounts = Object.fromEntries(
      Object.values(NotionalSenFactorCode).map((f) => [f, (amounts[f] ?? new Decimal(0)).toFixed(2)]),
    ) as Record<NotionalSenFactorCode, string>;
    const derived = notionalSenLines(factorAmounts, p.pct);
    for (const l of derived.lines) {
      if (!present.has(l.factor)) continue;
      records.push({
        id: `${urn}|${fy}|${l.factor}`,
        after: { formulaAmount: l.formulaAmount, senPercentage: l.senPercentage, senAmount: l.senAmount },
      });
    }
    if (fileTotal !== null) {
      checked++;
      const diff = new Decimal(fileTotal).minus(derived.total);
      if (!diff.isZero())
        differences.push({
          line: row.line,
          schoolUrn: urn,
          schoolName: index.byUrn.get(urn)!.name,
          fileNotionalSen: fileTotal,
          derivedNotionalSen: derived.total,
          difference: diff.toFixed(2),
        });
    }
    rows.push({ line: row.line, values: { schoolUrn: urn, financialYear: fy } });
  }
  if (table.rows.length === 0) throw new FileRejected('The file has a header but no rows.', []);
  const known = new Set(columns.filter((x) => x.c !== null).map((x) => x.h));
  return {
    rows,
    errors,
    ignoredColumns: columnsNotRead(table.header, known),
    records,
    details: {
      sheet: table.sheet ?? null,
      headerLine: table.headerLine ?? 1,
      schools: rows.length,
      financialYears: [...pctByYear.keys()],
      parameterVersion: [...pctByYear.values()][0]?.version ?? null,
      percentages: [...pctByYear.values()][0]?.pct ?? null,
      factorColumns: Object.fromEntries(
        [...present].map((f) => [
          f,
          factorCols.filter((x) => (x.c as { factor: string }).factor === f).map((x) => x.h),
        ]),
      ),
      otherFactorColumns: columns.filter((x) => x.c?.kind === 'other').map((x) => x.h),
      factorsWithoutColumn,
      notionalSenColumn: checkCol ?? null,
      checked,
      differences: capped(differences),
      skipped,
      roundedCells: rounded,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// s251

/** The S251 phase columns (gross, by provider phase), as the statistics service names them. */
const PHASES = [
  'early_years_establishments',
  'primary_schools',
  'secondary_schools',
  'sen_and_special_schools',
  'pupil_referral_units_and_alt_provision',
  'post_16',
] as const;
type Phase = (typeof PHASES)[number];

interface S251Mapping {
  /** The block line the line's net amount goes to (and its income, where the line is split by phase). */
  main: BlockLineCode;
  /** Where a phase's gross amount goes instead of `main`. */
  byPhase?: Partial<Record<Phase, BlockLineCode>>;
}

const TOP_UP_PHASES: Partial<Record<Phase, BlockLineCode>> = {
  early_years_establishments: 'EARLY_YEARS_SEN',
  primary_schools: 'MAINSTREAM_TOP_UPS',
  secondary_schools: 'MAINSTREAM_TOP_UPS',
  sen_and_special_schools: 'SPECIAL_SCHOOLS',
  pupil_referral_units_and_alt_provision: 'ALTERNATIVE_PROVISION',
  post_16: 'POST_16',
};

/**
 * S251 high-needs lines (section 1.2, and the high needs place funding 1.0.2 within the ISB) and the block line
 * each feeds. Lines split by phase send each phase's gross amount to that phase's line and the rest of the net
 * amount (the income) to the main line, so every S251 line's net amount lands in full. 1.2.11 (direct payments)
 * and 1.2.12 have no block line: they are reported, with their amounts, and not imported.
 */
export const S251_LINES: Record<string, S251Mapping> = {
  '1.0.2': {
    main: 'SPECIAL_SCHOOLS',
    byPhase: {
      primary_schools: 'RESOURCED_PROVISION',
      secondary_schools: 'RESOURCED_PROVISION',
      sen_and_special_schools: 'SPECIAL_SCHOOLS',
      pupil_referral_units_and_alt_provision: 'ALTERNATIVE_PROVISION',
      post_16: 'POST_16',
    },
  },
  '1.2.1': { main: 'MAINSTREAM_TOP_UPS', byPhase: TOP_UP_PHASES },
  '1.2.2': { main: 'MAINSTREAM_TOP_UPS', byPhase: TOP_UP_PHASES },
  '1.2.3': { main: 'INDEPENDENT_NMSS', byPhase: { post_16: 'POST_16' } },
  '1.2.4': { main: 'COMMUNITY_POTS' },
  '1.2.5': { main: 'CENTRAL_SEN_SERVICES' },
  '1.2.6': { main: 'HOSPITAL_EDUCATION' },
  '1.2.7': { main: 'ALTERNATIVE_PROVISION' },
  '1.2.8': { main: 'CENTRAL_SEN_SERVICES' },
  '1.2.9': {
    main: 'SPECIAL_SCHOOLS',
    byPhase: { pupil_referral_units_and_alt_provision: 'ALTERNATIVE_PROVISION' },
  },
  '1.2.10': {
    main: 'SPECIAL_SCHOOLS',
    byPhase: { pupil_referral_units_and_alt_provision: 'ALTERNATIVE_PROVISION', post_16: 'POST_16' },
  },
  '1.2.13': { main: 'CENTRAL_SEN_SERVICES' },
};

const isHighNeedsCode = (code: string) => code === '1.0.2' || code.startsWith('1.2.');

const S251_TEMPLATE = [
  'time_period',
  'time_identifier',
  'geographic_level',
  'old_la_code',
  'new_la_code',
  'la_name',
  'main_category_planned_expenditure',
  'category_of_planned_expenditure',
  ...PHASES,
  'gross_planned_expenditure',
  'income',
  'net_planned_expenditure',
  'forecast',
];

interface S251Part {
  line: number;
  code: string;
  description: string;
  net: string;
  parts: Record<string, string>;
}

function s251(): PublishedImport {
  return {
    kind: 's251',
    mode: 'published',
    title: 'S251 budget or outturn (High Needs block lines)',
    description:
      "S251 lines as the DfE's statistics service publishes them (Planned LA and school expenditure, or LA and school expenditure: " +
      '"schools_othereducation_la_unrounded_data.csv"): one row per authority, financial year (time_period 202526) and line ' +
      '(category_of_planned_expenditure or category_of_expenditure, e.g. "1.2.1 Top-up funding – maintained schools"). Only the hub\'s own ' +
      "authority's rows (geographic_level Local authority, old_la_code or la_name) and years the hub holds are read. Each high-needs line " +
      "(1.0.2 and 1.2.x) is mapped to a High Needs block line; a budget file sets the lines' budget, an outturn file their outturn, from the " +
      'net amount (net_planned_expenditure or net_expenditure, in pounds unless the units option says otherwise), with a line split by phase ' +
      'column where the phases belong to different block lines. An optional "forecast" column sets the forecast of the row\'s main block line. Lines ' +
      'with no block line, and lines outside the high-needs section, are listed in the report, never silently dropped.',
    fields: S251_TEMPLATE.map((name) => ({
      name,
      kind:
        name.includes('expenditure') || PHASES.includes(name as Phase) || name === 'income' || name === 'forecast'
          ? ('signedMoney' as const)
          : ('text' as const),
      required: ['time_period', 'category_of_planned_expenditure', 'net_planned_expenditure'].includes(name),
      description:
        name === 'forecast'
          ? 'Optional: the latest forecast for the line (£), not in the DfE file.'
          : name === 'category_of_planned_expenditure'
            ? 'The S251 line, e.g. "1.2.1 Top-up funding – maintained schools" (outturn files: category_of_expenditure).'
            : name === 'time_period'
              ? 'Financial year as the statistics service writes it, e.g. 202526.'
              : 'As in the DfE file.',
      example: name === 'time_period' ? '202526' : name === 'geographic_level' ? 'Local authority' : '',
    })),
    key: ['time_period', 'category_of_planned_expenditure'],
    // The national file (every authority, every year) is some 35 MB: it is read for the hub's authority only.
    maxBytes: 96 * 1024 * 1024,
    table: {
      preferredSheets: ['Data'],
      maxColumns: 60,
      keepRow: ourAuthority,
      findHeader: (cells) => {
        const n = cells.map(normalizeHeading);
        return n.includes('time period') && n.some((x) => /^category of (planned )?expenditure$/.test(x));
      },
    },
    options: [
      { name: 'financialYear', kind: 'string', description: 'Read only this financial year (e.g. 2025-26).' },
      {
        name: 'units',
        kind: 'enum',
        values: Object.keys(AMOUNT_UNITS),
        description: "The file's amounts are in pounds (the unrounded files, the default), thousands or millions.",
      },
    ],
    store: BLOCK_LINE_STORE,
    validate: (tx, table, refs, options) => validateS251(tx, table, refs, options),
    detailLines: (d) => {
      const lines = d.blockLines as { financialYear: string; lineCode: string; amount: string }[];
      const notImported = d.notImported as {
        items: { line: number; code: string; description: string; net: string | null; reason: string }[];
      };
      return [
        `  ${d.measure} for ${(d.financialYears as string[]).join(', ')} (LA ${d.la}): ${lines.length} block line(s)`,
        ...lines.map((l) => `  ${l.financialYear} ${l.lineCode}: £${l.amount}`),
        ...notImported.items.map(
          (u) => `  not imported (${u.reason}): line ${u.line} ${u.code} ${u.description} (£${u.net ?? 'no value'})`,
        ),
        ...((d.otherSections as { count: number }).count
          ? [
              `  ${(d.otherSections as { count: number }).count} rows outside the high-needs section not read (e.g. 1.0.1, 1.1.x)`,
            ]
          : []),
      ];
    },
  };
}

const headingIndex = new WeakMap<string[], { code: number; name: number }>();

/** Keeps the rows of the hub's authority (old_la_code, else la_name) as the file is parsed. */
function ourAuthority(cells: string[], header: string[]): boolean {
  let at = headingIndex.get(header);
  if (!at) {
    const n = header.map(normalizeHeading);
    at = { code: n.indexOf('old la code'), name: n.indexOf('la name') };
    headingIndex.set(header, at);
  }
  const la = localAuthority();
  if (at.code >= 0 && (cells[at.code] ?? '') !== '') return cells[at.code] === String(la.code);
  if (at.name >= 0) return (cells[at.name] ?? '').toLowerCase() === la.name.toLowerCase();
  return true;
}

async function validateS251(
  tx: EntityManager,
  table: Table,
  refs: Refs,
  options: ImportOptionValues,
): Promise<PublishedValidated> {
  const h = new Map(table.header.map((x) => [normalizeHeading(x).replace(/ /g, '_'), x]));
  const budget = h.has('category_of_planned_expenditure');
  const outturn = h.has('category_of_expenditure');
  const categoryCol = h.get(budget ? 'category_of_planned_expenditure' : 'category_of_expenditure');
  const netCol = h.get(budget ? 'net_planned_expenditure' : 'net_expenditure');
  const expected =
    "the statistics service's S251 CSV (time_period, time_identifier, geographic_level, old_la_code, new_la_code, la_name, " +
    'category_of_planned_expenditure or category_of_expenditure, the phase columns, gross, income and net_planned_expenditure or net_expenditure)';
  refuseOtherKinds(table, 's251', expected);
  if (!h.has('time_period') || !categoryCol || !netCol || (budget && outturn)) {
    throw wrongFile(
      table,
      's251',
      expected,
      ['time_period', 'category_of_planned_expenditure', 'net_planned_expenditure'].filter(
        (c) => !h.has(c) && !(c.startsWith('category') && categoryCol) && !(c.startsWith('net') && netCol),
      ),
    );
  }
  const measure = budget ? 'BUDGET' : 'OUTTURN';
  const la = localAuthority();
  const onlyFy = optionYear(options, 'financialYear', financialYearCode, 'a financial year such as 2025-26');
  const units = (options.units ?? 'POUNDS') as AmountUnits;
  const forecastCol = h.get('forecast');
  const errors = new ErrorList();
  const rows: ImportRow[] = [];
  const parts = new Map<string, { amount: Decimal; forecast: Decimal | null; from: S251Part[] }>();
  const notImported: {
    line: number;
    financialYear: string;
    code: string;
    description: string;
    net: string | null;
    reason: string;
  }[] = [];
  const otherCodes = new Set<string>();
  let otherSections = 0;
  let otherAuthorities = 0;
  const otherLevels = new Map<string, number>();
  const yearsNotHeld = new Map<string, number>();
  const noCode: number[] = [];
  const seen = new FirstLines();
  const laNames = new Set<string>();
  let rounded = 0;
  let ours = 0;
  for (const row of table.rows) {
    const get = (c: string) => text(row, h.get(c));
    const level = get('geographic_level');
    if (level !== '' && level.toLowerCase() !== 'local authority') {
      otherLevels.set(level, (otherLevels.get(level) ?? 0) + 1);
      continue;
    }
    const oldCode = get('old_la_code');
    const name = get('la_name');
    const mine = oldCode !== '' ? oldCode === String(la.code) : name.toLowerCase() === la.name.toLowerCase();
    if (!mine) {
      otherAuthorities++;
      if (laNames.size < 5) laNames.add(`${oldCode} ${name}`.trim());
      continue;
    }
    ours++;
    const bad = (column: string, value: string, reason: string) =>
      errors.add({ line: row.line, column, value, reason });
    const tp = get('time_period');
    const fy = /^\d{6}$/.test(tp) ? financialYearCode(tp) : null;
    if (!fy) {
      bad(h.get('time_period')!, tp, 'is not a financial year as the statistics service writes it (e.g. 202526)');
      continue;
    }
    if (onlyFy && fy !== onlyFy) continue;
    if (!refs.periods.financialYearByCode.has(fy)) {
      yearsNotHeld.set(fy, (yearsNotHeld.get(fy) ?? 0) + 1);
      continue;
    }
    const category = text(row, categoryCol);
    const m = /^(\d+\.\d+\.\d+)\s+(.*)$/.exec(category);
    if (!m) {
      noCode.push(row.line);
      continue;
    }
    const [, code, description] = m;
    if (!isHighNeedsCode(code)) {
      otherSections++;
      otherCodes.add(code);
      continue;
    }
    const amount = (col: string | undefined, allowNegative = true) => {
      if (!col) return null;
      const read = publishedAmount(text(row, col), col, { allowNegative, units });
      if (!read.ok) {
        bad(col, text(row, col), read.reason);
        return undefined;
      }
      if (read.rounded) rounded++;
      return read.value;
    };
    const before = errors.count;
    const net = amount(netCol);
    const phaseAmounts = PHASES.map((p) => [p, amount(h.get(p))] as const);
    const forecast = forecastCol ? amount(forecastCol) : null;
    if (errors.count > before) continue;
    const key = `${fy}|${code}`;
    if (
      !seen.once(key, row.line, errors, {
        column: categoryCol!,
        value: category,
        reason: (first) => `line ${code} for ${fy} appears twice, on lines ${first} and ${row.line}: keep one`,
      })
    )
      continue;
    const mapping = S251_LINES[code];
    if (!mapping) {
      notImported.push({
        line: row.line,
        financialYear: fy,
        code,
        description,
        net: net ?? null,
        reason: 'no block line',
      });
      continue;
    }
    if (net === null || net === undefined) {
      notImported.push({
        line: row.line,
        financialYear: fy,
        code,
        description,
        net: null,
        reason: `no net amount (${JSON.stringify(text(row, netCol))}: suppressed or not collected)`,
      });
      continue;
    }
    const split: Record<string, Decimal> = {};
    let phased = new Decimal(0);
    for (const [p, v] of phaseAmounts) {
      const target = mapping.byPhase?.[p];
      if (!target || v === null || v === undefined) continue;
      split[target] = (split[target] ?? new Decimal(0)).plus(v);
      phased = phased.plus(v);
    }
    split[mapping.main] = (split[mapping.main] ?? new Decimal(0)).plus(new Decimal(net).minus(phased));
    const partText: Record<string, string> = {};
    for (const [line, v] of Object.entries(split)) {
      if (v.isZero() && line !== mapping.main) continue;
      partText[line] = v.toFixed(2);
      const k = `${fy}|${line}`;
      const acc = parts.get(k) ?? { amount: new Decimal(0), forecast: null, from: [] };
      acc.amount = acc.amount.plus(v);
      parts.set(k, acc);
    }
    if (forecast !== null && forecast !== undefined) {
      const acc = parts.get(`${fy}|${mapping.main}`)!;
      acc.forecast = (acc.forecast ?? new Decimal(0)).plus(forecast);
    }
    const part = { line: row.line, code, description, net, parts: partText };
    for (const line of Object.keys(partText)) parts.get(`${fy}|${line}`)!.from.push(part);
    rows.push({ line: row.line, values: { financialYear: fy, code } });
  }
  if (ours === 0) {
    throw new FileRejected(
      `The file has no rows for this hub's authority (LA ${la.code}, ${la.name}): ` +
        (otherAuthorities || table.droppedRows
          ? `it holds ${otherAuthorities + (table.droppedRows ?? 0)} rows for other authorities, regions or England` +
            `${laNames.size ? ` (e.g. ${[...laNames].join('; ')})` : ''}.`
          : 'it holds no local-authority rows.') +
        ' Download the file with every authority (or filter it to yours) from the statistics service.',
      [{ line: 0, column: 'old_la_code', value: String(la.code), reason: 'no rows for the authority' }],
    );
  }
  // Outturn goes onto the year's lines: a line must have its budget first.
  const ids = [...parts.keys()];
  const existing = ids.length ? await BLOCK_LINE_STORE.load(tx, ids) : new Map<string, Stored>();
  const records: RecordChange[] = [];
  const blockLines: {
    financialYear: string;
    lineCode: string;
    amount: string;
    forecast: string | null;
    from: S251Part[];
  }[] = [];
  for (const [id, acc] of parts) {
    const [fy, lineCode] = id.split('|');
    const def = BLOCK_LINE_BY_CODE.get(lineCode as BlockLineCode)!;
    const was = existing.get(id);
    const amount = acc.amount.toFixed(2);
    const forecast = acc.forecast?.toFixed(2) ?? null;
    if (measure === 'OUTTURN' && !was) {
      for (const p of acc.from)
        errors.add({
          line: p.line,
          column: categoryCol!,
          value: `${p.code} ${p.description}`,
          reason: `${fy} has no ${lineCode} block line yet to put the outturn on: import the year's S251 budget first`,
        });
      continue;
    }
    const after: Stored = {
      name: was?.name ?? def.name,
      sortOrder: was?.sortOrder ?? def.sortOrder,
      budget: measure === 'BUDGET' ? amount : was!.budget,
      // A new line's forecast starts at its budget; an existing forecast changes only through the forecast column.
      forecast: forecast ?? (was ? was.forecast : amount),
      outturn: measure === 'OUTTURN' ? amount : (was?.outturn ?? null),
      memo: was?.memo ?? def.memo,
    };
    records.push({ id, after });
    blockLines.push({ financialYear: fy, lineCode, amount, forecast, from: acc.from });
  }
  blockLines.sort((a, b) => a.financialYear.localeCompare(b.financialYear) || a.lineCode.localeCompare(b.lineCode));
  return {
    rows,
    errors,
    ignoredColumns: [],
    records,
    details: {
      measure,
      la: la.code,
      financialYears: [...new Set(blockLines.map((b) => b.financialYear))],
      units: options.units ?? 'POUNDS',
      blockLines,
      notImported: capped(notImported),
      otherSections: { count: otherSections, codes: [...otherCodes].sort().slice(0, 100) },
      skipped: {
        notRead: table.droppedRows ?? 0,
        otherAuthorities,
        otherLevels: Object.fromEntries(otherLevels),
        yearsNotHeld: Object.fromEntries(yearsNotHeld),
        rowsWithoutLineCode: noCode.slice(0, 100),
      },
      mapping: S251_LINES,
      roundedCells: rounded,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// place-numbers

/**
 * A place-numbers heading: the DfE's "2025 to 2026 special schools and academies - pre-16 SEN places",
 * "… - post-16 SEN places", "… - pre-16 AP places", "… mainstream academies and free schools - pre-16 SEN Unit/RP
 * Places (@£6k)" and "(@£10k)", or the plain "Pre-16 SEN places", "AP places", "SEN unit and resourced provision
 * places". Funding and deduction columns are not places.
 */
export function placeColumn(h: string): { type: PlaceType; academicYear: string | null } | null {
  let n = normalizeHeading(h);
  let academicYear: string | null = null;
  const y = /^(\d{4} to \d{4}|\d{4}\/\d{2}|\d{4}-\d{2})\s+(.*)$/.exec(n);
  if (y) {
    academicYear = academicYearCode(y[1]);
    n = y[2];
  }
  if (!/\bplaces?\b/.test(n) || /deduction|\(£s\)|\bfunding\b|\bamount\b|\btotal\b|\bvalue\b/.test(n)) return null;
  let type: PlaceType | null = null;
  if (/sen unit|unit\/ ?rp|\bunit\b|\brp\b|resourced provision/.test(n)) type = 'SRP';
  else if (/\bap\b|alternative provision/.test(n)) type = 'AP';
  else if (/post ?-? ?16/.test(n)) type = 'SPECIAL_POST16';
  else if (/pre ?-? ?16|\bsen\b/.test(n)) type = 'SPECIAL_PRE16';
  return type ? { type, academicYear } : null;
}

function placeNumbers(): PublishedImport {
  return {
    kind: 'place-numbers',
    mode: 'published',
    title: 'High needs place numbers',
    description:
      'High needs place numbers per institution, in the DfE\'s published layout (the "High_Needs_Places" sheet: URN, UKPRN, LAESTAB, ' +
      'then a column per provider group and place type, headed "2025 to 2026 special schools and academies - pre-16 SEN places" and so on), ' +
      "or the plain headings of the hub's template. Pre-16 SEN places count as special pre-16 places, post-16 SEN places as special post-16, " +
      'AP places as AP, SEN unit and resourced provision places (at £6k and at £10k) as SRP places; several columns of one type are added ' +
      'together. Rows of other authorities (LA code or LAESTAB) are left out; institutions the hub does not hold (colleges, independent ' +
      'providers) are listed in the report. A blank cell under a place column is 0 places; place types with no column are left as they are. The block model reads these places for every ' +
      'scenario. The academic year comes from the headings, an "Academic year" column or the academicYear option.',
    fields: [
      { name: 'URN', kind: 'int', required: true, description: 'School URN (or UKPRN).', example: '118001' },
      { name: 'UKPRN', kind: 'int', required: false, description: 'UK provider reference number.', example: '' },
      { name: 'Academic year', kind: 'text', required: false, description: 'e.g. 2025/26.', example: '2025/26' },
      ...[
        'Pre-16 SEN places',
        'Post-16 SEN places',
        'Pre-16 AP places',
        'Pre-16 SEN unit and resourced provision places',
      ].map((name) => ({
        name,
        kind: 'int' as const,
        required: false,
        description: 'Places (whole number).',
        example: '0',
      })),
    ],
    key: ['URN', 'Academic year'],
    table: wideSheet('High_Needs_Places', 30, ['urn', 'ukprn'], (c) => placeColumn(c) !== null),
    options: [
      {
        name: 'academicYear',
        kind: 'string',
        description: 'Academic year of the places (e.g. 2025/26) when neither the headings nor a column say.',
      },
    ],
    store: sourcedStore({
      table: 'place_number',
      keys: [
        ['school_urn', 'int'],
        ['academic_year_code', 'text'],
        ['place_type', 'text'],
      ],
      columns: { places: ['places', 'int'] },
    }),
    validate: (tx, table, refs, options) => validatePlaces(tx, table, refs, options),
    detailLines: (d) => [
      `  places for ${d.academicYear}: ${Object.entries(d.totals as Record<string, number>)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}`,
      ...(d.notHeld as { items: { line: number; reason: string }[] }).items
        .slice(0, 50)
        .map((s) => `  not imported: line ${s.line}: ${s.reason}`),
      ...((d.otherAuthorities as number) ? [`  ${d.otherAuthorities} rows of other authorities left out`] : []),
    ],
  };
}

async function validatePlaces(
  tx: EntityManager,
  table: Table,
  refs: Refs,
  options: ImportOptionValues,
): Promise<PublishedValidated> {
  const ids = headingsOf(table, idHeading);
  const cols = table.header.map((h) => ({ h, p: placeColumn(h) })).filter((x) => x.p !== null) as {
    h: string;
    p: { type: PlaceType; academicYear: string | null };
  }[];
  const expected =
    "the DfE's high needs place numbers (sheet High_Needs_Places): URN or UKPRN and place columns such as " +
    '"2025 to 2026 special schools and academies - pre-16 SEN places", "… - post-16 SEN places", "… - pre-16 AP places", ' +
    '"… - pre-16 SEN Unit/RP Places (@£6k)"';
  refuseOtherKinds(table, 'place-numbers', expected);
  if ((!ids.has('urn') && !ids.has('ukprn')) || cols.length === 0)
    throw wrongFile(table, 'place-numbers', expected, [
      ...(!ids.has('urn') && !ids.has('ukprn') ? ['URN'] : []),
      ...(cols.length === 0 ? ['Pre-16 SEN places'] : []),
    ]);
  const headingYears = [...new Set(cols.map((c) => c.p.academicYear).filter((y): y is string => y !== null))];
  if (headingYears.length > 1)
    throw new FileRejected(
      `The place columns are for more than one academic year (${headingYears.join(', ')}): import one year at a time.`,
      cols.map((c) => ({
        line: table.headerLine ?? 1,
        column: c.h,
        value: c.p.academicYear,
        reason: 'academic year of the column',
      })),
    );
  const optionAy = optionYear(options, 'academicYear', academicYearCode, 'an academic year such as 2025/26');
  if (headingYears[0] && optionAy && headingYears[0] !== optionAy)
    throw new FileRejected(
      `The place columns are for ${headingYears[0]}, not ${optionAy} as the academicYear option says.`,
      [
        {
          line: table.headerLine ?? 1,
          column: cols[0].h,
          value: headingYears[0],
          reason: 'not the academic year asked for',
        },
      ],
    );
  const fileAy = headingYears[0] ?? optionAy;
  if (!fileAy && !ids.has('academicYear'))
    throw new FileRejected(
      'Neither the headings nor an "Academic year" column say which academic year the places are for: pass the academicYear option ' +
        '(POST /import/place-numbers?academicYear=2025/26, or --academic-year 2025/26).',
      [{ line: table.headerLine ?? 1, column: 'Academic year', value: null, reason: 'no year' }],
    );
  const held = new Set(refs.periods.academicYears.map((a) => a.code));
  const types = [...new Set(cols.map((c) => c.p.type))];
  const la = localAuthority();
  const index = await loadSchoolIndex(tx);
  const errors = new ErrorList();
  const rows: ImportRow[] = [];
  const records: RecordChange[] = [];
  const notHeld: { line: number; reason: string }[] = [];
  const totals: Record<string, number> = Object.fromEntries(types.map((t) => [t, 0]));
  const seen = new FirstLines();
  let otherAuthorities = 0;
  let academicYear: string | null = fileAy;
  for (const row of table.rows) {
    const laText = text(row, ids.get('la'));
    const estab = text(row, ids.get('laestab')).replace(/\//g, '');
    const laOfRow = /^\d{3}$/.test(laText)
      ? Number(laText)
      : /^\d{7}$/.test(estab)
        ? Math.floor(Number(estab) / 10000)
        : null;
    if (laOfRow !== null && laOfRow !== la.code) {
      otherAuthorities++;
      continue;
    }
    const before = errors.count;
    const bad = (column: string, value: string, reason: string) =>
      errors.add({ line: row.line, column, value, reason });
    const ay = yearOf(row, ids.get('academicYear'), fileAy, academicYearCode, bad, 'an academic year such as 2025/26');
    if (ay && !held.has(ay))
      bad(
        ids.get('academicYear') ?? 'academicYear',
        ay,
        `is not an academic year the hub holds (${[...held].join(', ')})`,
      );
    const places: Partial<Record<PlaceType, number>> = {};
    for (const { h, p } of cols) {
      const t = text(row, h).replace(/,/g, '');
      const err = cellError(row, h);
      if (err) {
        bad(h, text(row, h), err);
        continue;
      }
      if (isNoValue(t)) {
        places[p.type] = places[p.type] ?? 0;
        continue;
      }
      if (!/^\d{1,6}(\.0+)?$/.test(t)) {
        bad(h, text(row, h), 'must be a whole number of places, 0 or more');
        continue;
      }
      places[p.type] = (places[p.type] ?? 0) + Number(t);
    }
    // Which school, only once the row is known to be the authority's: a national file lists every institution.
    const idCol = ids.get('urn') ?? ids.get('ukprn')!;
    const urnText = text(row, ids.get('urn'));
    const ukprnText = text(row, ids.get('ukprn'));
    let urn: number | null = null;
    if (urnText === '' && ukprnText === '') {
      if (Object.values(places).every((n) => n === 0)) {
        notHeld.push({ line: row.line, reason: 'no URN or UKPRN and no places (a total or note row)' });
        continue;
      }
      bad(idCol, '', 'is required: the URN (or UKPRN) of the institution');
    } else if (urnText !== '' && !/^\d{6,7}$/.test(urnText)) {
      bad(ids.get('urn')!, urnText, 'is not a URN (six digits)');
    } else {
      urn =
        urnText !== ''
          ? index.byUrn.has(Number(urnText))
            ? Number(urnText)
            : null
          : (index.byUkprn.get(Number(ukprnText)) ?? null);
      if (urn === null && errors.count === before) {
        notHeld.push({
          line: row.line,
          reason: `${urnText !== '' ? `URN ${urnText}` : `UKPRN ${ukprnText}`} is not a school the hub holds (colleges and independent providers are not held): its places are not imported`,
        });
        continue;
      }
    }
    if (errors.count > before || urn === null || ay === null) continue;
    const key = `${urn}|${ay}`;
    if (
      !seen.once(key, row.line, errors, {
        column: idCol,
        value: String(urn),
        reason: (first) => `the same institution appears twice for ${ay}, on lines ${first} and ${row.line}: keep one`,
      })
    )
      continue;
    academicYear = academicYear ?? ay;
    for (const t of types) {
      records.push({ id: `${urn}|${ay}|${t}`, after: { places: places[t] ?? 0 } });
      totals[t] += places[t] ?? 0;
    }
    rows.push({ line: row.line, values: { schoolUrn: urn, academicYear: ay } });
  }
  if (table.rows.length === 0) throw new FileRejected('The file has a header but no rows.', []);
  return {
    rows,
    errors,
    ignoredColumns: [],
    records,
    details: {
      academicYear,
      columns: Object.fromEntries(types.map((t) => [t, cols.filter((c) => c.p.type === t).map((c) => c.h)])),
      totals,
      institutions: rows.length,
      notHeld: capped(notHeld),
      otherAuthorities,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// baselines-by-year

const BASELINE_ALIASES: Record<string, string> = {
  urn: 'schoolUrn',
  schoolurn: 'schoolUrn',
  'school urn': 'schoolUrn',
  financialyear: 'financialYear',
  'financial year': 'financialYear',
  academicyear: 'academicYear',
  'academic year': 'academicYear',
  baseline: 'baseline',
  'annual baseline': 'baseline',
  amount: 'baseline',
  'baseline for the year': 'baseline',
};

/** A year's terms in the catalogue, in order; null unless they make the whole year (12 months). */
function termsOfYear(terms: FundingTerm[], year: string, basis: 'financialYear' | 'academicYear'): FundingTerm[] {
  return terms
    .filter((t) => (basis === 'financialYear' ? t.financialYearCode : t.academicYearCode) === year)
    .sort((a, b) => String(a.startDate).localeCompare(String(b.startDate)));
}

/**
 * A year's amount split into its funding terms by their months, exactly: each term gets amount x months / 12
 * floored to the penny, and the pennies left over go one each to the terms with the largest remainders (ties:
 * the earlier term). The terms' amounts always add up to the year's.
 */
export function splitYear(
  amount: string,
  terms: { code: string; months: number }[],
): { term: string; months: number; amount: string }[] {
  const split = largestRemainderSplit(
    amount,
    terms.map((t) => ({ key: t.code, weight: t.months })),
  );
  return terms.map((t) => ({ term: t.code, months: t.months, amount: split.get(t.code)! }));
}

function baselinesByYear(): PublishedImport {
  return {
    kind: 'baselines-by-year',
    mode: 'published',
    title: 'Baselines per year, split into funding terms',
    description:
      "Each school's baseline (previous individual high-needs funding) for a whole financial year (2025-26) or academic year (2025/26). The hub " +
      "splits it into the year's funding terms by their months (Summer 5/12, Autumn 4/12, Spring 3/12): each term gets the year x months / 12 " +
      'floored to the penny, and the pennies left over go one each to the terms with the largest remainders (ties: the earlier term), so the ' +
      "terms always add up to the year exactly. The terms' baselines are written as the baseline-funding import writes them (the protected " +
      'amount follows), and the report shows each split.',
    fields: [
      { name: 'schoolUrn', kind: 'int', required: true, description: 'School URN.', example: '118001' },
      {
        name: 'financialYear',
        kind: 'code',
        required: false,
        description: 'Financial year, e.g. 2025-26 (or give academicYear).',
        example: '2025-26',
      },
      {
        name: 'academicYear',
        kind: 'code',
        required: false,
        description: 'Academic year, e.g. 2025/26 (or give financialYear).',
        example: '',
      },
      {
        name: 'baseline',
        kind: 'money',
        required: true,
        description: 'Baseline for the whole year (£).',
        example: '30000.00',
      },
    ],
    key: ['schoolUrn', 'financialYear', 'academicYear'],
    store: BASELINE_STORE,
    validate: async (_tx, table, refs) => validateBaselines(table, refs),
    detailLines: (d) =>
      (
        d.splits as {
          items: {
            line: number;
            schoolUrn: number;
            year: string;
            amount: string;
            terms: { term: string; amount: string }[];
          }[];
        }
      ).items
        .slice(0, 50)
        .map(
          (s) =>
            `  line ${s.line} URN ${s.schoolUrn} ${s.year} £${s.amount} → ${s.terms.map((t) => `${t.term} £${t.amount}`).join(', ')}`,
        ),
  };
}

function validateBaselines(table: Table, refs: Refs): PublishedValidated {
  const col = new Map<string, string>();
  for (const h of table.header) {
    const k = BASELINE_ALIASES[normalizeHeading(h)];
    if (k && !col.has(k)) col.set(k, h);
  }
  refuseOtherKinds(table, 'baselines-by-year', 'the columns schoolUrn, financialYear or academicYear, and baseline');
  if (!col.has('schoolUrn') || !col.has('baseline') || (!col.has('financialYear') && !col.has('academicYear')))
    throw wrongFile(
      table,
      'baselines-by-year',
      'the columns schoolUrn (or URN), financialYear or academicYear, and baseline: one row per school and year',
      ['schoolUrn', 'financialYear', 'baseline'].filter(
        (c) => !col.has(c) && !(c === 'financialYear' && col.has('academicYear')),
      ),
    );
  const errors = new ErrorList();
  const rows: ImportRow[] = [];
  const records: RecordChange[] = [];
  const splits: {
    line: number;
    schoolUrn: number;
    year: string;
    amount: string;
    terms: { term: string; months: number; amount: string }[];
  }[] = [];
  const termFrom = new Map<string, number>();
  for (const row of table.rows) {
    const before = errors.count;
    const bad = (column: string, value: string, reason: string) =>
      errors.add({ line: row.line, column, value, reason });
    const urnText = text(row, col.get('schoolUrn'));
    if (!/^\d{1,9}$/.test(urnText))
      bad(col.get('schoolUrn')!, urnText, urnText === '' ? 'is required' : 'must be a whole number');
    else if (!refs.schools.has(Number(urnText))) bad(col.get('schoolUrn')!, urnText, 'is not a school in the hub');
    const fyText = text(row, col.get('financialYear'));
    const ayText = text(row, col.get('academicYear'));
    let year: string | null = null;
    let basis: 'financialYear' | 'academicYear' = 'financialYear';
    if (fyText !== '' && ayText !== '')
      bad(col.get('academicYear')!, ayText, 'give a financial year or an academic year, not both');
    else if (fyText === '' && ayText === '')
      bad(
        col.get('financialYear') ?? col.get('academicYear')!,
        '',
        'is required: the financial year (2025-26) or academic year (2025/26)',
      );
    else if (fyText !== '') {
      year = financialYearCode(fyText);
      if (!year || !refs.periods.financialYearByCode.has(year)) {
        bad(
          col.get('financialYear')!,
          fyText,
          `is not a financial year the hub holds (${refs.periods.financialYears.map((y) => y.code).join(', ')})`,
        );
        year = null;
      }
    } else {
      basis = 'academicYear';
      year = academicYearCode(ayText);
      if (!year || !refs.periods.academicYears.some((a) => a.code === year)) {
        bad(
          col.get('academicYear')!,
          ayText,
          `is not an academic year the hub holds (${refs.periods.academicYears.map((y) => y.code).join(', ')})`,
        );
        year = null;
      }
    }
    const amountText = text(row, col.get('baseline'));
    const err = cellError(row, col.get('baseline'));
    const read = err ? null : publishedAmount(amountText, col.get('baseline')!);
    if (err) bad(col.get('baseline')!, amountText, err);
    else if (read && !read.ok) bad(col.get('baseline')!, amountText, read.reason);
    else if (read && read.ok && read.value === null) bad(col.get('baseline')!, amountText, 'is required');
    else if (read && read.ok && read.rounded)
      bad(col.get('baseline')!, amountText, 'has more than two decimal places: give the baseline to the penny');
    const terms = year ? termsOfYear(refs.periods.fundingTerms, year, basis) : [];
    const months = terms.reduce((s, t) => s + t.months, 0);
    if (year && months !== 12)
      bad(
        col.get(basis)!,
        year,
        `the hub holds only ${terms.map((t) => t.code).join(', ') || 'no terms'} of ${year} (${months} of 12 months): the year cannot be split`,
      );
    if (errors.count > before) continue;
    const urn = Number(urnText);
    const overlap = terms.find((t) => termFrom.has(`${urn}|${t.code}`));
    if (overlap) {
      const first = termFrom.get(`${urn}|${overlap.code}`)!;
      errors.add({
        line: row.line,
        column: col.get(basis)!,
        value: year,
        reason: `${overlap.code} of URN ${urn} also comes from line ${first}: give each term's baseline once`,
      });
      errors.rejectedLines.add(first);
      continue;
    }
    const split = splitYear((read as { value: string }).value, terms);
    for (const s of split) {
      termFrom.set(`${urn}|${s.term}`, row.line);
      records.push({ id: `${urn}|${s.term}`, after: { baseline: s.amount } });
    }
    splits.push({
      line: row.line,
      schoolUrn: urn,
      year: year!,
      amount: (read as { value: string }).value,
      terms: split,
    });
    rows.push({ line: row.line, values: { schoolUrn: urn, year } });
  }
  if (table.rows.length === 0) throw new FileRejected('The file has a header but no rows.', []);
  const known = new Set(col.values());
  return {
    rows,
    errors,
    ignoredColumns: columnsNotRead(table.header, known),
    records,
    details: {
      rounding:
        'each term: year x months / 12 floored to the penny; the pennies left over go one each to the largest remainders (ties: the earlier term)',
      splits: capped(splits),
      total: sumMoney(splits.map((s) => s.amount)),
    },
  };
}

/** The files officers hold as the DfE publishes them, each read by its own layout and written through a finance store. */
export const OFFICER_FILE_KINDS: PublishedImport[] = [aptBudgets(), s251(), placeNumbers(), baselinesByYear()];
