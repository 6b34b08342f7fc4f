/** A scenario's parameter changes, validated against their ranges and the calendar, as overrides of the model's parameters. */
import Decimal from 'decimal.js';
import { BadInput } from '../../errors';
import {
  BANDS,
  BlockParameters,
  GROWTH_SETTINGS,
  ModelParameters,
  PLACE_TYPES,
  PLACEMENT_KINDS,
  TOP_UP_SETTINGS,
} from '../funding/model';
import type { PeriodCatalogue } from '../period/period.service';
import type { ModelParametersInput } from './scenario.inputs';

const between = (v: string, lo: string, hi: string) => new Decimal(v).gte(lo) && new Decimal(v).lte(hi);

/** Refuses a value outside [lo, hi], naming the parameter and the range. */
function range(param: string, what: string, v: string, lo: string, hi: string): void {
  if (!between(v, lo, hi))
    throw new BadInput(`${what} must be from ${lo} to ${hi}; got ${v}.`, `parameters.${param}`, { range: [lo, hi] });
}

function oneOf<T extends string>(param: string, what: string, v: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(v))
    throw new BadInput(`Unknown ${what} "${v}". Valid: ${values.join(', ')}.`, `parameters.${param}`, {
      validValues: [...values],
    });
  return v as T;
}

/** Annual money amounts (rates, band values, unit costs) are from 0 to £500,000. */
const MAX_RATE = '500000';

/** The block parameters a change sets, validated, on top of `base`; null when it sets none. */
function blockOverrides(input: ModelParametersInput, base: BlockParameters): BlockParameters | null {
  const b: BlockParameters = {
    ...base,
    placeRates: { ...base.placeRates },
    legacyTopUpRates: { ...base.legacyTopUpRates },
    bandSets: { ...base.bandSets },
    growthBySetting: { ...base.growthBySetting },
    placeChange: { ...base.placeChange },
  };
  let changed = false;
  for (const p of input.placeRates ?? []) {
    const type = oneOf('placeRates', 'place type', p.placeType, PLACE_TYPES);
    range('placeRates', `The ${type} place rate`, p.rate, '0', MAX_RATE);
    b.placeRates[type] = p.rate;
    changed = true;
  }
  for (const p of input.legacyTopUpRates ?? []) {
    const setting = oneOf('legacyTopUpRates', 'setting', p.setting, TOP_UP_SETTINGS);
    range('legacyTopUpRates', `The ${setting} legacy top-up`, p.amount, '0', MAX_RATE);
    b.legacyTopUpRates[setting] = p.amount;
    changed = true;
  }
  for (const set of input.bandSets ?? []) {
    const setting = oneOf('bandSets', 'setting', set.setting, TOP_UP_SETTINGS);
    if (set.bands.length === 0 || set.bands.length > 12)
      throw new BadInput(
        `A band set has 1 to 12 bands; got ${set.bands.length} for ${setting}.`,
        'parameters.bandSets',
        { range: [1, 12] },
      );
    const bands: Record<string, string> = {};
    for (const x of set.bands) {
      if (x.band.length < 1 || x.band.length > 8 || ![...x.band].every((ch) => /[A-Z0-9]/.test(ch))) {
        throw new BadInput(`A band code is 1-8 capital letters or digits; got "${x.band}".`, 'parameters.bandSets');
      }
      if (bands[x.band] !== undefined)
        throw new BadInput(`Band ${x.band} is twice in the ${setting} set.`, 'parameters.bandSets');
      range('bandSets', `The ${setting} band ${x.band} value`, x.value, '0', MAX_RATE);
      bands[x.band] = x.value;
    }
    b.bandSets[setting] = bands;
    changed = true;
  }
  for (const v of input.settingBandValues ?? []) {
    const setting = oneOf('settingBandValues', 'setting', v.setting, TOP_UP_SETTINGS);
    const set = b.bandSets[setting];
    oneOf('settingBandValues', `band of the ${setting} set`, v.band, Object.keys(set));
    range('settingBandValues', `The ${setting} band ${v.band} value`, v.value, '0', MAX_RATE);
    b.bandSets[setting] = { ...set, [v.band]: v.value };
    changed = true;
  }
  if (input.rateUplift != null) {
    range('rateUplift', 'rateUplift', input.rateUplift, '-0.1', '0.2');
    b.rateUplift = input.rateUplift;
    changed = true;
  }
  for (const g of input.growthBySetting ?? []) {
    const setting = oneOf('growthBySetting', 'setting', g.setting, GROWTH_SETTINGS);
    range('growthBySetting', `EHCP growth in ${setting}`, g.share, '-0.5', '1');
    b.growthBySetting[setting] = g.share;
    changed = true;
  }
  for (const g of input.placeChange ?? []) {
    const setting = oneOf('placeChange', 'setting with places', g.setting, TOP_UP_SETTINGS);
    range('placeChange', `The change in ${setting} places`, g.share, '-0.5', '1');
    b.placeChange[setting] = g.share;
    changed = true;
  }
  if (input.placementShifts != null) {
    const moved = new Map<string, Decimal>();
    b.placementShifts = input.placementShifts.map((s) => {
      const from = oneOf('placementShifts', 'placement kind', s.from, PLACEMENT_KINDS);
      const to = oneOf('placementShifts', 'receiving setting', s.to, TOP_UP_SETTINGS);
      range('placementShifts', `The share of ${from} moved`, s.share, '0', '1');
      oneOf('placementShifts', `band of the ${to} set`, s.band, Object.keys(b.bandSets[to]));
      moved.set(from, (moved.get(from) ?? new Decimal(0)).plus(s.share));
      if (moved.get(from)!.gt(1))
        throw new BadInput(`The shares of ${from} moved add up to more than 1.`, 'parameters.placementShifts', {
          range: ['0', '1'],
        });
      return { from, to, share: s.share, band: s.band };
    });
    changed = true;
  }
  if (input.schoolsBlockTransferRate != null) {
    range('schoolsBlockTransferRate', 'schoolsBlockTransferRate', input.schoolsBlockTransferRate, '0', '0.05');
    b.schoolsBlockTransferRate = input.schoolsBlockTransferRate;
    changed = true;
  }
  if (input.allocationGrowth != null) {
    range('allocationGrowth', 'allocationGrowth', input.allocationGrowth, '-0.2', '0.3');
    b.allocationGrowth = input.allocationGrowth;
    changed = true;
  }
  for (const [name, value] of [
    ['importChange', input.importChange],
    ['exportChange', input.exportChange],
  ] as const) {
    if (value == null) continue;
    range(name, name, value, '-0.5', '1');
    b[name] = value;
    changed = true;
  }
  if (input.importExportRate != null) {
    range('importExportRate', 'importExportRate', input.importExportRate, '0', '20000');
    b.importExportRate = input.importExportRate;
    changed = true;
  }
  return changed ? b : null;
}

/** Validates changes against the calendar and turns them into a partial ModelParameters. */
export function toOverrides(
  input: ModelParametersInput,
  periods: PeriodCatalogue,
  base: ModelParameters,
): Partial<ModelParameters> {
  const out: Partial<ModelParameters> = {};
  const arg = (name: string) => `parameters.${name}`;
  if (input.protectionRate != null) {
    if (!between(input.protectionRate, '0', '1'))
      throw new BadInput(`protectionRate must be from 0 to 1; got ${input.protectionRate}.`, arg('protectionRate'));
    out.protectionRate = input.protectionRate;
  }
  if (input.protectedTerms != null) {
    const unknown = input.protectedTerms.filter((t) => !periods.fundingTermByCode.has(t));
    if (unknown.length)
      throw new BadInput(
        `Unknown funding term(s) ${unknown.join(', ')}. Valid terms: ${periods.fundingTerms.map((t) => t.code).join(', ')}.`,
        arg('protectedTerms'),
      );
    out.protectedTermCodes = [...new Set(input.protectedTerms)];
  }
  if (input.communityPotAnnual != null) {
    const pots = { ...base.communityPotAnnual };
    for (const p of input.communityPotAnnual) {
      if (!periods.financialYearByCode.has(p.financialYear))
        throw new BadInput(`Unknown financial year "${p.financialYear}".`, arg('communityPotAnnual'));
      if (new Decimal(p.amount).isNegative())
        throw new BadInput('A pot cannot be negative.', arg('communityPotAnnual'));
      pots[p.financialYear] = p.amount;
    }
    out.communityPotAnnual = pots;
  }
  if (input.notionalSenPercentages != null) {
    const pct = { ...base.notionalSenPercentages };
    for (const p of input.notionalSenPercentages) {
      if (!between(p.percentage, '0', '1'))
        throw new BadInput(
          `The ${p.factor} percentage must be from 0 to 1; got ${p.percentage}.`,
          arg('notionalSenPercentages'),
        );
      pct[p.factor] = p.percentage;
    }
    out.notionalSenPercentages = pct;
  }
  if (input.bandValues != null) {
    const values = { ...base.bandValues };
    for (const b of input.bandValues) {
      if (!(BANDS as readonly string[]).includes(b.band))
        throw new BadInput(`Unknown band "${b.band}". Bands are ${BANDS.join(', ')}.`, arg('bandValues'));
      if (new Decimal(b.value).isNegative()) throw new BadInput('A band value cannot be negative.', arg('bandValues'));
      values[b.band as (typeof BANDS)[number]] = b.value;
    }
    out.bandValues = values;
  }
  if (input.ehcpGrowth != null) {
    if (!between(input.ehcpGrowth, '-0.5', '1'))
      throw new BadInput(
        `ehcpGrowth must be from -0.5 to 1 (e.g. "0.08" for 8%); got ${input.ehcpGrowth}.`,
        arg('ehcpGrowth'),
      );
    out.ehcpGrowth = input.ehcpGrowth;
  }
  if (input.communityWeights != null) {
    const { pupils, fsmPupils } = input.communityWeights;
    if (!between(pupils, '0', '1') || !between(fsmPupils, '0', '1') || !new Decimal(pupils).plus(fsmPupils).eq(1)) {
      throw new BadInput(
        `communityWeights must be from 0 to 1 and sum to 1; got ${pupils} + ${fsmPupils}.`,
        arg('communityWeights'),
      );
    }
    out.communityWeights = { pupils, fsmPupils };
  }
  if (input.bandingStartDate != null) out.bandingStartDate = input.bandingStartDate;
  if (input.protectionRateByTerm != null) {
    const byTerm = { ...(base.protectionRateByTerm ?? {}) };
    for (const t of input.protectionRateByTerm) {
      if (!periods.fundingTermByCode.has(t.term))
        throw new BadInput(
          `Unknown funding term "${t.term}". Valid terms: ${periods.fundingTerms.map((x) => x.code).join(', ')}.`,
          arg('protectionRateByTerm'),
        );
      range('protectionRateByTerm', `${t.term} rate`, t.rate, '0', '1');
      byTerm[t.term] = t.rate;
    }
    out.protectionRateByTerm = byTerm;
  }
  const block = blockOverrides(input, base.block);
  if (block) out.block = block;
  if (Object.keys(out).length === 0)
    throw new BadInput('No parameters given: send at least one to change.', 'parameters');
  return out;
}
