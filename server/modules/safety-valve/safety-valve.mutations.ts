import { Arg, Ctx, Field, InputType, Int, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { BadInput, Conflict } from '../../errors';
import { writeAudit } from '../audit/audit.service';
import { loadPeriodCatalogue } from '../period/period.service';
import type { RecordsImport, Refs } from '../imports/kinds';
import { validateTable } from '../imports/validate';
import { AGREEMENT_KIND, INSTALMENT_KIND, KPI_KIND, PLAN_KIND, REPORT_KIND } from '../imports/safety-valve-imports';
import { Table, TableRows } from '../imports/table';
import { SOURCE_JSON, toFigureSource } from '../../common/provenance';
import { AGREEMENT_COLUMNS } from './agreement';
import { SafetyValveAgreement, SafetyValveKpi, SafetyValveReport } from './safety-valve.entity';
import { REPORT_COLUMNS } from './safety-valve.report';
import { SafetyValveInstalmentType, SafetyValvePlanYearType } from './safety-valve.types';

/**
 * Finance's hand entry of Safety Valve data: each mutation is one line of the matching import, checked by the
 * same rules (a bad field is a BadInput naming it, with the reason the import would give), written with
 * MANUAL provenance and audited as SAFETY_VALVE.
 */

@InputType({ description: 'A version of the Safety Valve agreement: as first signed, or a DfE revision.' })
export class SafetyValveAgreementVersionInput {
  @Field(() => String, { description: 'Agreement reference.' })
  agreementCode: string;
  @Field(() => String, { description: 'The day this version takes effect (YYYY-MM-DD).' })
  effectiveFrom: string;
  @Field(() => String, { description: 'First financial year covered, e.g. 2022-23.' })
  firstFinancialYear: string;
  @Field(() => String, { description: 'Last financial year covered, e.g. 2027-28.' })
  lastFinancialYear: string;
  @Field(() => String, { description: 'Total DfE contribution (£, a decimal string).' })
  dfeContribution: string;
  @Field(() => String, { description: 'Total LA contribution (£, a decimal string).' })
  laContribution: string;
  @Field(() => String, { description: 'Cumulative DSG deficit at the start (£, a decimal string).' })
  deficitAtStart: string;
  @Field(() => String, { description: 'When the starting deficit was measured (YYYY-MM-DD).' })
  deficitAtStartDate: string;
  @Field(() => Int, { description: 'Monitoring reports a year the agreement asks for, 1 to 12.' })
  reportsPerYear: number;
  @Field(() => String, { nullable: true, description: 'Date of the position brought forward (YYYY-MM-DD).' })
  broughtForwardDate?: string | null;
  @Field(() => String, { nullable: true, description: 'Planned cumulative position then (£, negative is a deficit).' })
  broughtForwardPlan?: string | null;
  @Field(() => String, { nullable: true, description: 'Outturn cumulative position then (£, negative is a deficit).' })
  broughtForwardOutturn?: string | null;
  @Field(() => String, { nullable: true, description: 'What this version changed.' })
  note?: string | null;
}

@InputType({ description: 'A Safety Valve monitoring report as filed with the DfE.' })
export class SafetyValveReportInput {
  @Field(() => String, { description: 'Reporting period, e.g. 2025-26-R2.' })
  periodCode: string;
  @Field(() => String, { description: 'Financial year code.' })
  financialYear: string;
  @Field(() => Int, { description: "The report's number in the year, 1 to the agreement's reportsPerYear." })
  reportNumber: number;
  @Field(() => String, { description: 'The day it was submitted (YYYY-MM-DD).' })
  reportDate: string;
  @Field(() => String, { description: 'Planned in-year position (£, negative is a deficit).' })
  inYearPlan: string;
  @Field(() => String, { description: 'Forecast in-year position (£, negative is a deficit).' })
  inYearForecast: string;
  @Field(() => String, { description: 'Planned cumulative position at year end (£).' })
  cumulativePlan: string;
  @Field(() => String, { description: 'Forecast cumulative position at year end (£).' })
  cumulativeForecast: string;
  @Field(() => String, { nullable: true, description: 'DfE instalment paid after the report (£).' })
  dfeInstalment?: string | null;
}

@InputType({ description: 'A DfE Safety Valve instalment and its status.' })
export class SafetyValveInstalmentInput {
  @Field(() => String, { description: 'The reporting period it follows, e.g. 2025-26-R2.' })
  periodCode: string;
  @Field(() => String, { description: 'Financial year code.' })
  financialYear: string;
  @Field(() => String, { description: 'When it is due (YYYY-MM-DD).' })
  dueOn: string;
  @Field(() => String, { description: 'Amount (£, a decimal string).' })
  amount: string;
  @Field(() => String, { description: 'DUE, PAID, PAID_LATE or WITHHELD.' })
  status: string;
  @Field(() => String, { nullable: true, description: 'When it was paid (PAID and PAID_LATE only).' })
  paidOn?: string | null;
}

@InputType({ description: 'A KPI reported with a monitoring report.' })
export class SafetyValveKpiInput {
  @Field(() => String, { description: 'The monitoring report it was reported with.' })
  periodCode: string;
  @Field(() => String, { description: 'KPI code, e.g. EHCP_TOTAL.' })
  kpiCode: string;
  @Field(() => String, { description: 'KPI name.' })
  name: string;
  @Field(() => String, { description: 'COUNT, PERCENT or GBP.' })
  unit: string;
  @Field(() => String, { nullable: true, description: 'Planned value (up to 2 decimals).' })
  plan?: string | null;
  @Field(() => String, { description: 'Actual value (up to 2 decimals).' })
  actual: string;
}

type Values = Record<string, string | number | null | undefined>;

/**
 * One line of an import kind, from a mutation's arguments: validated as the import validates a line, checked
 * against the store, written with MANUAL provenance and audited. Returns the record's id. Finance only: the
 * policy table's rule (auth/policy.ts), put in front of every mutation that calls it.
 */
async function enterOne(
  ctx: Context,
  kind: RecordsImport,
  values: Values,
  opts: { reason?: string | null; createOnly?: (id: string) => string } = {},
): Promise<string> {
  const table: Table = {
    format: 'csv',
    header: kind.fields.map((f) => f.name),
    rows: TableRows.of(
      kind.fields.map((f) => f.name),
      [
        {
          line: 1,
          cells: Object.fromEntries(
            kind.fields.map((f) => {
              const v = values[f.name];
              return [f.name, v === null || v === undefined ? '' : String(v).trim()];
            }),
          ),
        },
      ],
    ),
  };
  return ctx.db.transaction(async (tx) => {
    const refs = { periods: await loadPeriodCatalogue(tx) } as Refs;
    const { rows, errors } = validateTable(kind, table, refs);
    if (errors.count === 0) await kind.checkAgainstStore?.(tx, rows, errors);
    if (errors.count > 0) {
      const [e] = errors.items;
      // BadInput names the field first; the reason says what is wrong with the value (money's reasons name both already).
      const said = e.column && e.reason.startsWith(`${e.column} `) ? e.reason.slice(e.column.length + 1) : null;
      const what = said ?? `${e.value === null || e.value === '' ? '(blank)' : `"${e.value}"`} ${e.reason}`;
      throw new BadInput(
        `${what.replace(/\.+$/, '')}.` +
          (errors.count > 1 ? ` (${errors.count - 1} more problem${errors.count > 2 ? 's' : ''}.)` : ''),
        e.column ?? undefined,
        { problems: errors.items.map((x) => ({ field: x.column, value: x.value, reason: x.reason })) },
      );
    }
    const [record] = kind.records(rows);
    const existing = await kind.store.load(tx, [record.id]);
    const before = existing.get(record.id) ?? null;
    if (before && opts.createOnly) throw new Conflict(opts.createOnly(record.id), { version: before.version });
    await kind.store.write(tx, [record], existing, { file: '', by: ctx.viewer.name, kind: 'MANUAL' });
    await writeAudit(tx, { viewer: ctx.viewer, source: ctx.source, reason: opts.reason?.trim() || null }, [
      {
        entity: 'SAFETY_VALVE',
        entityId: `${kind.kind}:${record.id}`.slice(0, 80),
        action: before ? 'UPDATE' : 'CREATE',
        before,
        after: record.after,
      },
    ]);
    return record.id;
  });
}

const REASON = { nullable: true, description: 'Why (it goes in the audit log).' } as const;

@Resolver()
export class SafetyValveMutationResolver {
  @Mutation(() => SafetyValveAgreement, {
    description:
      'Finance: records a version of the Safety Valve agreement (as first signed, or a DfE revision of its years, totals or reporting ' +
      'cadence), effective from its date; it becomes the agreement of record once in effect. A version already held for the code and ' +
      'date is a CONFLICT (correct it with the safety-valve-agreement import). Audited.',
  })
  async createSafetyValveAgreementVersion(
    @Arg('input', () => SafetyValveAgreementVersionInput, { description: 'The version.' })
    input: SafetyValveAgreementVersionInput,
    @Arg('reason', () => String, REASON) reason: string | null,
    @Ctx() ctx: Context,
  ): Promise<SafetyValveAgreement> {
    const id = await enterOne(
      ctx,
      AGREEMENT_KIND,
      { ...input },
      {
        reason,
        createOnly: (key) => `Agreement ${key.replace('|', ' already has a version effective from ')}.`,
      },
    );
    const [code, from] = id.split('|');
    const [row] = await ctx.db.query(
      `SELECT ${AGREEMENT_COLUMNS} FROM safety_valve_agreement WHERE code = $1 AND effective_from = $2`,
      [code, from],
    );
    return row;
  }

  @Mutation(() => SafetyValvePlanYearType, {
    description:
      "Finance: sets the agreement's planned in-year DSG position for a financial year within its years. Audited.",
  })
  async setSafetyValvePlanYear(
    @Arg('financialYear', () => String, { description: 'Financial year code.' }) financialYear: string,
    @Arg('inYearPlan', () => String, { description: 'Planned in-year position (£, negative is a deficit).' })
    inYearPlan: string,
    @Arg('reason', () => String, REASON) reason: string | null,
    @Ctx() ctx: Context,
  ): Promise<SafetyValvePlanYearType> {
    const id = await enterOne(ctx, PLAN_KIND, { financialYear, inYearPlan }, { reason });
    const [row] = await ctx.db.query(
      `SELECT financial_year_code AS "financialYear", in_year_plan AS "inYearPlan", ${SOURCE_JSON('p')} AS source
         FROM safety_valve_plan_year p WHERE financial_year_code = $1`,
      [id],
    );
    return { ...row, source: toFigureSource(row.source) };
  }

  @Mutation(() => SafetyValveReport, {
    description:
      "Finance: records (or corrects) a monitoring report as filed, at the agreement's cadence: its number in the year may not exceed " +
      'the reportsPerYear of the agreement in effect on its date. Audited.',
  })
  async recordSafetyValveReport(
    @Arg('input', () => SafetyValveReportInput, { description: 'The report.' }) input: SafetyValveReportInput,
    @Arg('reason', () => String, REASON) reason: string | null,
    @Ctx() ctx: Context,
  ): Promise<SafetyValveReport> {
    const id = await enterOne(ctx, REPORT_KIND, { ...input }, { reason });
    const [row] = await ctx.db.query(`SELECT ${REPORT_COLUMNS} FROM safety_valve_report WHERE period_code = $1`, [id]);
    return row;
  }

  @Mutation(() => SafetyValveInstalmentType, {
    description:
      'Finance: records (or updates) a DfE instalment and its status: DUE, PAID, PAID_LATE (with the day it came) or WITHHELD. Audited.',
  })
  async recordSafetyValveInstalment(
    @Arg('input', () => SafetyValveInstalmentInput, { description: 'The instalment.' })
    input: SafetyValveInstalmentInput,
    @Arg('reason', () => String, REASON) reason: string | null,
    @Ctx() ctx: Context,
  ): Promise<SafetyValveInstalmentType> {
    const id = await enterOne(ctx, INSTALMENT_KIND, { ...input }, { reason });
    const [row] = await ctx.db.query(
      `SELECT period_code AS "periodCode", financial_year_code AS "financialYear", due_on::text AS "dueOn", amount, status,
              paid_on::text AS "paidOn", ${SOURCE_JSON('i')} AS source FROM safety_valve_instalment i WHERE period_code = $1`,
      [id],
    );
    return { ...row, source: toFigureSource(row.source) };
  }

  @Mutation(() => SafetyValveKpi, {
    description: 'Finance: records (or corrects) a KPI of a monitoring report the hub holds. Audited.',
  })
  async recordSafetyValveKpi(
    @Arg('input', () => SafetyValveKpiInput, { description: 'The KPI.' }) input: SafetyValveKpiInput,
    @Arg('reason', () => String, REASON) reason: string | null,
    @Ctx() ctx: Context,
  ): Promise<SafetyValveKpi> {
    const id = await enterOne(ctx, KPI_KIND, { ...input }, { reason });
    const [p, k] = id.split('|');
    const [row] = await ctx.db.query(
      `SELECT period_code AS "periodCode", kpi_code AS "kpiCode", name, unit, plan, actual FROM safety_valve_kpi
        WHERE period_code = $1 AND kpi_code = $2`,
      [p, k],
    );
    return row;
  }
}
