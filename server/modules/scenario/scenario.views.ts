/** A computation seen as a scenario's results, and two computations side by side (a scenario against another, or the record). */
import Decimal from 'decimal.js';
import { FundingResults, ParametersOn, schoolTermTotal } from '../funding/engine';
import { moneyDiff, sumMoney } from '../funding/model';
import type { StoredBlockLine } from '../funding/block.service';
import { BLOCK_LINE_BY_CODE, BlockLineCode, dsgPositions, DsgYear, incomeFor } from '../funding/block';
import type { Computed, RecordContext } from '../funding/compute';
import type { FundingInputsOfRecord } from '../funding/funding-inputs';
import type { ScenarioComparison, ScenarioResults } from './scenario.types';

export interface BlockLineView {
  financialYear: string;
  lineCode: string;
  name: string;
  budget: string;
  amount: string;
  modelled: boolean;
  memo: boolean;
}

const isClosed = (lines: StoredBlockLine[]) => {
  const spend = lines.filter((l) => !l.memo);
  return spend.length > 0 && spend.every((l) => l.outturn !== null);
};

/**
 * The block lines under a computation: a closed year (every line has an outturn) stays as of record; in other
 * years each line the computation covers takes its figure, the others (given lines) keep theirs.
 */
export function blockLinesOf(rc: RecordContext, r: FundingResults): BlockLineView[] {
  const closedYears = new Set<string>();
  for (const fy of new Set(rc.stored.map((l) => l.financialYearCode)))
    if (isClosed(rc.stored.filter((l) => l.financialYearCode === fy))) closedYears.add(fy);
  return rc.stored.map((l) => {
    const fy = l.financialYearCode;
    const closed = closedYears.has(fy);
    const computed = closed ? undefined : r.blockLines.get(fy)?.[l.lineCode as BlockLineCode];
    const def = BLOCK_LINE_BY_CODE.get(l.lineCode as BlockLineCode);
    const modelled = computed !== undefined;
    const amount = computed ?? (closed ? l.outturn! : l.forecast);
    const budget = modelled && def?.method === 'FUNDING_MODEL' ? computed! : l.budget;
    return { financialYear: fy, lineCode: l.lineCode, name: l.name, budget, amount, modelled, memo: l.memo };
  });
}

/** In-year and cumulative DSG per financial year under a computation (closed years: income as of record). */
export function dsgOf(rc: RecordContext, lines: BlockLineView[], paramsOn: ParametersOn): DsgYear[] {
  const years = [...new Set(lines.map((l) => l.financialYear))].sort();
  const closedYears = new Set(years.filter((fy) => isClosed(rc.stored.filter((l) => l.financialYearCode === fy))));
  return dsgPositions(
    years,
    (fy) => sumMoney(lines.filter((l) => l.financialYear === fy && !l.memo).map((l) => l.amount)),
    (fy) => incomeFor(fy, rc.income, (closedYears.has(fy) ? rc.recordOn : paramsOn)(`${fy.slice(0, 4)}-04-01`)),
    rc.income.broughtForward ?? { outturn: '0', plan: '0' },
    rc.income.plans,
  );
}

const providerTotals = (r: FundingResults) => {
  const m = new Map<string, Decimal>();
  for (const p of r.block.providerTerms) {
    const k = `${p.schoolUrn}|${p.termCode}`;
    m.set(k, (m.get(k) ?? new Decimal(0)).plus(p.placeFunding).plus(p.topUp));
  }
  return m;
};

export function resultsView(
  rc: RecordContext,
  inputs: FundingInputsOfRecord,
  c: Computed,
  record: Computed,
  filter: { term?: string | null; communityCode?: string | null },
): ScenarioResults {
  const termStart = new Map(inputs.terms.map((t) => [t.code, t.startDate]));
  const schools = c.results.schoolTerms
    .filter((s) => !filter.term || s.termCode === filter.term)
    .map((s) => ({
      schoolUrn: s.schoolUrn,
      communityCode: inputs.communityOf(s.schoolUrn, termStart.get(s.termCode)!),
      term: s.termCode,
      baseline: s.baseline,
      protectedAmount: s.protectedAmount,
      communityShare: s.communityShare,
      bandedTopUp: s.bandedTopUp,
      total: schoolTermTotal(s),
    }))
    .filter((s) => !filter.communityCode || s.communityCode === filter.communityCode);
  const communities = c.results.pots
    .filter(
      (p) =>
        (!filter.term || p.termCode === filter.term) &&
        (!filter.communityCode || p.communityCode === filter.communityCode),
    )
    .map((p) => ({ communityCode: p.communityCode, term: p.termCode, pot: p.amount, allocated: p.amount }));
  const specialistSchools = c.results.block.providerTerms
    .filter((p) => !filter.term || p.termCode === filter.term)
    .filter(
      (p) =>
        !filter.communityCode || inputs.communityOf(p.schoolUrn, termStart.get(p.termCode)!) === filter.communityCode,
    );
  const lines = blockLinesOf(rc, c.results);
  const years = dsgOf(rc, lines, c.paramsOn);
  const recordYears = new Map(
    dsgOf(rc, blockLinesOf(rc, record.results), rc.recordOn).map((y) => [y.financialYearCode, y]),
  );
  const bf = rc.income.broughtForward;
  return {
    schools,
    communities,
    specialistSchools,
    blockLines: lines,
    years: years.map((y) => ({
      financialYear: y.financialYearCode,
      lines: lines.filter((l) => l.financialYear === y.financialYearCode),
      spend: y.spend,
      income: {
        ...y.income,
        schoolsBlockTransferRate: c.paramsOn(`${y.financialYearCode.slice(0, 4)}-04-01`).block.schoolsBlockTransferRate,
      },
      inYear: y.inYear,
      cumulative: y.cumulative,
      planInYear: y.planInYear,
      planCumulative: y.planCumulative,
      recordInYear: recordYears.get(y.financialYearCode)?.inYear ?? null,
      recordCumulative: recordYears.get(y.financialYearCode)?.cumulative ?? null,
      cumulativeAgainstPlan:
        y.planCumulative === null ? null : new Decimal(y.cumulative).minus(y.planCumulative).toFixed(2),
    })),
    trajectory: [
      ...(bf
        ? [
            {
              label: `Brought forward (${bf.date})`,
              date: bf.date,
              plan: new Decimal(bf.plan).toFixed(2),
              record: new Decimal(bf.outturn).toFixed(2),
              scenario: new Decimal(bf.outturn).toFixed(2),
            },
          ]
        : []),
      ...years.map((y) => ({
        label: `Mar ${Number(y.financialYearCode.slice(0, 4)) + 1}`,
        date: `${Number(y.financialYearCode.slice(0, 4)) + 1}-03-31`,
        plan: y.planCumulative,
        record: recordYears.get(y.financialYearCode)?.cumulative ?? null,
        scenario: y.cumulative,
      })),
    ],
    missingDrivers: c.results.block.missing,
    totals: {
      protectedAmount: sumMoney(schools.map((s) => s.protectedAmount)),
      communityShare: sumMoney(schools.map((s) => s.communityShare)),
      bandedTopUp: sumMoney(schools.map((s) => s.bandedTopUp)),
      total: sumMoney(schools.map((s) => s.total)),
    },
    computeMs: c.ms,
  };
}

export function comparisonView(
  rc: RecordContext,
  against: string,
  base: Computed,
  mine: Computed,
  filter: { term?: string | null; includeUnchanged?: boolean },
): ScenarioComparison {
  const diff = moneyDiff;
  const baseSchool = new Map(base.results.schoolTerms.map((s) => [`${s.schoolUrn}|${s.termCode}`, schoolTermTotal(s)]));
  const schools = mine.results.schoolTerms
    .filter((s) => !filter.term || s.termCode === filter.term)
    .map((s) => {
      const b = baseSchool.get(`${s.schoolUrn}|${s.termCode}`) ?? '0.00';
      const m = schoolTermTotal(s);
      return { schoolUrn: s.schoolUrn, term: s.termCode, baseline: b, scenario: m, difference: diff(b, m) };
    });
  // Places and specialist top-ups per school and term (special schools, AP, resourced provision).
  const baseProvider = providerTotals(base.results);
  const mineProvider = providerTotals(mine.results);
  const specialistSchools = [...new Set([...mineProvider.keys(), ...baseProvider.keys()])]
    .map((k) => {
      const [urn, term] = k.split('|');
      const b = (baseProvider.get(k) ?? new Decimal(0)).toFixed(2);
      const m = (mineProvider.get(k) ?? new Decimal(0)).toFixed(2);
      return { schoolUrn: Number(urn), term, baseline: b, scenario: m, difference: diff(b, m) };
    })
    .filter((s) => !filter.term || s.term === filter.term);
  const basePot = new Map(base.results.pots.map((p) => [`${p.communityCode}|${p.termCode}`, p.amount]));
  const communities = mine.results.pots
    .filter((p) => !filter.term || p.termCode === filter.term)
    .map((p) => {
      const b = basePot.get(`${p.communityCode}|${p.termCode}`) ?? '0.00';
      return {
        key: p.communityCode,
        period: p.termCode,
        baseline: b,
        scenario: p.amount,
        difference: diff(b, p.amount),
      };
    });
  const bl = blockLinesOf(rc, base.results);
  const ml = blockLinesOf(rc, mine.results);
  const blockLines = ml.map((l, i) => ({
    key: l.lineCode,
    period: l.financialYear,
    baseline: bl[i].amount,
    scenario: l.amount,
    difference: diff(bl[i].amount, l.amount),
  }));
  const bd = new Map(dsgOf(rc, bl, base.paramsOn).map((y) => [y.financialYearCode, y]));
  const dsg = dsgOf(rc, ml, mine.paramsOn).flatMap((y) => {
    const b = bd.get(y.financialYearCode);
    if (!b) return [];
    return [
      {
        key: 'INCOME',
        period: y.financialYearCode,
        baseline: b.income.total,
        scenario: y.income.total,
        difference: diff(b.income.total, y.income.total),
      },
      {
        key: 'SPEND',
        period: y.financialYearCode,
        baseline: b.spend,
        scenario: y.spend,
        difference: diff(b.spend, y.spend),
      },
      {
        key: 'IN_YEAR',
        period: y.financialYearCode,
        baseline: b.inYear,
        scenario: y.inYear,
        difference: diff(b.inYear, y.inYear),
      },
      {
        key: 'CUMULATIVE',
        period: y.financialYearCode,
        baseline: b.cumulative,
        scenario: y.cumulative,
        difference: diff(b.cumulative, y.cumulative),
      },
    ];
  });
  const bt = sumMoney(schools.map((s) => s.baseline));
  const mt = sumMoney(schools.map((s) => s.scenario));
  const keep = <T extends { difference: string }>(xs: T[]) =>
    filter.includeUnchanged ? xs : xs.filter((x) => x.difference !== '0.00');
  return {
    against,
    schools: keep(schools),
    specialistSchools: keep(specialistSchools),
    communities: keep(communities),
    blockLines: keep(blockLines),
    dsg: keep(dsg),
    total: { key: 'TOTAL', period: filter.term ?? 'ALL', baseline: bt, scenario: mt, difference: diff(bt, mt) },
  };
}
