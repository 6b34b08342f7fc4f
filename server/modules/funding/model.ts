/**
 * The funding model core: pure functions over exact decimals (decimal.js), no database.
 *
 * Every function takes its parameters explicitly so that a versioned parameter set or a what-if scenario
 * can be passed instead of DEFAULT_MODEL_PARAMETERS. Money is rounded half-up to the penny once, at the
 * end of each line; totals are sums of rounded lines, so a total always equals the sum of what is shown.
 */
import Decimal from 'decimal.js';
import { NotionalSenFactorCode } from './funding.entity';

// A private clone: 40 significant digits keeps weight ratios exact enough that largest-remainder splits
// never lose or gain a penny, and the global Decimal configuration other modules rely on is left alone.
const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
type Dec = InstanceType<typeof D>;
// Integer arithmetic on products of a total's pennies and a 40-digit weight needs more digits than D keeps.
const EXACTD = D.clone({ precision: 200 });

export type DecimalInput = string | number | Dec | Decimal;

/** Mainstream EHCP funding bands from September 2026. */
export const BANDS = ['A', 'B', 'C', 'D', 'E'] as const;
export type Band = (typeof BANDS)[number];

export interface CommunityWeights {
  /** Weight of the community's share of pupils on roll. */
  pupils: string;
  /** Weight of the community's share of pupils eligible for free school meals. */
  fsmPupils: string;
}

export interface ModelParameters {
  /** Share of each formula factor counted in a school's notional SEN budget. */
  notionalSenPercentages: Record<NotionalSenFactorCode, string>;
  /** Share of a school's previous individual high-needs funding protected during the phase-in. */
  protectionRate: string;
  /** Funding terms in which the protection applies. */
  protectedTermCodes: string[];
  /** Communities pot per financial year; a term gets annual x months / 12. */
  communityPotAnnual: Record<string, string>;
  /** Pot for a financial year missing from communityPotAnnual. */
  communityPotAnnualDefault: string;
  /** How the pot is shared among communities; weights must sum to 1. */
  communityWeights: CommunityWeights;
  /** First day of the banded EHCP top-up (the full model). */
  bandingStartDate: string;
  /** Annual value of each mainstream EHCP band. */
  bandValues: Record<Band, string>;
  /** Growth applied to EHCP plan counts, e.g. "0.08" for 8% (a what-if; "0" for the figures of record). */
  ehcpGrowth?: string;
  /** Per-term protection rates (a taper): where a term is named, its rate replaces protectionRate and protectedTermCodes. */
  protectionRateByTerm?: Record<string, string>;
  /** The rest of element 3 (places, specialist top-ups, placements, income): see block.ts. */
  block: BlockParameters;
}

/** Settings whose top-ups are paid per pupil from counts per school, band and term (mainstream uses bandValues). */
export const TOP_UP_SETTINGS = ['SRP', 'SPECIAL', 'AP'] as const;
export type TopUpSetting = (typeof TOP_UP_SETTINGS)[number];
/** Place types of the DfE's high-needs place numbers, each funded at a rate per place. */
export const PLACE_TYPES = ['SPECIAL_PRE16', 'SPECIAL_POST16', 'AP', 'SRP'] as const;
export type PlaceType = (typeof PLACE_TYPES)[number];
/** The setting (and so the block line) a place type belongs to. */
export const PLACE_SETTING: Record<PlaceType, TopUpSetting> = {
  SPECIAL_PRE16: 'SPECIAL',
  SPECIAL_POST16: 'SPECIAL',
  AP: 'AP',
  SRP: 'SRP',
};
/**
 * Placements commissioned outside the LA's own schools: count x unit cost per financial year. OTHER_LA: the LA's
 * children in other authorities' schools, for whom the LA (the commissioning authority) pays the top-up; their
 * place funding is the providing authority's, taken from the LA's allocation by the import/export adjustment.
 */
export const PLACEMENT_KINDS = ['INDEPENDENT_NMSS', 'POST_16_FE', 'OTHER_LA'] as const;
export type PlacementKind = (typeof PLACEMENT_KINDS)[number];
/** Every setting EHCP growth can be set for. */
export const GROWTH_SETTINGS = ['MAINSTREAM', ...TOP_UP_SETTINGS, ...PLACEMENT_KINDS] as const;
export type GrowthSetting = (typeof GROWTH_SETTINGS)[number];

/** A share of one kind of placement moved into a setting with places (e.g. 5% of independent placements into special schools). */
export interface PlacementShift {
  from: PlacementKind;
  to: TopUpSetting;
  /** 0 to 1. */
  share: string;
  /** Band of the receiving setting's band set each moved placement is funded at (after the banding start; before it, the legacy rate). */
  band: string;
}

export interface BlockParameters {
  /** Annual funding per place, by place type (DfE: £10,000 special and AP, £6,000 resourced provision and units). */
  placeRates: Record<PlaceType, string>;
  /** Annual top-up per pupil before the banding start (the old per-setting mechanisms). */
  legacyTopUpRates: Record<TopUpSetting, string>;
  /** From the banding start: the band set of each setting and the annual value of each band. */
  bandSets: Record<TopUpSetting, Record<string, string>>;
  /** Annual uplift on every rate, band value and unit cost, compounding per financial year after rateBaseYear. */
  rateUplift: string;
  /** Financial year whose rates are as given (no uplift). */
  rateBaseYear: string;
  /** EHCP growth per setting (overrides ehcpGrowth for that setting). */
  growthBySetting: Partial<Record<GrowthSetting, string>>;
  /** Change in commissioned place numbers per setting, e.g. "0.10" for 10% more places. */
  placeChange: Partial<Record<TopUpSetting, string>>;
  placementShifts: PlacementShift[];
  /** Share of the Schools Block moved into the High Needs block (e.g. 1.2%). */
  schoolsBlockTransferRate: string;
  /** Annual growth of the high-needs allocation after allocationBaseYear, replacing the given later years ("0": as given). */
  allocationGrowth: string | null;
  allocationBaseYear: string;
  /**
   * The import/export adjustment per pupil (DfE high-needs operational guidance: £6,000, the place funding
   * that follows a pupil to the providing authority): the allocation gains it per pupil imported (other LAs'
   * children in the LA's schools) and loses it per pupil exported (the LA's children in other LAs' schools).
   */
  importExportRate: string;
  /** Change in the pupils imported and exported, each from -0.5 to 1 (e.g. "0.05": 5% more); "0" as recorded. */
  importChange: string;
  exportChange: string;
}

export const DEFAULT_MODEL_PARAMETERS: ModelParameters = Object.freeze({
  // The demo authority's 2024-25 notional SEN formula.
  notionalSenPercentages: Object.freeze({
    [NotionalSenFactorCode.BASIC_ENTITLEMENT]: '0.05',
    [NotionalSenFactorCode.FSM_EVER6]: '0.70',
    [NotionalSenFactorCode.DEPRIVATION]: '0.70',
    [NotionalSenFactorCode.MOBILITY]: '0.70',
    [NotionalSenFactorCode.LOW_PRIOR_ATTAINMENT]: '1.00',
    [NotionalSenFactorCode.MINIMUM_PER_PUPIL_MFG]: '0.43',
  }),
  protectionRate: '0.75',
  protectedTermCodes: Object.freeze(['SUMMER-2025', 'AUTUMN-2025', 'SPRING-2026', 'SUMMER-2026']) as string[],
  // Estimates: the real pot sizes are not public. Larger from 2026-27 as protections end.
  communityPotAnnual: Object.freeze({ '2025-26': '18000000.00', '2026-27': '27000000.00', '2027-28': '28000000.00' }),
  communityPotAnnualDefault: '0.00',
  communityWeights: Object.freeze({ pupils: '0.70', fsmPupils: '0.30' }),
  bandingStartDate: '2026-09-01',
  // Estimates of mainstream bands (annual top-up per plan).
  bandValues: Object.freeze({ A: '2000.00', B: '4000.00', C: '6500.00', D: '9000.00', E: '12000.00' }),
  ehcpGrowth: '0',
  block: Object.freeze({
    placeRates: Object.freeze({
      SPECIAL_PRE16: '10000.00',
      SPECIAL_POST16: '10000.00',
      AP: '10000.00',
      SRP: '6000.00',
    }),
    // Estimates: the demo authority's old special-school top-up averaged about £14,250 a pupil on top of the place (£24,252 a place in all).
    legacyTopUpRates: Object.freeze({ SRP: '9500.00', SPECIAL: '14250.00', AP: '8000.00' }),
    // Decision 25/00108: one banding model for mainstream, SRP and special from September 2026 (values are estimates).
    bandSets: Object.freeze({
      SRP: Object.freeze({ R1: '6000.00', R2: '9000.00', R3: '12000.00', R4: '15000.00' }),
      SPECIAL: Object.freeze({ S1: '8000.00', S2: '11500.00', S3: '15000.00', S4: '19000.00', S5: '26000.00' }),
      AP: Object.freeze({ P1: '6500.00', P2: '9500.00', P3: '13000.00' }),
    }),
    rateUplift: '0',
    rateBaseYear: '2025-26',
    growthBySetting: Object.freeze({}),
    placeChange: Object.freeze({}),
    placementShifts: Object.freeze([]) as unknown as PlacementShift[],
    schoolsBlockTransferRate: '0.012',
    allocationGrowth: null,
    allocationBaseYear: '2025-26',
    importExportRate: '6000.00',
    importChange: '0',
    exportChange: '0',
  }) as BlockParameters,
}) as ModelParameters;

/** Rounds half-up to the penny and formats with exactly two decimals. */
export function money(value: DecimalInput): string {
  return new D(value.toString()).toDecimalPlaces(2, D.ROUND_HALF_UP).toFixed(2);
}

// Integer fast paths. A whole-county scenario makes tens of thousands of penny-exact products and sums;
// where every operand is a whole number of pennies (or of 1/10,000ths for a rate) and every intermediate
// stays a safe integer, integer arithmetic gives the same figures as decimal.js, without allocating.
// Anything else (more decimals, negatives where rounding is signed, very large figures) takes the decimal
// path, so results never depend on which path ran (tests/unit/funding-fast-paths.test.ts compares them).

const MONEY_TEXT = /^(-?)(\d{1,13})\.(\d{2})$/;

/** Pennies of a money string with exactly two decimals ("1234.50" is 123450); null for anything else. */
export function penniesOf(text: string): number | null {
  const m = MONEY_TEXT.exec(text);
  if (!m) return null;
  const p = Number(m[2]) * 100 + Number(m[3]);
  return m[1] && p !== 0 ? -p : p;
}

/** Pennies formatted as money text ("-12.05"); exactly what Decimal#toFixed(2) gives for the same value. */
export function formatPennies(p: number): string {
  const a = Math.abs(p);
  const text = `${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
  return p < 0 ? '-' + text : text;
}

/** Ten-thousandths of a rate given with at most four decimals and from 0 to 1 ("0.7500" is 7500); else null. */
function tenThousandthsOf(d: Dec): number | null {
  if (d.isNegative() || d.gt(1) || !d.toDecimalPlaces(4).eq(d)) return null;
  return d.times(10000).toNumber();
}

/** round-half-up(pennies x rate) in pennies, for pennies >= 0 and a rate in ten-thousandths; null if unsafe. */
function timesRate(pennies: number, rate4: number): number | null {
  if (pennies < 0) return null;
  const product = pennies * rate4;
  if (!Number.isSafeInteger(product)) return null;
  const rem = product % 10000;
  return (product - rem) / 10000 + (rem >= 5000 ? 1 : 0);
}

/** money(amount x rate) for a money amount and a rate of record (4 decimals): exact, fast when it can be. */
export function moneyTimesRate(amount: string, rate: string): string {
  const p = penniesOf(amount);
  const r = rateCache.get(rate) ?? rateCache.set(rate, tenThousandthsOf(new D(rate))).get(rate)!;
  if (p !== null && r !== null) {
    const out = timesRate(p, r);
    if (out !== null) return formatPennies(out);
  }
  return money(new D(amount).times(rate));
}
const rateCache = new Map<string, number | null>();

/** b - a for money strings, to the penny (exact; whole pennies when both are two-decimal amounts). */
export function moneyDiff(a: string, b: string): string {
  const pa = penniesOf(a);
  const pb = pa === null ? null : penniesOf(b);
  if (pa !== null && pb !== null) return formatPennies(pb - pa);
  return new D(b).minus(a).toFixed(2);
}

/** Exact sum of money strings, formatted to the penny. */
export function sumMoney(values: Iterable<DecimalInput>): string {
  const list = Array.isArray(values) ? (values as DecimalInput[]) : [...values];
  let pennies = 0;
  let fast = true;
  for (const v of list) {
    const p = typeof v === 'string' ? penniesOf(v) : null;
    if (p === null || !Number.isSafeInteger(pennies + p)) {
      fast = false;
      break;
    }
    pennies += p;
  }
  if (fast) return formatPennies(pennies);
  let total = new D(0);
  for (const v of list) total = total.plus(v.toString());
  return total.toFixed(2);
}

export interface NotionalSenLine {
  factor: NotionalSenFactorCode;
  formulaAmount: string;
  /** Four decimals, as stored (numeric(6,4)). */
  senPercentage: string;
  senAmount: string;
}

export interface NotionalSenResult {
  lines: NotionalSenLine[];
  total: string;
}

/** Percentages as decimals and as stored (4 places), once per parameter set: every school's budget uses them. */
const pctCache = new WeakMap<object, Map<string, { d: Dec; text: string; rate4: number | null }>>();
const TWO_DP = /^-?\d+\.\d{2}$/;

/** A school's notional SEN budget: each factor's formula amount x its SEN percentage, rounded per line. */
export function notionalSenLines(
  factorAmounts: Record<NotionalSenFactorCode, string>,
  pct: Record<NotionalSenFactorCode, string>,
): NotionalSenResult {
  let cached = pctCache.get(pct);
  if (!cached) {
    cached = new Map(
      Object.values(NotionalSenFactorCode).map((f) => {
        const d = new D(pct[f] ?? '0');
        return [f, { d, text: d.toFixed(4), rate4: tenThousandthsOf(d) }];
      }),
    );
    pctCache.set(pct, cached);
  }
  let total = new D(0);
  let totalPennies: number | null = 0;
  const lines = Object.values(NotionalSenFactorCode).map((factor): NotionalSenLine => {
    const raw = factorAmounts[factor] ?? '0';
    // Stored amounts are already pennies (numeric(14,2) text): no need to round them again.
    const formulaAmount = TWO_DP.test(raw) ? raw : money(raw);
    const p = cached!.get(factor)!;
    const pennies = p.rate4 === null ? null : penniesOf(formulaAmount);
    const fast = pennies === null ? null : timesRate(pennies, p.rate4!);
    if (fast !== null && totalPennies !== null) {
      totalPennies += fast;
      return { factor, formulaAmount, senPercentage: p.text, senAmount: formatPennies(fast) };
    }
    if (totalPennies !== null) total = new D(formatPennies(totalPennies));
    totalPennies = null;
    const senAmount = new D(formulaAmount).times(p.d).toDecimalPlaces(2, D.ROUND_HALF_UP);
    total = total.plus(senAmount);
    return { factor, formulaAmount, senPercentage: p.text, senAmount: senAmount.toFixed(2) };
  });
  return { lines, total: totalPennies !== null ? formatPennies(totalPennies) : total.toFixed(2) };
}

/** Protection rate for a term (4 decimals): the protection rate in a protected term, else 0. */
export function protectionRate(
  termCode: string,
  params: Pick<ModelParameters, 'protectedTermCodes' | 'protectionRate' | 'protectionRateByTerm'>,
): string {
  const tapered = params.protectionRateByTerm?.[termCode];
  if (tapered !== undefined) return new D(tapered).toFixed(4);
  return (params.protectedTermCodes.includes(termCode) ? new D(params.protectionRate) : new D(0)).toFixed(4);
}

/** Protected individual funding for a term: baseline x protection rate in a protected term, else 0. */
export function protectedAmount(
  baseline: DecimalInput,
  termCode: string,
  params: Pick<ModelParameters, 'protectedTermCodes' | 'protectionRate' | 'protectionRateByTerm'>,
): string {
  return money(new D(baseline.toString()).times(protectionRate(termCode, params)));
}

/** The communities pot for one funding term: the financial year's pot x months / 12. */
export function potTotalForTerm(term: { financialYearCode: string; months: number }, params: ModelParameters): string {
  const annual = params.communityPotAnnual[term.financialYearCode] ?? params.communityPotAnnualDefault;
  return money(new D(annual).times(term.months).dividedBy(12));
}

/**
 * Splits `total` (money) in proportion to the weights, exactly: every part is floored to the penny and
 * the pennies left over go one each to the largest remainders (ties: the earlier key in `weights`), so
 * the parts always sum to the total. Zero total weight gives an equal split.
 */
export function largestRemainderSplit<K extends string | number>(
  total: DecimalInput,
  weights: ReadonlyArray<{ key: K; weight: DecimalInput }>,
): Map<K, string> {
  const out = new Map<K, string>();
  if (weights.length === 0) return out;
  const fast = splitWholeWeights(total, weights);
  if (fast) return fast;
  const pennies = new D(money(total)).times(100);
  if (pennies.isNegative()) throw new RangeError('largestRemainderSplit: the total must not be negative');
  let ws = weights.map((w) => new EXACTD(w.weight.toString()));
  if (ws.some((w) => w.isNegative())) throw new RangeError('largestRemainderSplit: weights must not be negative');
  let wTotal = ws.reduce((a, b) => a.plus(b), new EXACTD(0));
  if (wTotal.isZero()) {
    ws = ws.map(() => new EXACTD(1));
    wTotal = new EXACTD(ws.length);
  }
  // Each part is floor(pennies x w / W) and its remainder pennies x w - floor x W, both exact (EXACTD's
  // precision holds every product), so equal remainders compare equal and the tie goes to the earlier key.
  // Dividing first would round each quotient to 40 digits, leaving fewer fractional digits on larger
  // parts, and a tie could go to the later key.
  const parts = ws.map((w, i) => {
    const product = w.times(pennies.toString());
    const floor = product.divToInt(wTotal);
    return { i, floor, rem: product.minus(floor.times(wTotal)) };
  });
  let left = pennies.minus(parts.reduce((a, p) => a.plus(p.floor), new D(0))).toNumber();
  const order = [...parts].sort((a, b) => b.rem.comparedTo(a.rem) || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) order[k].floor = order[k].floor.plus(1);
  for (const p of parts) out.set(weights[p.i].key, p.floor.dividedBy(100).toFixed(2));
  return out;
}

/**
 * largestRemainderSplit when every weight is a whole number (pupils on roll) and the products stay safe
 * integers: each part is floor(pennies x w / W) with remainder pennies x w mod W, compared over the same W,
 * so the order of remainders, and hence every penny, is the decimal path's. Null when it does not apply.
 */
function splitWholeWeights<K extends string | number>(
  total: DecimalInput,
  weights: ReadonlyArray<{ key: K; weight: DecimalInput }>,
): Map<K, string> | null {
  const pennies = penniesOf(typeof total === 'string' ? total : money(total));
  if (pennies === null || pennies < 0) return null;
  let ws: number[] = [];
  let wTotal = 0;
  for (const w of weights) {
    if (typeof w.weight !== 'number' || !Number.isSafeInteger(w.weight) || w.weight < 0) return null;
    ws.push(w.weight);
    wTotal += w.weight;
  }
  if (wTotal === 0) {
    ws = ws.map(() => 1);
    wTotal = ws.length;
  }
  if (!Number.isSafeInteger(pennies * wTotal)) return null;
  const floors: number[] = [];
  const rems: number[] = [];
  let left = pennies;
  for (const w of ws) {
    const product = pennies * w;
    const rem = product % wTotal;
    const floor = (product - rem) / wTotal;
    floors.push(floor);
    rems.push(rem);
    left -= floor;
  }
  const order = ws.map((_, i) => i).sort((a, b) => rems[b] - rems[a] || a - b);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) floors[order[k]] += 1;
  const out = new Map<K, string>();
  weights.forEach((w, i) => out.set(w.key, formatPennies(floors[i])));
  return out;
}

export interface CommunityWeightInput {
  code: string;
  pupilsOnRoll: number;
  /** Pupils eligible for free school meals (may be fractional: pupils x %FSM / 100). */
  fsmPupils: DecimalInput;
}

/**
 * Shares a term's pot among communities. A community's weight is
 *   w_pupils x (its pupils / all pupils) + w_fsm x (its FSM pupils / all FSM pupils),
 * so the pot follows size and deprivation. Exact; pennies by largest remainder, so the pots sum to the total.
 */
export function communityPots(
  communities: ReadonlyArray<CommunityWeightInput>,
  potTotalForTerm: DecimalInput,
  params: ModelParameters,
): Map<string, string> {
  const pupils = communities.reduce((a, c) => a.plus(c.pupilsOnRoll), new D(0));
  const fsm = communities.reduce((a, c) => a.plus(c.fsmPupils.toString()), new D(0));
  const wp = new D(params.communityWeights.pupils);
  const wf = new D(params.communityWeights.fsmPupils);
  const weights = communities.map((c) => ({
    key: c.code,
    weight: (pupils.isZero() ? new D(0) : wp.times(c.pupilsOnRoll).dividedBy(pupils)).plus(
      fsm.isZero() ? new D(0) : wf.times(c.fsmPupils.toString()).dividedBy(fsm),
    ),
  }));
  return largestRemainderSplit(potTotalForTerm, weights);
}

/** True when the banded EHCP top-up applies to a term starting on `termStartDate` (ISO dates compare as text). */
export function bandingApplies(termStartDate: string, params: ModelParameters): boolean {
  return termStartDate >= params.bandingStartDate;
}

/** Banded EHCP top-up for a term: sum(plans x annual band value) x months / 12, rounded once. */
export function bandedTopUp(
  bandCounts: Partial<Record<string, number | string>>,
  bandValues: Partial<Record<string, string>>,
  termMonths: number,
): string {
  let annual = new D(0);
  for (const [band, plans] of Object.entries(bandCounts)) {
    if (!plans) continue;
    const value = bandValues[band];
    if (value === undefined) throw new RangeError(`bandedTopUp: no value for band ${band}`);
    annual = annual.plus(new D(value).times(plans.toString()));
  }
  return money(annual.times(termMonths).dividedBy(12));
}

const bandValueCache = new WeakMap<object, Map<string, Dec>>();

/**
 * bandedTopUp of counts grown by `factor` (1 + EHCP growth, as a decimal.js value): each band's plans x
 * factor, then x its annual value, summed, x months / 12 and rounded once. The same figures as scaling the
 * counts first and calling bandedTopUp, with each band value parsed once per value set rather than per school.
 */
export function grownBandedTopUp(
  bandCounts: Partial<Record<string, number>>,
  factor: Decimal,
  bandValues: Partial<Record<string, string>>,
  termMonths: number,
): string {
  let values = bandValueCache.get(bandValues);
  if (!values) {
    values = new Map(Object.entries(bandValues).map(([b, v]) => [b, new D(v!)]));
    bandValueCache.set(bandValues, values);
  }
  const fast = grownBandedPennies(bandCounts, factor, bandValues, termMonths);
  if (fast !== null) return formatPennies(fast);
  let annual = new D(0);
  for (const [band, plans] of Object.entries(bandCounts)) {
    const value = values.get(band);
    if (value === undefined) throw new RangeError(`bandedTopUp: no value for band ${band}`);
    annual = annual.plus(value.times(new Decimal(plans!).times(factor)));
  }
  return money(annual.times(termMonths).dividedBy(12));
}

const bandPenniesCache = new WeakMap<object, Map<string, number | null>>();
const factorCache = new WeakMap<Decimal, { f: number; scale: number } | null>();

/**
 * grownBandedTopUp in whole numbers, when it can be: with the factor as f / 10^k (k <= 8), the term's pennies
 * are sum(value pennies x plans x f) x months / (12 x 10^k), rounded half up, all exact while the products
 * stay safe integers. (The decimal path's 40-digit division cannot tip a half: the remainder over 12 x 10^k
 * repeats 0s, 3s or 6s, never a run of 9s.) Null when anything falls outside that: the decimal path decides.
 */
function grownBandedPennies(
  bandCounts: Partial<Record<string, number>>,
  factor: Decimal,
  bandValues: Partial<Record<string, string>>,
  termMonths: number,
): number | null {
  let fk = factorCache.get(factor);
  if (fk === undefined) {
    const k = factor.decimalPlaces();
    fk = factor.isNegative() || k > 8 ? null : { f: factor.times(new Decimal(10).pow(k)).toNumber(), scale: 10 ** k };
    if (fk && !Number.isSafeInteger(fk.f)) fk = null;
    factorCache.set(factor, fk);
  }
  if (!fk || !Number.isInteger(termMonths) || termMonths < 0) return null;
  let pennies = bandPenniesCache.get(bandValues);
  if (!pennies) {
    pennies = new Map(Object.entries(bandValues).map(([b, v]) => [b, penniesOf(v!)]));
    bandPenniesCache.set(bandValues, pennies);
  }
  let a = 0;
  for (const [band, plans] of Object.entries(bandCounts)) {
    if (!pennies.has(band)) return null; // the decimal path names the band
    const v = pennies.get(band)!;
    if (v === null || v < 0 || typeof plans !== 'number' || !Number.isInteger(plans) || plans < 0 || plans >= 1e6)
      return null;
    a += v * plans * fk.f;
    if (!Number.isSafeInteger(a)) return null;
  }
  const x = a * termMonths;
  const d = 12 * fk.scale;
  if (!Number.isSafeInteger(x) || !Number.isSafeInteger(d)) return null;
  const rem = x % d;
  return (x - rem) / d + (2 * rem >= d ? 1 : 0);
}
