import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import type { Bad, FieldSpec, ImportKind, ImportRow, RecordsImport } from './kinds';
import type { ErrorList } from './report';
import {
  FY_FIELD,
  loadBy,
  requireYear,
  rowProblem,
  sourcedStore,
  sourceFileOf,
  sourceKindOf,
  unnestKeys,
} from './kind-parts';
import { readDecimalCell } from './cells';
import { readMoney } from '../../common/money';
import { money } from '../funding/model';
import { agreementOn } from '../safety-valve/agreement';

/**
 * Safety Valve data as the DfE and the LA hold it: the agreement (a version per DfE revision), the plan by
 * year to the agreement's end, the monitoring reports at the agreement's cadence, the instalments with their
 * status, and the KPIs reported with each return. The same kinds back the Finance mutations
 * (safety-valve.mutations.ts), so a hand-entered figure passes the same checks as an imported one.
 */

/** "2025-26": a financial year code, April to March. */
export function isFinancialYearCode(text: unknown): boolean {
  const m = typeof text === 'string' ? /^(\d{4})-(\d{2})$/.exec(text) : null;
  return Boolean(m && (Number(m[1]) + 1) % 100 === Number(m[2]));
}

const fyStart = (fy: string) => `${fy.slice(0, 4)}-04-01`;

/** A date column: read by the validator's one date reader (cells.ts), so its value is ISO or null. */
const dateField = (name: string, required: boolean, description: string, example: string): FieldSpec => ({
  name,
  kind: 'date',
  required,
  description: `${description} (a date: YYYY-MM-DD, DD/MM/YYYY, or an Excel date).`,
  example,
});
const dateOf = (v: unknown) => (typeof v === 'string' ? v : null);
/** "2025-26-Q2" or "2025-26-R2": the report's financial year, then its number within the year. */
const checkPeriodCode = (row: ImportRow, numberField: string | null, bad: Bad) => {
  const code = row.values.periodCode as string | undefined;
  if (code === undefined) return;
  const m = /^(\d{4}-\d{2})-[A-Z](\d{1,2})$/.exec(code);
  if (!m) return bad('periodCode', 'must be the financial year and the report number, e.g. 2025-26-Q2 or 2025-26-R2');
  const fy = row.values.financialYear;
  if (fy !== undefined && m[1] !== fy)
    bad('periodCode', `is not in the financial year ${String(fy)} given on the line`);
  const n = numberField ? row.values[numberField] : undefined;
  if (typeof n === 'number' && Number(m[2]) !== n)
    bad('periodCode', `ends in report ${Number(m[2])}, but ${numberField} is ${n}`);
};
const dec = (v: unknown) => (v === null || v === undefined ? null : money(v as string));

const PERIOD_FIELD: FieldSpec = {
  name: 'periodCode',
  kind: 'code',
  required: true,
  description: 'Reporting period: the financial year and the report number in it, e.g. 2025-26-Q2 or 2025-26-R2.',
  example: '2025-26-R2',
};

async function requireAgreement(tx: EntityManager, rows: ImportRow[], errors: ErrorList, column: string) {
  const a = await agreementOn(tx);
  if (!a)
    for (const r of rows)
      rowProblem(errors, r, column, 'no Safety Valve agreement is held: import the agreement first');
  return a;
}

/** Each line's financial year is one of the agreement's. */
async function requireAgreementYears(tx: EntityManager, rows: ImportRow[], errors: ErrorList) {
  const a = await requireAgreement(tx, rows, errors, 'financialYear');
  if (!a) return;
  for (const r of rows) {
    const fy = r.values.financialYear as string;
    if (fy < a.firstFinancialYear || fy > a.lastFinancialYear)
      rowProblem(
        errors,
        r,
        'financialYear',
        `is outside the agreement's years (${a.firstFinancialYear} to ${a.lastFinancialYear})`,
      );
  }
}

export const AGREEMENT_KIND: RecordsImport = {
  kind: 'safety-valve-agreement',
  mode: 'records',
  title: 'Safety Valve agreement',
  description:
    "The local authority's Safety Valve agreement with the DfE, a line per version: as first signed, then each DfE revision (years, totals, " +
    'reporting cadence), effective from its date. A line for a code and date the hub holds already corrects that version; a new date adds ' +
    'a version. The agreement of record is the latest version in effect.',
  fields: [
    {
      name: 'agreementCode',
      kind: 'code',
      required: true,
      description: 'Agreement reference.',
      example: 'SV-2022',
    },
    dateField('effectiveFrom', true, 'The day this version takes effect', '2022-03-31'),
    {
      name: 'firstFinancialYear',
      kind: 'code',
      required: true,
      description: 'First financial year covered.',
      example: '2022-23',
    },
    {
      name: 'lastFinancialYear',
      kind: 'code',
      required: true,
      description: 'Last financial year covered.',
      example: '2027-28',
    },
    {
      name: 'dfeContribution',
      kind: 'money',
      required: true,
      description: 'Total DfE contribution (£).',
      example: '140000000.00',
    },
    {
      name: 'laContribution',
      kind: 'money',
      required: true,
      description: 'Total LA contribution (£).',
      example: '82000000.00',
    },
    {
      name: 'deficitAtStart',
      kind: 'money',
      required: true,
      description: 'Cumulative DSG deficit at the start (£).',
      example: '97000000.00',
    },
    dateField('deficitAtStartDate', true, 'When the starting deficit was measured', '2022-03-31'),
    {
      name: 'reportsPerYear',
      kind: 'int',
      required: true,
      description: 'Monitoring reports a year the agreement asks for, 1 to 12 (e.g. 3).',
      example: '3',
    },
    dateField(
      'broughtForwardDate',
      false,
      'Date of the position brought forward into the first year the hub holds',
      '2023-03-31',
    ),
    {
      name: 'broughtForwardPlan',
      kind: 'signedMoney',
      required: false,
      description: 'Planned cumulative DSG position on broughtForwardDate (£, negative is a deficit).',
      example: '-83000000.00',
    },
    {
      name: 'broughtForwardOutturn',
      kind: 'signedMoney',
      required: false,
      description: 'Outturn cumulative DSG position on broughtForwardDate (£, negative is a deficit).',
      example: '-85800000.00',
    },
    {
      name: 'note',
      kind: 'text',
      required: false,
      maxLength: 200,
      description: 'What this version changed.',
      example: 'First signed',
    },
  ],
  key: ['agreementCode', 'effectiveFrom'],
  async checkAgainstStore(tx) {
    // Versions are numbered max + 1: one writer at a time, from before it reads what is held to its commit.
    await tx.query(`LOCK TABLE safety_valve_agreement IN SHARE ROW EXCLUSIVE MODE`);
  },
  check(row, _refs, bad) {
    const v = row.values;
    for (const f of ['firstFinancialYear', 'lastFinancialYear'])
      if (v[f] !== undefined && !isFinancialYearCode(v[f])) bad(f, 'is not a financial year code such as 2022-23');
    if (
      isFinancialYearCode(v.firstFinancialYear) &&
      isFinancialYearCode(v.lastFinancialYear) &&
      (v.lastFinancialYear as string) < (v.firstFinancialYear as string)
    )
      bad('lastFinancialYear', `is before the first financial year ${String(v.firstFinancialYear)}`);
    const n = v.reportsPerYear;
    if (typeof n === 'number' && (n < 1 || n > 12)) bad('reportsPerYear', 'must be from 1 to 12 reports a year');
    const bf = ['broughtForwardDate', 'broughtForwardPlan', 'broughtForwardOutturn'];
    const given = bf.filter((f) => v[f] !== null && v[f] !== undefined);
    if (given.length > 0 && given.length < 3)
      for (const f of bf.filter((x) => !given.includes(x)))
        if (v[f] === null)
          bad(
            f,
            `is required with ${given.join(' and ')}: the brought-forward position is a date, a plan and an outturn`,
          );
    const start = dateOf(v.deficitAtStartDate);
    const bfDate = dateOf(v.broughtForwardDate);
    if (start && bfDate && bfDate < start) bad('broughtForwardDate', `is before the starting deficit's date ${start}`);
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: `${v.agreementCode}|${dateOf(v.effectiveFrom)}`,
      after: {
        firstFinancialYear: v.firstFinancialYear,
        lastFinancialYear: v.lastFinancialYear,
        dfeContribution: dec(v.dfeContribution),
        laContribution: dec(v.laContribution),
        deficitAtStart: dec(v.deficitAtStart),
        deficitAtStartDate: dateOf(v.deficitAtStartDate),
        reportsPerYear: v.reportsPerYear,
        broughtForwardDate: dateOf(v.broughtForwardDate),
        broughtForwardPlan: dec(v.broughtForwardPlan),
        broughtForwardOutturn: dec(v.broughtForwardOutturn),
        note: v.note ?? null,
      },
    })),
  store: {
    async load(tx, ids) {
      const [c, d] = unnestKeys(ids, 2);
      return loadBy(
        tx,
        `SELECT a.code || '|' || a.effective_from::text AS id, a.version, a.first_financial_year AS "firstFinancialYear",
                a.last_financial_year AS "lastFinancialYear", a.dfe_contribution AS "dfeContribution", a.la_contribution AS "laContribution",
                a.deficit_at_start AS "deficitAtStart", a.deficit_at_start_date::text AS "deficitAtStartDate", a.reports_per_year AS "reportsPerYear",
                a.brought_forward_date::text AS "broughtForwardDate", a.brought_forward_plan AS "broughtForwardPlan",
                a.brought_forward_outturn AS "broughtForwardOutturn", a.note
           FROM unnest($1::text[], $2::date[]) x(c, d) JOIN safety_valve_agreement a ON a.code = x.c AND a.effective_from = x.d`,
        [c, d],
      );
    },
    async write(tx, changed, existing, src) {
      // In date order, so a new version numbers after the ones it follows in the same file.
      for (const ch of [...changed].sort((a, b) => a.id.localeCompare(b.id))) {
        const [code, from] = ch.id.split('|');
        const a = ch.after;
        const params = [
          code,
          from,
          a.firstFinancialYear,
          a.lastFinancialYear,
          a.dfeContribution,
          a.laContribution,
          a.deficitAtStart,
          a.deficitAtStartDate,
          a.reportsPerYear,
          a.broughtForwardDate,
          a.broughtForwardPlan,
          a.broughtForwardOutturn,
          a.note,
          sourceKindOf(src),
          sourceFileOf(src),
          src.by,
        ];
        const old = existing.get(ch.id);
        if (old) {
          await tx.query(
            `UPDATE safety_valve_agreement SET first_financial_year = $3, last_financial_year = $4, dfe_contribution = $5::numeric,
                    la_contribution = $6::numeric, deficit_at_start = $7::numeric, deficit_at_start_date = $8::date, reports_per_year = $9::int,
                    brought_forward_date = $10::date, brought_forward_plan = $11::numeric, brought_forward_outturn = $12::numeric, note = $13::text,
                    source_kind = $14::text, source_file = $15::text, source_by = $16::text, source_at = now()
              WHERE code = $1 AND effective_from = $2::date`,
            params,
          );
        } else {
          const [{ version }] = await tx.query(
            `INSERT INTO safety_valve_agreement (code, version, effective_from, first_financial_year, last_financial_year, dfe_contribution,
                    la_contribution, deficit_at_start, deficit_at_start_date, reports_per_year, brought_forward_date, brought_forward_plan,
                    brought_forward_outturn, note, source_kind, source_file, source_by, source_at)
             SELECT $1::text, coalesce((SELECT max(version) FROM safety_valve_agreement WHERE code = $1::text), 0) + 1, $2::date, $3::text, $4::text,
                    $5::numeric, $6::numeric, $7::numeric, $8::date, $9::int, $10::date, $11::numeric, $12::numeric, $13::text, $14::text,
                    $15::text, $16::text, now()
             RETURNING version`,
            params,
          );
          ch.after.version = version;
        }
      }
    },
  },
};

export const PLAN_KIND: RecordsImport = {
  kind: 'safety-valve-plan',
  mode: 'records',
  title: 'Safety Valve plan by year',
  description:
    "The agreement's planned in-year DSG position for each financial year to the agreement's end (the trajectory the DfE monitors).",
  fields: [
    FY_FIELD,
    {
      name: 'inYearPlan',
      kind: 'signedMoney',
      required: true,
      description: 'Planned in-year DSG position (£, negative is a deficit).',
      example: '18000000.00',
    },
  ],
  key: ['financialYear'],
  check(row, refs, bad) {
    requireYear(refs, row, bad, 'financialYear', ' held by the hub');
  },
  checkAgainstStore: requireAgreementYears,
  records: (rows) =>
    rows.map(({ values: v }) => ({ id: v.financialYear as string, after: { inYearPlan: dec(v.inYearPlan) } })),
  store: sourcedStore({
    table: 'safety_valve_plan_year',
    keys: [['financial_year_code', 'text']],
    columns: { inYearPlan: ['in_year_plan', 'numeric'] },
  }),
};

const positionField = (name: string, description: string, example: string): FieldSpec => ({
  name,
  kind: 'signedMoney',
  required: true,
  description: `${description} (£, negative is a deficit).`,
  example,
});

export const REPORT_KIND: RecordsImport = {
  kind: 'safety-valve-reports',
  mode: 'records',
  title: 'Safety Valve monitoring reports',
  description:
    'The monitoring reports made to the DfE, a line per report, at the cadence the agreement sets (its reportsPerYear): the DSG position ' +
    'as filed. The hub derives the position it reports from the block; the filed figures stand where the block has no drivers.',
  fields: [
    PERIOD_FIELD,
    FY_FIELD,
    {
      name: 'reportNumber',
      kind: 'int',
      required: true,
      description: "The report's number in the financial year, 1 to the agreement's reportsPerYear.",
      example: '2',
    },
    dateField('reportDate', true, 'The day the report was submitted', '2025-10-31'),
    positionField('inYearPlan', 'Planned in-year DSG position', '18000000.00'),
    positionField('inYearForecast', 'Forecast in-year DSG position', '-3600000.00'),
    positionField('cumulativePlan', 'Planned cumulative DSG position at year end', '-33000000.00'),
    positionField('cumulativeForecast', 'Forecast cumulative DSG position at year end', '-68300000.00'),
    {
      name: 'dfeInstalment',
      kind: 'money',
      required: false,
      description: 'DfE instalment paid after the report, if any (£).',
      example: '3500000.00',
    },
  ],
  key: ['periodCode'],
  check(row, refs, bad) {
    requireYear(refs, row, bad, 'financialYear', ' held by the hub');
    checkPeriodCode(row, 'reportNumber', bad);
    const n = row.values.reportNumber;
    if (typeof n === 'number' && (n < 1 || n > 12)) bad('reportNumber', 'must be from 1 to 12');
    const date = dateOf(row.values.reportDate);
    const fy = row.values.financialYear as string | undefined;
    if (date && fy && isFinancialYearCode(fy) && date < fyStart(fy))
      bad('reportDate', `is before the financial year ${fy} it reports on starts (${fyStart(fy)})`);
  },
  async checkAgainstStore(tx, rows, errors) {
    if (!(await requireAgreement(tx, rows, errors, 'reportNumber'))) return;
    const slots = new Map<string, ImportRow>();
    const stored: { p: string; fy: string; n: number }[] = await tx.query(
      `SELECT period_code AS p, financial_year_code AS fy, quarter AS n FROM safety_valve_report`,
    );
    const storedSlot = new Map(stored.map((s) => [`${s.fy}|${s.n}`, s.p]));
    for (const r of rows) {
      const v = r.values;
      const a = await agreementOn(tx, v.reportDate as string);
      if (a && (v.reportNumber as number) > a.reportsPerYear)
        rowProblem(
          errors,
          r,
          'reportNumber',
          `is more than the ${a.reportsPerYear} reports a year agreement ${a.code} (version ${a.version}) asks for`,
        );
      const slot = `${v.financialYear}|${v.reportNumber}`;
      const other = slots.get(slot);
      if (other)
        rowProblem(
          errors,
          r,
          'reportNumber',
          `report ${String(v.reportNumber)} of ${String(v.financialYear)} is also on line ${other.line}`,
        );
      slots.set(slot, r);
      const held = storedSlot.get(slot);
      if (held && held !== v.periodCode)
        rowProblem(
          errors,
          r,
          'periodCode',
          `report ${String(v.reportNumber)} of ${String(v.financialYear)} is held already as ${held}`,
        );
    }
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: v.periodCode as string,
      after: {
        financialYearCode: v.financialYear,
        quarter: v.reportNumber,
        reportDate: dateOf(v.reportDate),
        inYearPlan: dec(v.inYearPlan),
        inYearForecast: dec(v.inYearForecast),
        cumulativePlan: dec(v.cumulativePlan),
        cumulativeForecast: dec(v.cumulativeForecast),
        dfeInstalment: dec(v.dfeInstalment),
      },
    })),
  store: sourcedStore({
    table: 'safety_valve_report',
    keys: [['period_code', 'text']],
    columns: {
      financialYearCode: ['financial_year_code', 'text'],
      quarter: ['quarter', 'int'],
      reportDate: ['report_date', 'date'],
      inYearPlan: ['in_year_plan', 'numeric'],
      inYearForecast: ['in_year_forecast', 'numeric'],
      cumulativePlan: ['cumulative_plan', 'numeric'],
      cumulativeForecast: ['cumulative_forecast', 'numeric'],
      dfeInstalment: ['dfe_instalment', 'numeric'],
    },
    keepsParameterVersion: true,
  }),
};

export const INSTALMENT_STATUSES = ['DUE', 'PAID', 'PAID_LATE', 'WITHHELD'] as const;

export const INSTALMENT_KIND: RecordsImport = {
  kind: 'safety-valve-instalments',
  mode: 'records',
  title: 'Safety Valve instalments',
  description:
    'The DfE instalments, a line per report they follow (future ones too, as DUE), with their status: PAID, PAID_LATE (with the day it ' +
    'came), WITHHELD or DUE.',
  fields: [
    PERIOD_FIELD,
    FY_FIELD,
    dateField('dueOn', true, 'When the instalment is due', '2025-10-31'),
    { name: 'amount', kind: 'money', required: true, description: 'Amount (£).', example: '3500000.00' },
    {
      name: 'status',
      kind: 'enum',
      required: true,
      values: INSTALMENT_STATUSES,
      description: 'DUE, PAID, PAID_LATE or WITHHELD.',
      example: 'PAID',
    },
    dateField('paidOn', false, 'When it was paid (PAID and PAID_LATE only)', '2025-10-28'),
  ],
  key: ['periodCode'],
  check(row, refs, bad) {
    const v = row.values;
    requireYear(refs, row, bad, 'financialYear', ' held by the hub');
    checkPeriodCode(row, null, bad);
    const paid = v.status === 'PAID' || v.status === 'PAID_LATE';
    if (v.status !== undefined && paid && v.paidOn === null)
      bad('status', `is ${String(v.status)}: give the day it was paid (paidOn)`);
    if (v.status !== undefined && !paid && v.paidOn !== null && v.paidOn !== undefined)
      bad(
        'paidOn',
        `is given, but an instalment ${String(v.status)} has not been paid: leave it blank or set the status`,
      );
    const due = dateOf(v.dueOn);
    const on = dateOf(v.paidOn);
    if (v.status === 'PAID_LATE' && due && on && on <= due)
      bad('paidOn', `is not after the due date ${due}: a late payment comes after it`);
  },
  checkAgainstStore: requireAgreementYears,
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: v.periodCode as string,
      after: {
        financialYearCode: v.financialYear,
        dueOn: dateOf(v.dueOn),
        amount: dec(v.amount),
        status: v.status,
        paidOn: dateOf(v.paidOn),
      },
    })),
  store: sourcedStore({
    table: 'safety_valve_instalment',
    keys: [['period_code', 'text']],
    columns: {
      financialYearCode: ['financial_year_code', 'text'],
      dueOn: ['due_on', 'date'],
      amount: ['amount', 'numeric'],
      status: ['status', 'text'],
      paidOn: ['paid_on', 'date'],
    },
  }),
};

export const KPI_UNITS = ['COUNT', 'PERCENT', 'GBP'] as const;

/**
 * A KPI's plan or actual as the line's unit reads it: GBP by the one money parser, a count or a percentage by the
 * decimal reader with safety_valve_kpi's digits (cells.ts); undefined when the cell is empty (or its unit unknown).
 */
function kpiValue(v: ImportRow['values'], field: string) {
  const text = v[field];
  if (typeof text !== 'string' || typeof v.unit !== 'string') return undefined;
  return v.unit === 'GBP' ? readMoney(text, { field, allowNegative: true }) : readDecimalCell(text, 'kpiValue', field);
}
const kpiNumber = (v: ImportRow['values'], field: string) => {
  const read = kpiValue(v, field);
  return read?.ok ? read.value : null;
};

export const KPI_KIND: RecordsImport = {
  kind: 'safety-valve-kpis',
  mode: 'records',
  title: 'Safety Valve KPIs',
  description:
    'The KPIs reported with each monitoring report: a line per report and KPI, with the plan (if the agreement sets one) and the actual. ' +
    'PERCENT values are percentages (12.5 means 12.5%).',
  fields: [
    { ...PERIOD_FIELD, description: 'The monitoring report it was reported with (held by the hub), e.g. 2025-26-R2.' },
    { name: 'kpiCode', kind: 'code', required: true, description: 'KPI code.', example: 'EHCP_TOTAL' },
    {
      name: 'name',
      kind: 'text',
      required: true,
      maxLength: 120,
      description: 'KPI name.',
      example: 'EHCPs maintained',
    },
    {
      name: 'unit',
      kind: 'enum',
      required: true,
      values: KPI_UNITS,
      description: 'COUNT, PERCENT or GBP.',
      example: 'COUNT',
    },
    {
      name: 'plan',
      kind: 'text',
      required: false,
      description: 'Planned value (up to 2 decimals; £ for a GBP KPI).',
      example: '19500',
    },
    {
      name: 'actual',
      kind: 'text',
      required: true,
      description: 'Actual value (up to 2 decimals; £ for a GBP KPI).',
      example: '19823',
    },
  ],
  key: ['periodCode', 'kpiCode'],
  check(row, _refs, bad) {
    for (const f of ['plan', 'actual']) {
      const read = kpiValue(row.values, f);
      if (read && !read.ok) bad(f, read.problem.detail);
      else if (read && row.values.unit === 'PERCENT' && (read.value.startsWith('-') || new Decimal(read.value).gt(100)))
        bad(f, 'is a percentage: from 0 to 100');
    }
  },
  async checkAgainstStore(tx, rows, errors) {
    const held: { p: string }[] = await tx.query(`SELECT period_code AS p FROM safety_valve_report`);
    const periods = new Set(held.map((h) => h.p));
    for (const r of rows)
      if (!periods.has(r.values.periodCode as string))
        rowProblem(errors, r, 'periodCode', 'is not a monitoring report held by the hub: import the report first');
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: `${v.periodCode}|${v.kpiCode}`,
      after: {
        name: v.name,
        unit: v.unit,
        plan: kpiNumber(v, 'plan'),
        actual: kpiNumber(v, 'actual'),
      },
    })),
  store: sourcedStore({
    table: 'safety_valve_kpi',
    keys: [
      ['period_code', 'text'],
      ['kpi_code', 'text'],
    ],
    columns: {
      name: ['name', 'text'],
      unit: ['unit', 'text'],
      plan: ['plan', 'numeric'],
      actual: ['actual', 'numeric'],
    },
    keepsParameterVersion: true,
  }),
};

/** The Safety Valve import kinds, in the order a first load needs them (the agreement, then what it governs). */
export const SAFETY_VALVE_IMPORT_KINDS: ImportKind[] = [
  AGREEMENT_KIND,
  PLAN_KIND,
  REPORT_KIND,
  INSTALMENT_KIND,
  KPI_KIND,
];
