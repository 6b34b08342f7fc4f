import Decimal from 'decimal.js';
import { communityOn, membersOn as membersOfCommunities, type MembershipSpan } from '../community/membership';
import type { EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { BadInput, Conflict, Forbidden, NotFound } from '../../errors';
import { writeAudit } from '../audit/audit.service';
import { NotionalSenFactorCode } from '../funding/funding.entity';
import { computeFunding, FundingInputs, FundingResults, ParametersOn, schoolTermTotal } from '../funding/engine';
import {
  BANDS,
  BlockParameters,
  GROWTH_SETTINGS,
  ModelParameters,
  moneyDiff,
  PLACE_TYPES,
  PLACEMENT_KINDS,
  sumMoney,
  TOP_UP_SETTINGS,
} from '../funding/model';
import {
  IncomeOfRecord,
  loadBlockDrivers,
  loadIncome,
  readBlockLines,
  StoredBlockLine,
} from '../funding/block.service';
import { BLOCK_LINE_BY_CODE, BlockLineCode, dsgPositions, DsgYear, incomeFor } from '../funding/block';
import { loadPeriodCatalogue, PeriodCatalogue } from '../period/period.service';
import type { ModelParametersInput } from './scenario.inputs';
import { Scenario, ScenarioState } from './scenario.entity';
import type { ScenarioComparison, ScenarioResults } from './scenario.types';

// The parameters of record live with the model; re-exported for the modules that import them from here.
export { parameterVersions, recordOn, recordParameters, scenarioOn } from '../funding/parameters-of-record';
import { parameterVersions, recordOn, recordParameters } from '../funding/parameters-of-record';

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

/** Everything the model needs, read in one round of statements. */
export async function loadFundingInputs(
  db: EntityManager,
): Promise<FundingInputs & { communityOf: (urn: number, date: string) => string | null }> {
  const [schools, memberships, terms, funding, factors, bands, communities, block] = await Promise.all([
    db.query(
      `SELECT urn, pupils_on_roll AS "pupilsOnRoll", percent_fsm AS "percentFsm" FROM school WHERE pupils_on_roll IS NOT NULL AND percent_fsm IS NOT NULL`,
    ),
    db.query(
      `SELECT school_urn AS "schoolUrn", community_code AS "communityCode", effective_from::text AS "effectiveFrom", effective_to::text AS "effectiveTo" FROM community_membership ORDER BY id`,
    ),
    db.query(
      `SELECT code, start_date::text AS "startDate", months, financial_year_code AS "financialYearCode", academic_year_code AS "academicYearCode" FROM funding_term
        WHERE code IN (SELECT DISTINCT term_code FROM school_term_funding) ORDER BY start_date`,
    ),
    db.query(`SELECT school_urn AS urn, term_code AS term, baseline FROM school_term_funding ORDER BY school_urn`),
    db.query(
      `SELECT school_urn AS urn, financial_year_code AS fy, factor, formula_amount AS amount FROM notional_sen_factor`,
    ),
    db.query(`SELECT school_urn AS urn, term_code AS term, band, plans FROM ehcp_band_count`),
    db.query(`SELECT code FROM community ORDER BY code`),
    loadBlockDrivers(db),
  ]);
  // Both directions per date, built once: results ask for thousands of (school, term) communities.
  const cache = new Map<string, { members: Map<string, number[]>; of: Map<number, string> }>();
  const on = (date: string) => {
    let m = cache.get(date);
    if (!m) {
      m = {
        members: membersOfCommunities(memberships as MembershipSpan[], date),
        of: communityOn(memberships as MembershipSpan[], date),
      };
      cache.set(date, m);
    }
    return m;
  };
  const membersOn = (date: string) => on(date).members;
  const baselines = new Map<string, string>();
  const funded = new Set<number>();
  for (const f of funding as { urn: number; term: string; baseline: string }[]) {
    baselines.set(`${f.urn}|${f.term}`, f.baseline);
    funded.add(f.urn);
  }
  const factorAmounts = new Map<string, Record<NotionalSenFactorCode, string>>();
  const years = new Set<string>();
  for (const f of factors as { urn: number; fy: string; factor: NotionalSenFactorCode; amount: string }[]) {
    const k = `${f.urn}|${f.fy}`;
    if (!factorAmounts.has(k)) factorAmounts.set(k, {} as Record<NotionalSenFactorCode, string>);
    factorAmounts.get(k)![f.factor] = f.amount;
    years.add(f.fy);
  }
  const bandCounts = new Map<string, Partial<Record<(typeof BANDS)[number], number>>>();
  for (const b of bands as { urn: number; term: string; band: (typeof BANDS)[number]; plans: number }[]) {
    const k = `${b.urn}|${b.term}`;
    bandCounts.set(k, { ...(bandCounts.get(k) ?? {}), [b.band]: b.plans });
  }
  return {
    schools,
    fundedUrns: [...funded],
    communities: communities.map((c: { code: string }) => c.code),
    membersOn,
    terms,
    financialYears: [...years].sort(),
    baselines,
    factorAmounts,
    bandCounts,
    block,
    communityOf: (urn, date) => on(date).of.get(urn) ?? null,
  };
}

export function canSee(viewer: Viewer, s: Scenario): boolean {
  if (viewer.role === Role.FINANCE || s.owner === viewer.subject) return true;
  return viewer.role === Role.SUBGROUP && s.state !== ScenarioState.PRIVATE;
}

export function requireModeller(viewer: Viewer): void {
  if (viewer.role !== Role.FINANCE && viewer.role !== Role.SUBGROUP) {
    throw new Forbidden('Scenarios are for the High Needs Funding Sub-Group and Finance.');
  }
}

const SCENARIO_COLUMNS = `id, name, owner, owner_name AS "ownerName", state, base_parameter_version AS "baseParameterVersion",
  based_on_scenario_id AS "basedOnScenarioId", overrides, version, created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function findScenario(
  db: EntityManager,
  viewer: Viewer,
  id: string,
  lock = false,
): Promise<Scenario | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [row] = await db.query(`SELECT ${SCENARIO_COLUMNS} FROM scenario WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [
    id,
  ]);
  return row && canSee(viewer, row) ? row : null;
}

export async function listScenarios(db: EntityManager, viewer: Viewer): Promise<Scenario[]> {
  requireModeller(viewer);
  const rows: Scenario[] = await db.query(`SELECT ${SCENARIO_COLUMNS} FROM scenario ORDER BY updated_at DESC`);
  return rows.filter((s) => canSee(viewer, s));
}

export async function createScenario(
  db: EntityManager,
  viewer: Viewer,
  name: string,
  basedOn: string | null,
  source: 'ADDIN' | 'API',
): Promise<Scenario> {
  requireModeller(viewer);
  const clean = name.trim();
  if (!clean || clean.length > 120) throw new BadInput('A scenario name must be 1-120 characters.', 'name');
  return db.transaction(async (tx) => {
    let overrides: object = {};
    if (basedOn) {
      const base = await findScenario(tx, viewer, basedOn);
      if (!base) throw new NotFound(`No scenario "${basedOn}" that you can see.`);
      overrides = base.overrides;
    }
    const { version } = await recordParameters(tx);
    const [row] = await tx.query(
      `INSERT INTO scenario (name, owner, owner_name, state, base_parameter_version, based_on_scenario_id, overrides, version)
       VALUES ($1, $2, $3, 'PRIVATE', $4, $5, $6, 1) RETURNING ${SCENARIO_COLUMNS}`,
      [clean, viewer.subject, viewer.name, version, basedOn, JSON.stringify(overrides)],
    );
    await writeAudit(tx, { viewer, source }, [
      {
        entity: 'SCENARIO',
        entityId: row.id,
        action: 'CREATE',
        before: null,
        after: { name: clean, basedOn, overrides },
      },
    ]);
    return row;
  });
}

async function editable(
  tx: EntityManager,
  viewer: Viewer,
  id: string,
  baseVersion: number | null | undefined,
): Promise<Scenario> {
  requireModeller(viewer);
  const s = await findScenario(tx, viewer, id, true);
  if (!s) throw new NotFound(`No scenario "${id}" that you can see.`);
  if (s.owner !== viewer.subject && viewer.role !== Role.FINANCE)
    throw new Forbidden("Only the scenario's owner (or Finance) can change it.");
  if (baseVersion != null && baseVersion !== s.version) {
    throw new Conflict(
      `The scenario changed since you read it (you have version ${baseVersion}, it is at ${s.version}).`,
      { reason: 'STALE_VERSION', currentVersion: s.version },
    );
  }
  return s;
}

export async function updateScenarioParameters(
  db: EntityManager,
  viewer: Viewer,
  id: string,
  input: ModelParametersInput,
  baseVersion: number | null | undefined,
  source: 'ADDIN' | 'API',
): Promise<Scenario> {
  return db.transaction(async (tx) => {
    const s = await editable(tx, viewer, id, baseVersion);
    if (s.state === ScenarioState.LOCKED)
      throw new Conflict('The scenario is locked: copy it (createScenario with basedOn) to change it.', {
        reason: 'LOCKED',
      });
    const periods = await loadPeriodCatalogue(tx);
    const record = await recordParameters(tx);
    const current = { ...record.parameters, ...(s.overrides as Partial<ModelParameters>) };
    const overrides = { ...(s.overrides as object), ...toOverrides(input, periods, current) };
    // TypeORM answers UPDATE ... RETURNING with [rows, affected].
    const [[row]] = await tx.query(
      `UPDATE scenario SET overrides = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${SCENARIO_COLUMNS}`,
      [id, JSON.stringify(overrides)],
    );
    await writeAudit(tx, { viewer, source }, [
      { entity: 'SCENARIO', entityId: id, action: 'UPDATE', before: s.overrides, after: overrides },
    ]);
    return row;
  });
}

export async function setScenarioState(
  db: EntityManager,
  viewer: Viewer,
  id: string,
  state: ScenarioState,
  source: 'ADDIN' | 'API',
): Promise<Scenario> {
  return db.transaction(async (tx) => {
    const s = await editable(tx, viewer, id, null);
    if (s.state === ScenarioState.LOCKED && viewer.role !== Role.FINANCE)
      throw new Forbidden('Only Finance can unlock a locked scenario.');
    const [[row]] = await tx.query(
      `UPDATE scenario SET state = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${SCENARIO_COLUMNS}`,
      [id, state],
    );
    await writeAudit(tx, { viewer, source }, [
      { entity: 'SCENARIO', entityId: id, action: 'STATE', before: { state: s.state }, after: { state } },
    ]);
    return row;
  });
}

export interface Computed {
  results: FundingResults;
  paramsOn: ParametersOn;
  ms: number;
}

export function compute(inputs: FundingInputs, params: ModelParameters | ParametersOn): Computed {
  const started = process.hrtime.bigint();
  const paramsOn: ParametersOn = typeof params === 'function' ? params : () => params;
  const results = computeFunding(inputs, paramsOn);
  return { results, paramsOn, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) };
}

/** The figures of record a scenario is set against: block lines, income, and the parameter versions. */
export interface RecordContext {
  stored: StoredBlockLine[];
  income: IncomeOfRecord;
  recordOn: ParametersOn;
}

export async function loadRecordContext(db: EntityManager): Promise<RecordContext> {
  const [stored, income, versions] = await Promise.all([readBlockLines(db), loadIncome(db), parameterVersions(db)]);
  return { stored, income, recordOn: recordOn(versions) };
}

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
  inputs: Awaited<ReturnType<typeof loadFundingInputs>>,
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
