/**
 * The block's drivers and figures in and out of the database. The rules are in block.ts; this file only
 * reads drivers, writes the computed lines of record, and assembles the DSG position of record.
 */
import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import {
  BLOCK_LINE_BY_CODE,
  BLOCK_LINES,
  BlockDrivers,
  BlockLineCode,
  dsgPositions,
  DsgYear,
  IncomeDrivers,
  incomeFor,
  Instalment,
  Provider,
} from './block';
import type { FundingResults } from './engine';
import type { ModelParameters, PlaceType, TopUpSetting } from './model';
import { sumMoney } from './model';
import { OF_RECORD_ORDER } from '../safety-valve/agreement';
import { todayIso } from '../period/period.service';
import { readAll } from '../../common/statements';

/** Places, specialist counts and placements, in three statements (plus the providers). */
export async function loadBlockDrivers(db: EntityManager): Promise<BlockDrivers> {
  const [providers, places, counts, placements] = await readAll(db, [
    () =>
      db.query(
        `SELECT urn, CASE WHEN phase = 'SPECIAL' THEN 'SPECIAL' WHEN phase = 'PRU' THEN 'AP' ELSE 'SRP' END AS setting
         FROM school WHERE status = 'OPEN' AND (phase IN ('SPECIAL', 'PRU') OR coalesce(srp_capacity, 0) > 0) ORDER BY urn`,
      ),
    () => db.query(`SELECT school_urn AS urn, academic_year_code AS ay, place_type AS type, places FROM place_number`),
    () => db.query(`SELECT school_urn AS urn, term_code AS term, setting, band, pupils FROM top_up_count`),
    () => db.query(`SELECT financial_year_code AS fy, kind, placements, unit_cost AS "unitCost" FROM placement`),
  ] as const);
  const placeMap = new Map<string, Partial<Record<PlaceType, number>>>();
  for (const p of places as { urn: number; ay: string; type: PlaceType; places: number }[]) {
    const k = `${p.urn}|${p.ay}`;
    placeMap.set(k, { ...placeMap.get(k), [p.type]: p.places });
  }
  const countMap = new Map<string, Record<string, number>>();
  for (const c of counts as { urn: number; term: string; setting: TopUpSetting; band: string; pupils: number }[]) {
    const k = `${c.urn}|${c.term}|${c.setting}`;
    countMap.set(k, { ...countMap.get(k), [c.band]: c.pupils });
  }
  return {
    providers: providers as Provider[],
    places: placeMap,
    topUpCounts: countMap,
    placements: new Map(
      (placements as { fy: string; kind: string; placements: number; unitCost: string }[]).map((p) => [
        `${p.fy}|${p.kind}`,
        { placements: p.placements, unitCost: p.unitCost },
      ]),
    ),
  };
}

export interface IncomeOfRecord extends IncomeDrivers {
  broughtForward: { date: string; outturn: string; plan: string } | null;
  plans: Map<string, string>;
}

export async function loadIncome(db: EntityManager): Promise<IncomeOfRecord> {
  const [years, instalments, plans, agreements, otherLa] = await readAll(db, [
    () =>
      db.query(
        `SELECT financial_year_code AS fy, high_needs_allocation AS a, schools_block AS s, la_contribution AS l,
              imported_pupils AS i, exported_pupils AS e FROM dsg_income_year`,
      ),
    () =>
      db.query(
        `SELECT i.period_code AS "periodCode", i.financial_year_code AS "financialYearCode", i.due_on::text AS "dueOn", i.amount, i.status,
              i.paid_on::text AS "paidOn", fy.code AS "paidFinancialYearCode"
         FROM safety_valve_instalment i LEFT JOIN financial_year fy ON i.paid_on BETWEEN fy.start_date AND fy.end_date ORDER BY i.due_on`,
      ),
    () => db.query(`SELECT financial_year_code AS fy, in_year_plan AS plan FROM safety_valve_plan_year`),
    () =>
      db.query(
        // The agreement of record's (the latest version in effect) brought-forward position.
        `SELECT brought_forward_date::text AS date, brought_forward_outturn AS outturn, brought_forward_plan AS plan FROM safety_valve_agreement
        WHERE brought_forward_date IS NOT NULL ORDER BY ${OF_RECORD_ORDER} LIMIT 1`,
        [todayIso()],
      ),
    () => db.query(`SELECT financial_year_code AS fy, placements FROM placement WHERE kind = 'OTHER_LA'`),
  ] as const);
  return {
    years: new Map(
      (years as { fy: string; a: string; s: string; l: string; i: number | null; e: number | null }[]).map((y) => [
        y.fy,
        { highNeedsAllocation: y.a, schoolsBlock: y.s, laContribution: y.l, importedPupils: y.i, exportedPupils: y.e },
      ]),
    ),
    otherLaPlacements: new Map((otherLa as { fy: string; placements: number }[]).map((p) => [p.fy, p.placements])),
    instalments: instalments as Instalment[],
    plans: new Map((plans as { fy: string; plan: string }[]).map((p) => [p.fy, p.plan])),
    broughtForward: agreements[0] ?? null,
  };
}

export interface StoredBlockLine {
  financialYearCode: string;
  lineCode: string;
  name: string;
  sortOrder: number;
  budget: string;
  forecast: string;
  outturn: string | null;
  memo: boolean;
}

export function readBlockLines(db: EntityManager, financialYear: string | null = null): Promise<StoredBlockLine[]> {
  return db.query(
    `SELECT financial_year_code AS "financialYearCode", line_code AS "lineCode", name, sort_order AS "sortOrder", budget, forecast, outturn, memo
       FROM high_needs_block_line WHERE ($1::text IS NULL OR financial_year_code = $1) ORDER BY financial_year_code, sort_order, line_code`,
    [financialYear],
  );
}

/** A year's spend: the outturn once every spending line has one, else the forecast. Memorandum lines excluded. */
export function spendOfLines(lines: { memo: boolean; forecast: string; outturn?: string | null }[]): string {
  const spend = lines.filter((l) => !l.memo);
  const closed = spend.length > 0 && spend.every((l) => l.outturn != null);
  return sumMoney(spend.map((l) => (closed ? l.outturn! : l.forecast)));
}

/**
 * Writes the computed lines of record for the given years from a model run: FUNDING_MODEL lines set budget
 * and forecast, DRIVERS lines the forecast (their budget is the one set for the year). Lines the run did not
 * compute for a year (given figures) are left alone.
 */
export async function writeComputedBlockLines(
  tx: EntityManager,
  model: FundingResults,
  years: string[],
  opts: { replaceImported?: boolean; parameterVersion?: number | null } = {},
): Promise<number> {
  const fy: string[] = [];
  const code: string[] = [];
  const amount: string[] = [];
  const both: boolean[] = [];
  for (const y of years) {
    for (const [c, v] of Object.entries(model.blockLines.get(y) ?? {})) {
      const def = BLOCK_LINE_BY_CODE.get(c as BlockLineCode);
      if (!def || def.method === 'GIVEN' || v === undefined) continue;
      fy.push(y);
      code.push(c);
      amount.push(v);
      both.push(def.method === 'FUNDING_MODEL');
    }
  }
  const [, changed] = await tx.query(
    `UPDATE high_needs_block_line l SET forecast = x.amount, budget = CASE WHEN x.sets_budget THEN x.amount ELSE l.budget END,
            source_kind = 'COMPUTED', source_file = NULL, source_by = NULL, source_at = NULL, source_parameter_version = coalesce($6, l.source_parameter_version)
       FROM unnest($1::text[], $2::text[], $3::numeric[], $4::bool[]) AS x(fy, code, amount, sets_budget)
      WHERE l.financial_year_code = x.fy AND l.line_code = x.code AND (l.forecast <> x.amount OR (x.sets_budget AND l.budget <> x.amount) OR l.source_kind <> 'COMPUTED')
        AND ($5 OR l.source_kind = 'COMPUTED')`,
    [fy, code, amount, both, opts.replaceImported ?? false, opts.parameterVersion ?? null],
  );
  return changed;
}

/** The DSG position of record per financial year: the block's spend of record against its income of record. */
export function dsgOfRecord(
  lines: StoredBlockLine[],
  income: IncomeOfRecord,
  paramsOn: (date: string) => ModelParameters,
): DsgYear[] {
  const years = [...new Set(lines.map((l) => l.financialYearCode))].sort();
  const byYear = (fy: string) => lines.filter((l) => l.financialYearCode === fy);
  return dsgPositions(
    years,
    (fy) => spendOfLines(byYear(fy)),
    (fy) => incomeFor(fy, income, paramsOn(`${fy.slice(0, 4)}-04-01`)),
    income.broughtForward ?? { outturn: '0', plan: '0' },
    income.plans,
  );
}

/** Block lines in the one list's order; codes outside it (imported extras) after. */
export function orderLines<T extends { lineCode: string }>(lines: T[]): T[] {
  const order = new Map(BLOCK_LINES.map((l, i) => [l.code as string, i]));
  return [...lines].sort(
    (a, b) => (order.get(a.lineCode) ?? 99) - (order.get(b.lineCode) ?? 99) || a.lineCode.localeCompare(b.lineCode),
  );
}

export const toMoney = (v: string | number) => new Decimal(v).toFixed(2);
