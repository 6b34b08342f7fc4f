/**
 * The High Needs block as one rule: its lines, how each is computed from its drivers, and the DSG position
 * the block and its income give. Pure (no database): the seed, the figures of record, setModelParameters and
 * scenarios all call these functions, so the block a scenario shows is the block of record with other drivers.
 *
 * A line is either computed (the exact sum of what it pays, to the penny) or given (an entered figure whose
 * provenance is on its row). Element 3 runs per funding term: a term's place numbers are those of its
 * academic year, its counts those recorded for the term, and every amount is annual x months / 12, rounded
 * once per school, term and setting; a line is the sum of those rounded amounts.
 */
import Decimal from 'decimal.js';
import {
  GrowthSetting,
  money,
  ModelParameters,
  PLACE_SETTING,
  PlaceType,
  PlacementKind,
  sumMoney,
  TopUpSetting,
} from './model';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

export type BlockLineCode =
  | 'SPECIAL_SCHOOLS'
  | 'MAINSTREAM_TOP_UPS'
  | 'COMMUNITY_POTS'
  | 'INDIVIDUAL_PROTECTION'
  | 'RESOURCED_PROVISION'
  | 'INDEPENDENT_NMSS'
  | 'ALTERNATIVE_PROVISION'
  | 'POST_16'
  | 'OTHER_LA_PLACEMENTS'
  | 'CENTRAL_SEN_SERVICES'
  | 'HOSPITAL_EDUCATION'
  | 'EARLY_YEARS_SEN'
  | 'NOTIONAL_SEN';

/**
 * How a line gets its figure:
 * - FUNDING_MODEL: the mainstream model of record (pots, protection, banded top-ups, notional SEN); its
 *   budget and forecast are both the computed figure and setModelParameters recomputes them.
 * - DRIVERS: places, counts and placements; the forecast is computed, the budget is the one set for the year.
 * - GIVEN: entered or imported figures (central services and the like).
 * A term-based line is computed for a financial year whose funding terms the model holds, a placement
 * line for a year with placement numbers; otherwise it is given (closed years from the S251 outturn).
 */
export type LineMethod = 'FUNDING_MODEL' | 'DRIVERS' | 'GIVEN';

/**
 * A FUNDING_MODEL line is the sum over a financial year of one money figure of the model's rows: `rows` and
 * `figure` say which, for the engine; `table` and `column` are where the same figure is stored, so a recompute
 * adds up the stored rows the same way (an imported pot included). Term rows (pots, school terms) count towards
 * their term's financial year; notional SEN rows are per financial year.
 */
export type ModelLineSum =
  | { rows: 'pots'; figure: 'amount'; table: 'community_pot'; column: 'amount' }
  | {
      rows: 'schoolTerms';
      figure: 'protectedAmount' | 'bandedTopUp';
      table: 'school_term_funding';
      column: 'protected_amount' | 'banded_top_up';
    }
  | { rows: 'notionalSen'; figure: 'total'; table: 'notional_sen_factor'; column: 'sen_amount' };

interface LineBase {
  code: BlockLineCode;
  name: string;
  /** Memorandum: shown with the block but funded elsewhere (notional SEN is in the Schools block). */
  memo: boolean;
  /** What drives it, for people reading the block. */
  drivers: string;
}

export type BlockLineDef =
  (LineBase & { method: 'FUNDING_MODEL'; sum: ModelLineSum }) | (LineBase & { method: 'DRIVERS' | 'GIVEN' });

/** The one list of block lines, in display order (sort order = (index + 1) x 10). */
export const BLOCK_LINES: readonly BlockLineDef[] = Object.freeze<BlockLineDef[]>([
  {
    code: 'SPECIAL_SCHOOLS',
    name: 'Special schools: places and top-ups',
    method: 'DRIVERS',
    memo: false,
    drivers:
      'place numbers x place rate; pupils per band x band value (legacy rate before banding); placements moved in',
  },
  {
    code: 'MAINSTREAM_TOP_UPS',
    name: 'Mainstream EHCP banded top-ups (element 3)',
    method: 'FUNDING_MODEL',
    sum: { rows: 'schoolTerms', figure: 'bandedTopUp', table: 'school_term_funding', column: 'banded_top_up' },
    memo: false,
    drivers: 'plans per school and band x band value, from the banding start',
  },
  {
    code: 'COMMUNITY_POTS',
    name: 'Communities of Schools pots',
    method: 'FUNDING_MODEL',
    sum: { rows: 'pots', figure: 'amount', table: 'community_pot', column: 'amount' },
    memo: false,
    drivers: "the year's pot x term months / 12",
  },
  {
    code: 'INDIVIDUAL_PROTECTION',
    name: 'Individual high-needs funding protection (phase-in)',
    method: 'FUNDING_MODEL',
    sum: { rows: 'schoolTerms', figure: 'protectedAmount', table: 'school_term_funding', column: 'protected_amount' },
    memo: false,
    drivers: 'baseline x protection rate per term',
  },
  {
    code: 'RESOURCED_PROVISION',
    name: 'Specialist resource provision (SRP) places and top-ups',
    method: 'DRIVERS',
    memo: false,
    drivers: 'SRP places x place rate; pupils per band x band value',
  },
  {
    code: 'INDEPENDENT_NMSS',
    name: 'Independent and non-maintained special schools',
    method: 'DRIVERS',
    memo: false,
    drivers: 'placements x unit cost',
  },
  {
    code: 'ALTERNATIVE_PROVISION',
    name: 'Alternative provision and pupil referral units',
    method: 'DRIVERS',
    memo: false,
    drivers: 'AP places x place rate; pupils per band x band value',
  },
  {
    code: 'POST_16',
    name: 'Post-16 and further education high needs',
    method: 'DRIVERS',
    memo: false,
    drivers: 'FE placements x unit cost',
  },
  {
    code: 'OTHER_LA_PLACEMENTS',
    name: "Places in other authorities' schools (recoupment)",
    method: 'DRIVERS',
    memo: false,
    drivers:
      "the LA's children in other authorities' schools x the top-up the LA pays (their place funding is the providing authority's: the import/export adjustment)",
  },
  {
    code: 'CENTRAL_SEN_SERVICES',
    name: 'Central SEN support and inclusion services',
    method: 'GIVEN',
    memo: false,
    drivers: 'given',
  },
  {
    code: 'HOSPITAL_EDUCATION',
    name: 'Hospital education and medical needs',
    method: 'GIVEN',
    memo: false,
    drivers: 'given',
  },
  {
    code: 'EARLY_YEARS_SEN',
    name: 'Early years SEN inclusion and outreach',
    method: 'GIVEN',
    memo: false,
    drivers: 'given',
  },
  {
    code: 'NOTIONAL_SEN',
    name: 'Notional SEN budgets in mainstream schools (memo: funded from the Schools block)',
    method: 'FUNDING_MODEL',
    sum: { rows: 'notionalSen', figure: 'total', table: 'notional_sen_factor', column: 'sen_amount' },
    memo: true,
    drivers: 'formula factor x SEN percentage',
  },
]);

/** The lines the funding model makes, each with the sum it is. */
export const MODEL_LINES = BLOCK_LINES.filter(
  (l): l is Extract<BlockLineDef, { method: 'FUNDING_MODEL' }> => l.method === 'FUNDING_MODEL',
);

/** SQL: (fy, code, total) of every FUNDING_MODEL line over the stored figures of record, per financial year. */
export function storedModelLinesSql(): string {
  return MODEL_LINES.map(({ code, sum }) =>
    sum.rows === 'notionalSen'
      ? `SELECT x.financial_year_code AS fy, '${code}' AS code, sum(x.${sum.column}) AS total FROM ${sum.table} x GROUP BY 1`
      : `SELECT t.financial_year_code AS fy, '${code}' AS code, sum(x.${sum.column}) AS total
           FROM ${sum.table} x JOIN funding_term t ON t.code = x.term_code GROUP BY 1`,
  ).join('\n UNION ALL\n');
}

export const BLOCK_LINE_BY_CODE = new Map(BLOCK_LINES.map((l, i) => [l.code, { ...l, sortOrder: (i + 1) * 10 }]));
export const sortOrderOf = (code: string) => BLOCK_LINE_BY_CODE.get(code as BlockLineCode)?.sortOrder ?? 999;

/** Which block line pays each setting's places and top-ups, and each kind of placement. */
export const SETTING_LINE: Record<TopUpSetting, BlockLineCode> = {
  SPECIAL: 'SPECIAL_SCHOOLS',
  SRP: 'RESOURCED_PROVISION',
  AP: 'ALTERNATIVE_PROVISION',
};
export const PLACEMENT_LINE: Record<PlacementKind, BlockLineCode> = {
  INDEPENDENT_NMSS: 'INDEPENDENT_NMSS',
  POST_16_FE: 'POST_16',
  OTHER_LA: 'OTHER_LA_PLACEMENTS',
};
/** The place type a placement moved into a setting takes. */
const SHIFT_PLACE: Record<TopUpSetting, PlaceType> = { SPECIAL: 'SPECIAL_PRE16', AP: 'AP', SRP: 'SRP' };

/** A school with places and top-ups in a setting (special schools, PRUs, mainstream schools with an SRP). */
export interface Provider {
  urn: number;
  setting: TopUpSetting;
}

export interface BlockDrivers {
  providers: Provider[];
  /** key `${urn}|${academicYear}`: places per place type. */
  places: Map<string, Partial<Record<PlaceType, number>>>;
  /** key `${urn}|${term}|${setting}`: pupils per band (before the banding start, any band label: all at the legacy rate). */
  topUpCounts: Map<string, Record<string, number>>;
  /** key `${financialYear}|${kind}`. */
  placements: Map<string, { placements: number; unitCost: string }>;
}

export interface BlockTerm {
  code: string;
  startDate: string;
  months: number;
  financialYearCode: string;
  academicYearCode: string;
}

export interface MissingDriver {
  /** PLACES, TOP_UP_COUNTS, BAND_NOT_IN_SET or PLACEMENTS. */
  kind: string;
  setting: string;
  schoolUrn: number | null;
  /** Academic year, funding term or financial year. */
  period: string;
  message: string;
}

export interface ProviderTermResult {
  schoolUrn: number;
  termCode: string;
  setting: TopUpSetting;
  places: string;
  placeFunding: string;
  pupils: string;
  topUp: string;
}

export interface BlockComputation {
  providerTerms: ProviderTermResult[];
  /** Placements moved between settings, per term: what the receiving setting pays for them. */
  shiftTerms: { termCode: string; from: PlacementKind; to: TopUpSetting; placements: string; amount: string }[];
  placementYears: {
    financialYearCode: string;
    kind: PlacementKind;
    placements: string;
    unitCost: string;
    amount: string;
  }[];
  /** Per financial year, the DRIVERS lines computed (a line absent here is given for that year). */
  lines: Map<string, Partial<Record<BlockLineCode, string>>>;
  missing: MissingDriver[];
}

const fyIndex = (fy: string) => Number(fy.slice(0, 4));

/** A rate in a financial year: the given rate x (1 + uplift) per year after the base year, to the penny. */
export function upliftedRate(rate: string, fy: string, p: ModelParameters['block']): string {
  const k = fyIndex(fy) - fyIndex(p.rateBaseYear);
  if (k <= 0 || new D(p.rateUplift).isZero()) return money(rate);
  return money(new D(rate).times(new D(1).plus(p.rateUplift).pow(k)));
}

/** EHCP growth for a setting: its own figure, else the general ehcpGrowth. */
export function growthFor(setting: GrowthSetting, p: ModelParameters): string {
  return p.block.growthBySetting[setting] ?? p.ehcpGrowth ?? '0';
}

/**
 * Element 3 outside mainstream for the terms given: places and top-ups per provider and term, placements
 * moved between settings, and placements x unit cost per financial year. `paramsOn` gives the parameters in
 * force on a date (each term uses those of its first day; placements those of the year's first day).
 */
export function computeBlock(
  drivers: BlockDrivers,
  terms: BlockTerm[],
  paramsOn: (date: string) => ModelParameters,
  placementYears: string[],
): BlockComputation {
  const out: BlockComputation = {
    providerTerms: [],
    shiftTerms: [],
    placementYears: [],
    lines: new Map(),
    missing: [],
  };
  const add = (fy: string, code: BlockLineCode, amount: string) => {
    const y = out.lines.get(fy) ?? {};
    y[code] = new D(y[code] ?? 0).plus(amount).toFixed(2);
    out.lines.set(fy, y);
  };
  // A provider's missing place numbers are reported once per academic year, not once per term.
  const missingPlaces = new Set<string>();
  const noPlaces = (pr: Provider, academicYear: string, message: string) => {
    const k = `${pr.urn}|${academicYear}`;
    if (missingPlaces.has(k)) return;
    missingPlaces.add(k);
    out.missing.push({ kind: 'PLACES', setting: pr.setting, schoolUrn: pr.urn, period: academicYear, message });
  };
  for (const t of terms) {
    const p = paramsOn(t.startDate);
    const banded = t.startDate >= p.bandingStartDate;
    const fy = t.financialYearCode;
    // Term-based lines exist for every modelled year, even when nothing is paid on them.
    for (const code of Object.values(SETTING_LINE)) add(fy, code, '0');
    // Each rate is uplifted once per term, not once per school.
    const rates = new Map<string, InstanceType<typeof D>>();
    const rate = (r: string) => rates.get(r) ?? rates.set(r, new D(upliftedRate(r, fy, p.block))).get(r)!;
    for (const pr of drivers.providers) {
      const line = SETTING_LINE[pr.setting];
      const placeChange = new D(1).plus(p.block.placeChange[pr.setting] ?? '0');
      const places = drivers.places.get(`${pr.urn}|${t.academicYearCode}`);
      let placeCount = new D(0);
      let placeAnnual = new D(0);
      if (!places) {
        noPlaces(
          pr,
          t.academicYearCode,
          `No place numbers for school ${pr.urn} (${pr.setting}) in ${t.academicYearCode}: its place funding is not counted.`,
        );
      } else {
        let ofSetting = false;
        for (const [type, n] of Object.entries(places) as [PlaceType, number][]) {
          if (PLACE_SETTING[type] !== pr.setting) continue;
          ofSetting = true;
          const count = new D(n).times(placeChange);
          placeCount = placeCount.plus(count);
          placeAnnual = placeAnnual.plus(count.times(rate(p.block.placeRates[type])));
        }
        // Place numbers only of another setting's types (say AP places for a special school) are no place
        // numbers for this setting: reported, not a silent 0.
        if (!ofSetting)
          noPlaces(
            pr,
            t.academicYearCode,
            `School ${pr.urn} (${pr.setting}) has place numbers in ${t.academicYearCode} only of other settings' place types (${Object.keys(places).join(', ')}): its place funding is not counted.`,
          );
      }
      const counts = drivers.topUpCounts.get(`${pr.urn}|${t.code}|${pr.setting}`);
      const growth = new D(1).plus(growthFor(pr.setting, p));
      let pupils = new D(0);
      let topUpAnnual = new D(0);
      if (!counts) {
        out.missing.push({
          kind: 'TOP_UP_COUNTS',
          setting: pr.setting,
          schoolUrn: pr.urn,
          period: t.code,
          message: `No top-up pupil counts for school ${pr.urn} (${pr.setting}) in ${t.code}: its top-up is not counted.`,
        });
      } else {
        const set = p.block.bandSets[pr.setting];
        for (const [band, n] of Object.entries(counts)) {
          if (!n) continue;
          const grown = new D(n).times(growth);
          let value: string | undefined;
          if (!banded) value = p.block.legacyTopUpRates[pr.setting];
          else value = set[band];
          if (value === undefined) {
            out.missing.push({
              kind: 'BAND_NOT_IN_SET',
              setting: pr.setting,
              schoolUrn: pr.urn,
              period: t.code,
              message: `School ${pr.urn} has ${n} pupils in band "${band}", which the ${pr.setting} band set (${Object.keys(set).join(', ')}) does not have: they are not counted.`,
            });
            continue;
          }
          pupils = pupils.plus(grown);
          topUpAnnual = topUpAnnual.plus(grown.times(rate(value)));
        }
      }
      const placeFunding = money(placeAnnual.times(t.months).dividedBy(12));
      const topUp = money(topUpAnnual.times(t.months).dividedBy(12));
      out.providerTerms.push({
        schoolUrn: pr.urn,
        termCode: t.code,
        setting: pr.setting,
        places: placeCount.toString(),
        placeFunding,
        pupils: pupils.toString(),
        topUp,
      });
      add(fy, line, placeFunding);
      add(fy, line, topUp);
    }
    for (const s of p.block.placementShifts) {
      const pl = drivers.placements.get(`${fy}|${s.from}`);
      if (!pl) continue;
      const moved = new D(pl.placements).times(new D(1).plus(growthFor(s.from, p))).times(s.share);
      const topUp = banded ? p.block.bandSets[s.to][s.band] : p.block.legacyTopUpRates[s.to];
      const perPlacement = rate(p.block.placeRates[SHIFT_PLACE[s.to]]).plus(rate(topUp));
      const amount = money(moved.times(perPlacement).times(t.months).dividedBy(12));
      out.shiftTerms.push({ termCode: t.code, from: s.from, to: s.to, placements: moved.toString(), amount });
      add(fy, SETTING_LINE[s.to], amount);
    }
  }
  for (const fy of placementYears) {
    const p = paramsOn(`${fy.slice(0, 4)}-04-01`);
    for (const kind of Object.keys(PLACEMENT_LINE) as PlacementKind[]) {
      const pl = drivers.placements.get(`${fy}|${kind}`);
      if (!pl) {
        out.missing.push({
          kind: 'PLACEMENTS',
          setting: kind,
          schoolUrn: null,
          period: fy,
          message: `No ${kind} placement numbers for ${fy}: the ${PLACEMENT_LINE[kind]} line is not counted.`,
        });
        continue;
      }
      const movedShare = p.block.placementShifts
        .filter((s) => s.from === kind)
        .reduce((a, s) => a.plus(s.share), new D(0));
      const placements = new D(pl.placements)
        .times(new D(1).plus(growthFor(kind, p)))
        .times(new D(1).minus(movedShare));
      const unitCost = upliftedRate(pl.unitCost, fy, p.block);
      const amount = money(placements.times(unitCost));
      out.placementYears.push({ financialYearCode: fy, kind, placements: placements.toString(), unitCost, amount });
      add(fy, PLACEMENT_LINE[kind], amount);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Income and the DSG position

export type InstalmentStatus = 'PAID' | 'PAID_LATE' | 'WITHHELD' | 'DUE';

export interface Instalment {
  periodCode: string;
  financialYearCode: string;
  /** The report (or scheduled report) date it follows. */
  dueOn: string;
  amount: string;
  status: InstalmentStatus;
  paidOn: string | null;
  /** Financial year of paidOn. */
  paidFinancialYearCode: string | null;
}

export interface IncomeYearDrivers {
  highNeedsAllocation: string;
  schoolsBlock: string;
  laContribution: string;
  /** Other authorities' children in the LA's schools (null: not recorded, no adjustment counted). */
  importedPupils: number | null;
  /** The LA's children in other authorities' schools (null: not recorded, no adjustment counted). */
  exportedPupils: number | null;
}

export interface IncomeDrivers {
  /**
   * Per financial year: the DSG high-needs allocation before the import/export adjustment, the Schools Block
   * before transfer, the LA's contribution, and the pupils imported and exported.
   */
  years: Map<string, IncomeYearDrivers>;
  instalments: Instalment[];
  /**
   * OTHER_LA placements of record per financial year: a scenario that moves some of them back into the LA's
   * schools, or grows them, exports as many more or fewer pupils.
   */
  otherLaPlacements?: Map<string, number>;
}

export interface IncomeYear {
  financialYearCode: string;
  highNeedsAllocation: string;
  /** Pupils imported and exported (a scenario's moved placements can make them fractional); null: not recorded. */
  importedPupils: string | null;
  exportedPupils: string | null;
  importExportRate: string;
  /** (imported - exported) x rate, to the penny: negative for a net exporter. */
  importExportAdjustment: string;
  schoolsBlockTransfer: string;
  safetyValveDfe: string;
  laContribution: string;
  total: string;
}

/**
 * DfE Safety Valve money counted in a financial year, as known on `asAt` (null: now, everything recorded).
 * Paid on time: in the year of its period. Paid late: in the year it was paid, once paid. Withheld: nowhere.
 * An instalment whose report was still to come on `asAt` was expected then, in the year of its period.
 */
export function dfeIncome(instalments: Instalment[], fy: string, asAt: string | null): string {
  let total = new D(0);
  for (const i of instalments) {
    const future = asAt !== null && i.dueOn > asAt;
    let year: string | null = null;
    if (i.status === 'PAID' || i.status === 'DUE' || future) year = i.financialYearCode;
    else if (i.status === 'PAID_LATE' && i.paidOn !== null && (asAt === null || i.paidOn <= asAt))
      year = i.paidFinancialYearCode;
    if (year === fy) total = total.plus(i.amount);
  }
  return total.toFixed(2);
}

/**
 * Pupils exported in a year under the parameters: those of record x (1 + exportChange), plus the change the
 * parameters make to the OTHER_LA placements (growth, and shares moved back into the LA's own settings). Exact decimals.
 */
export function exportedPupilsFor(fy: string, income: IncomeDrivers, p: ModelParameters): string | null {
  const y = income.years.get(fy);
  if (!y || y.exportedPupils === null) return null;
  const recorded = new D(y.exportedPupils).times(new D(1).plus(p.block.exportChange ?? '0'));
  const placements = income.otherLaPlacements?.get(fy);
  if (placements === undefined) return recorded.toString();
  const movedShare = p.block.placementShifts
    .filter((s) => s.from === 'OTHER_LA')
    .reduce((a, s) => a.plus(s.share), new D(0));
  const kept = new D(1).plus(growthFor('OTHER_LA', p)).times(new D(1).minus(movedShare));
  return recorded.plus(new D(placements).times(kept.minus(1))).toString();
}

/**
 * The block's income for a year: allocation (grown in a scenario), the import/export adjustment, the Schools
 * Block transfer at the year's rate, DfE and LA money.
 */
export function incomeFor(
  fy: string,
  income: IncomeDrivers,
  p: ModelParameters,
  asAt: string | null = null,
): IncomeYear | null {
  const y = income.years.get(fy);
  if (!y) return null;
  let allocation = money(y.highNeedsAllocation);
  const g = p.block.allocationGrowth;
  const base = income.years.get(p.block.allocationBaseYear);
  const k = fyIndex(fy) - fyIndex(p.block.allocationBaseYear);
  if (g !== null && base && k > 0) allocation = money(new D(base.highNeedsAllocation).times(new D(1).plus(g).pow(k)));
  const transfer = money(new D(y.schoolsBlock).times(p.block.schoolsBlockTransferRate));
  const dfe = dfeIncome(income.instalments, fy, asAt);
  const la = money(y.laContribution);
  const imported =
    y.importedPupils === null
      ? null
      : new D(y.importedPupils).times(new D(1).plus(p.block.importChange ?? '0')).toString();
  const exported = exportedPupilsFor(fy, income, p);
  const rate = money(p.block.importExportRate);
  // Both counts or none: imports alone (exports not recorded) would overstate the allocation.
  const adjustment =
    imported === null || exported === null ? '0.00' : money(new D(imported).minus(exported).times(rate));
  return {
    financialYearCode: fy,
    highNeedsAllocation: allocation,
    importedPupils: imported,
    exportedPupils: exported,
    importExportRate: rate,
    importExportAdjustment: adjustment,
    schoolsBlockTransfer: transfer,
    safetyValveDfe: dfe,
    laContribution: la,
    total: sumMoney([allocation, adjustment, transfer, dfe, la]),
  };
}

export interface DsgYear {
  financialYearCode: string;
  spend: string;
  income: IncomeYear;
  /** Income minus spend: negative is a deficit. */
  inYear: string;
  /** The cumulative DSG position at the year end. */
  cumulative: string;
  planInYear: string | null;
  planCumulative: string | null;
}

/**
 * In-year and cumulative DSG position per financial year, in order, from the position brought forward.
 * `spendOf(fy)` is the block's spend (memorandum lines excluded); plans are the agreement's in-year plans.
 */
export function dsgPositions(
  years: string[],
  spendOf: (fy: string) => string,
  incomeOf: (fy: string) => IncomeYear | null,
  broughtForward: { outturn: string; plan: string },
  plans: Map<string, string>,
): DsgYear[] {
  let cumulative = new D(broughtForward.outturn);
  let planCumulative: Decimal | null = new D(broughtForward.plan);
  const out: DsgYear[] = [];
  for (const fy of years) {
    const income = incomeOf(fy);
    if (!income) continue;
    const spend = spendOf(fy);
    const inYear = new D(income.total).minus(spend);
    cumulative = cumulative.plus(inYear);
    const plan = plans.get(fy) ?? null;
    planCumulative = plan === null || planCumulative === null ? null : planCumulative.plus(plan);
    out.push({
      financialYearCode: fy,
      spend,
      income,
      inYear: inYear.toFixed(2),
      cumulative: cumulative.toFixed(2),
      planInYear: plan === null ? null : money(plan),
      planCumulative: planCumulative === null ? null : planCumulative.toFixed(2),
    });
  }
  return out;
}

export interface ReportRef {
  periodCode: string;
  financialYearCode: string;
  reportDate: string;
}

export interface ReportedPosition {
  inYearPlan: string;
  inYearForecast: string;
  cumulativePlan: string;
  cumulativeForecast: string;
}

/**
 * The DSG position a monitoring report gives, from what was known on its date: each year's spend as the
 * block stood at that year's latest report by then (its snapshot), the year's income as known on the date,
 * and the agreement's plans. The same function fills the stored returns and regenerates them, so the report
 * and the block agree by construction, and a test checks them for every period.
 */
export function dsgAsReported(
  report: ReportRef,
  reports: ReportRef[],
  snapshotSpend: (periodCode: string) => string | null,
  income: IncomeDrivers,
  plans: Map<string, string>,
  broughtForward: { outturn: string; plan: string },
  paramsOn: (date: string) => ModelParameters,
): ReportedPosition | null {
  const known = reports.filter((r) => r.reportDate <= report.reportDate);
  const years = [...new Set(known.map((r) => r.financialYearCode))]
    .sort()
    .filter((fy) => fy <= report.financialYearCode);
  let cumulative = new D(broughtForward.outturn);
  let cumulativePlan = new D(broughtForward.plan);
  let inYear = new D(0);
  let plan = new D(0);
  for (const fy of years) {
    const latest = known
      .filter((r) => r.financialYearCode === fy)
      .sort((a, b) => a.reportDate.localeCompare(b.reportDate))
      .at(-1)!;
    const spend = snapshotSpend(latest.periodCode);
    const inc = incomeFor(fy, income, paramsOn(`${fy.slice(0, 4)}-04-01`), report.reportDate);
    const planYear = plans.get(fy);
    if (spend === null || !inc || planYear === undefined) return null;
    inYear = new D(inc.total).minus(spend);
    plan = new D(planYear);
    cumulative = cumulative.plus(inYear);
    cumulativePlan = cumulativePlan.plus(plan);
  }
  return {
    inYearPlan: plan.toFixed(2),
    inYearForecast: inYear.toFixed(2),
    cumulativePlan: cumulativePlan.toFixed(2),
    cumulativeForecast: cumulative.toFixed(2),
  };
}
