/**
 * The funding model applied to a whole county: one implementation used by the demo-data generator (so the
 * figures of record are what the model computes from the inputs), by scenarios, and by the check that the
 * stored figures still agree with the model. Pure: inputs in, exact decimal strings out.
 */
import Decimal from 'decimal.js';
import { NotionalSenFactorCode } from './funding.entity';
import {
  BlockComputation,
  BlockDrivers,
  BlockLineCode,
  computeBlock,
  growthFor,
  MODEL_LINES,
  upliftedRate,
} from './block';
import {
  Band,
  bandingApplies,
  communityPots,
  grownBandedTopUp,
  largestRemainderSplit,
  ModelParameters,
  moneyTimesRate,
  notionalSenLines,
  NotionalSenLine,
  potTotalForTerm,
  protectionRate,
  sumMoney,
} from './model';

export interface EngineSchool {
  urn: number;
  pupilsOnRoll: number;
  /** e.g. "23.40" */
  percentFsm: string;
}

export interface EngineTerm {
  code: string;
  startDate: string;
  months: number;
  financialYearCode: string;
  academicYearCode: string;
}

export interface FundingInputs {
  /** Every school that can be a community member (pupil and FSM numbers weight the pots). */
  schools: EngineSchool[];
  /** Schools with individual funding, in output order. */
  fundedUrns: number[];
  /** Community codes in output order. */
  communities: string[];
  /** Members of each community on a date. */
  membersOn: (date: string) => Map<string, number[]>;
  /** Funding terms to compute, in order. */
  terms: EngineTerm[];
  /** Financial years of notional SEN budgets to compute. */
  financialYears: string[];
  /** key `${urn}|${term}`: the baseline individual funding for a term. */
  baselines: Map<string, string>;
  /** key `${urn}|${fy}`: formula amounts per factor. */
  factorAmounts: Map<string, Record<NotionalSenFactorCode, string>>;
  /** key `${urn}|${term}`: EHCP plans per band. */
  bandCounts: Map<string, Partial<Record<Band, number>>>;
  /** Places, specialist top-up counts and placements (element 3 outside mainstream). */
  block: BlockDrivers;
}

export interface SchoolTermResult {
  schoolUrn: number;
  termCode: string;
  baseline: string;
  protectionRate: string;
  protectedAmount: string;
  communityShare: string;
  bandedTopUp: string;
}

export interface FundingResults {
  notionalSen: { schoolUrn: number; financialYearCode: string; lines: NotionalSenLine[]; total: string }[];
  schoolTerms: SchoolTermResult[];
  pots: { communityCode: string; termCode: string; amount: string }[];
  /** Per financial year: every block line computed for it (lines absent for a year are given for it). */
  blockLines: Map<string, Partial<Record<BlockLineCode, string>>>;
  /** Element 3 outside mainstream, with the drivers found missing. */
  block: BlockComputation;
}

/** Parameters in force on a date: versions of record take effect from their effective date. */
export type ParametersOn = (date: string) => ModelParameters;

const fyStart = (fy: string) => `${fy.slice(0, 4)}-04-01`;

export function computeFunding(inputs: FundingInputs, parameters: ModelParameters | ParametersOn): FundingResults {
  const paramsOn: ParametersOn = typeof parameters === 'function' ? parameters : () => parameters;
  const schoolBy = new Map(inputs.schools.map((s) => [s.urn, s]));
  const notionalSen: FundingResults['notionalSen'] = [];
  for (const fy of inputs.financialYears) {
    const percentages = paramsOn(fyStart(fy)).notionalSenPercentages;
    for (const urn of inputs.fundedUrns) {
      const amounts = inputs.factorAmounts.get(`${urn}|${fy}`);
      if (!amounts) continue;
      const res = notionalSenLines(amounts, percentages);
      notionalSen.push({ schoolUrn: urn, financialYearCode: fy, lines: res.lines, total: res.total });
    }
  }

  const pots: FundingResults['pots'] = [];
  const schoolTerms: SchoolTermResult[] = [];
  // Pupils eligible for FSM per school, once: every term's pot weights use them.
  const fsmOf = new Map(
    inputs.schools.map((s) => [s.urn, new Decimal(s.percentFsm).times(s.pupilsOnRoll).dividedBy(100)]),
  );
  for (const t of inputs.terms) {
    const params = paramsOn(t.startDate);
    const growthFactor = new Decimal(1).plus(growthFor('MAINSTREAM', params));
    const bandValues = Object.fromEntries(
      Object.entries(params.bandValues).map(([b, v]) => [b, upliftedRate(v, t.financialYearCode, params.block)]),
    );
    const onDate = inputs.membersOn(t.startDate);
    // A member with no pupils on roll or FSM figure (suppressed or blank in GIAS) carries no weight; dataStatus says so.
    const members = new Map(inputs.communities.map((c) => [c, (onDate.get(c) ?? []).filter((u) => schoolBy.has(u))]));
    const weights = inputs.communities.map((code) => {
      const urns = members.get(code)!;
      return {
        code,
        pupilsOnRoll: urns.reduce((a, u) => a + schoolBy.get(u)!.pupilsOnRoll, 0),
        fsmPupils: urns.reduce((a, u) => a.plus(fsmOf.get(u)!), new Decimal(0)).toString(),
      };
    });
    const potOf = communityPots(weights, potTotalForTerm(t, params), params);
    const shares = new Map<number, string>();
    for (const code of inputs.communities) {
      const amount = potOf.get(code)!;
      pots.push({ communityCode: code, termCode: t.code, amount });
      const urns = members.get(code)!;
      for (const [urn, share] of largestRemainderSplit(
        amount,
        urns.map((u) => ({ key: u, weight: schoolBy.get(u)!.pupilsOnRoll })),
      ))
        shares.set(urn, share);
    }
    const banded = bandingApplies(t.startDate, params);
    const rate = protectionRate(t.code, params);
    for (const urn of inputs.fundedUrns) {
      const baseline = inputs.baselines.get(`${urn}|${t.code}`);
      if (baseline === undefined) continue;
      // EHCP growth scales plan counts (a modelling figure: fractional plans are fine).
      const bands = banded ? inputs.bandCounts.get(`${urn}|${t.code}`) : undefined;
      schoolTerms.push({
        schoolUrn: urn,
        termCode: t.code,
        baseline,
        protectionRate: rate,
        protectedAmount: moneyTimesRate(baseline, rate),
        communityShare: shares.get(urn) ?? '0.00',
        bandedTopUp: bands ? grownBandedTopUp(bands, growthFactor, bandValues, t.months) : '0.00',
      });
    }
  }

  const fyOf = new Map(inputs.terms.map((t) => [t.code, t.financialYearCode]));
  const termYears = new Set(inputs.terms.map((t) => t.financialYearCode));
  const placementYears = [
    ...new Set([...termYears, ...[...inputs.block.placements.keys()].map((k) => k.split('|')[0])]),
  ].sort();
  const block = computeBlock(inputs.block, inputs.terms, paramsOn, placementYears);
  const blockLines: FundingResults['blockLines'] = new Map();
  const years = [...new Set([...inputs.financialYears, ...termYears, ...placementYears])].sort();
  for (const fy of years) {
    const lines: Partial<Record<BlockLineCode, string>> = { ...block.lines.get(fy) };
    const inYear = (r: { termCode: string }) => fyOf.get(r.termCode) === fy;
    for (const { code, sum } of MODEL_LINES) {
      if (sum.rows === 'notionalSen') {
        if (inputs.financialYears.includes(fy))
          lines[code] = sumMoney(notionalSen.filter((n) => n.financialYearCode === fy).map((n) => n[sum.figure]));
      } else if (termYears.has(fy)) {
        lines[code] =
          sum.rows === 'pots'
            ? sumMoney(pots.filter(inYear).map((p) => p[sum.figure]))
            : sumMoney(schoolTerms.filter(inYear).map((f) => f[sum.figure]));
      }
    }
    blockLines.set(fy, lines);
  }
  return { notionalSen, schoolTerms, pots, blockLines, block };
}

/**
 * The parts of a school's total individual funding for a term, each with the school_term_funding column it is
 * stored in: the one list both forms of the total below add up, so the resolvers, the compiled SQL and the
 * scenarios cannot count a different set.
 */
export const SCHOOL_TERM_TOTAL_PARTS = [
  { figure: 'protectedAmount', column: 'protected_amount' },
  { figure: 'communityShare', column: 'community_share' },
  { figure: 'bandedTopUp', column: 'banded_top_up' },
] as const;

type TotalPart = (typeof SCHOOL_TERM_TOTAL_PARTS)[number]['figure'];

/** A school's total individual funding for a term under the model: the sum of SCHOOL_TERM_TOTAL_PARTS. */
export function schoolTermTotal(r: Pick<SchoolTermResult, TotalPart>): string {
  return sumMoney(SCHOOL_TERM_TOTAL_PARTS.map((p) => r[p.figure]));
}

/** The same total as SQL over a school_term_funding row aliased `t` (numeric, exact: cast it where text is wanted). */
export function schoolTermTotalSql(t: string): string {
  return `(${SCHOOL_TERM_TOTAL_PARTS.map((p) => `${t}.${p.column}`).join(' + ')})`;
}
