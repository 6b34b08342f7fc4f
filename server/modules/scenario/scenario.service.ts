import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { BadInput, Conflict, Forbidden, NotFound } from '../../errors';
import { writeAudit } from '../audit/audit.service';
import { NotionalSenFactorCode } from '../funding/funding.entity';
import { computeFunding, FundingInputs, FundingResults, ParametersOn, schoolTermTotal } from '../funding/engine';
import { BANDS, DEFAULT_MODEL_PARAMETERS, ModelParameters, sumMoney } from '../funding/model';
import { loadBlockDrivers } from '../funding/block.service';
import { loadPeriodCatalogue, PeriodCatalogue, todayIso } from '../period/period.service';
import type { ModelParametersInput } from './scenario.inputs';
import { Scenario, ScenarioState } from './scenario.entity';
import type { ScenarioComparison, ScenarioResults } from './scenario.types';

interface ParameterVersion {
  version: number;
  effectiveFrom: string;
  parameters: ModelParameters;
}

/** Every version of the parameters of record, oldest first. */
export async function parameterVersions(db: EntityManager): Promise<ParameterVersion[]> {
  const rows: { version: number; effectiveFrom: string; parameters: Partial<ModelParameters> }[] = await db.query(
    `SELECT version, effective_from::text AS "effectiveFrom", parameters FROM model_parameter_set ORDER BY effective_from, version`,
  );
  return rows.map((r) => ({ ...r, parameters: { ...DEFAULT_MODEL_PARAMETERS, ...r.parameters } }));
}

/** The parameters of record in force on any date: the latest version effective by then. */
export function recordOn(versions: ParameterVersion[]): ParametersOn {
  return (date) => {
    let found: ModelParameters = versions[0]?.parameters ?? DEFAULT_MODEL_PARAMETERS;
    for (const v of versions) if (v.effectiveFrom <= date) found = v.parameters;
    return found;
  };
}

/** A scenario applies its changes on top of whatever is of record on each date. */
export function scenarioOn(versions: ParameterVersion[], overrides: Partial<ModelParameters>): ParametersOn {
  const record = recordOn(versions);
  return (date) => ({ ...record(date), ...overrides });
}

/** The model parameters of record in force on a date (the latest version effective by then). */
export async function recordParameters(db: EntityManager, on = todayIso()): Promise<{ version: number; parameters: ModelParameters }> {
  const inForce = (await parameterVersions(db)).filter((v) => v.effectiveFrom <= on).at(-1);
  return inForce ?? { version: 0, parameters: DEFAULT_MODEL_PARAMETERS };
}

const between = (v: string, lo: string, hi: string) => new Decimal(v).gte(lo) && new Decimal(v).lte(hi);

/** Validates changes against the calendar and turns them into a partial ModelParameters. */
export function toOverrides(input: ModelParametersInput, periods: PeriodCatalogue, base: ModelParameters): Partial<ModelParameters> {
  const out: Partial<ModelParameters> = {};
  const arg = (name: string) => `parameters.${name}`;
  if (input.protectionRate != null) {
    if (!between(input.protectionRate, '0', '1')) throw new BadInput(`protectionRate must be from 0 to 1; got ${input.protectionRate}.`, arg('protectionRate'));
    out.protectionRate = input.protectionRate;
  }
  if (input.protectedTerms != null) {
    const unknown = input.protectedTerms.filter((t) => !periods.fundingTermByCode.has(t));
    if (unknown.length) throw new BadInput(`Unknown funding term(s) ${unknown.join(', ')}. Valid terms: ${periods.fundingTerms.map((t) => t.code).join(', ')}.`, arg('protectedTerms'));
    out.protectedTermCodes = [...new Set(input.protectedTerms)];
  }
  if (input.communityPotAnnual != null) {
    const pots = { ...base.communityPotAnnual };
    for (const p of input.communityPotAnnual) {
      if (!periods.financialYearByCode.has(p.financialYear)) throw new BadInput(`Unknown financial year "${p.financialYear}".`, arg('communityPotAnnual'));
      if (new Decimal(p.amount).isNegative()) throw new BadInput('A pot cannot be negative.', arg('communityPotAnnual'));
      pots[p.financialYear] = p.amount;
    }
    out.communityPotAnnual = pots;
  }
  if (input.notionalSenPercentages != null) {
    const pct = { ...base.notionalSenPercentages };
    for (const p of input.notionalSenPercentages) {
      if (!between(p.percentage, '0', '1')) throw new BadInput(`The ${p.factor} percentage must be from 0 to 1; got ${p.percentage}.`, arg('notionalSenPercentages'));
      pct[p.factor] = p.percentage;
    }
    out.notionalSenPercentages = pct;
  }
  if (input.bandValues != null) {
    const values = { ...base.bandValues };
    for (const b of input.bandValues) {
      if (!(BANDS as readonly string[]).includes(b.band)) throw new BadInput(`Unknown band "${b.band}". Bands are ${BANDS.join(', ')}.`, arg('bandValues'));
      if (new Decimal(b.value).isNegative()) throw new BadInput('A band value cannot be negative.', arg('bandValues'));
      values[b.band as (typeof BANDS)[number]] = b.value;
    }
    out.bandValues = values;
  }
  if (input.ehcpGrowth != null) {
    if (!between(input.ehcpGrowth, '-0.5', '1')) throw new BadInput(`ehcpGrowth must be from -0.5 to 1 (e.g. "0.08" for 8%); got ${input.ehcpGrowth}.`, arg('ehcpGrowth'));
    out.ehcpGrowth = input.ehcpGrowth;
  }
  if (input.communityWeights != null) {
    const { pupils, fsmPupils } = input.communityWeights;
    if (!between(pupils, '0', '1') || !between(fsmPupils, '0', '1') || !new Decimal(pupils).plus(fsmPupils).eq(1)) {
      throw new BadInput(`communityWeights must be from 0 to 1 and sum to 1; got ${pupils} + ${fsmPupils}.`, arg('communityWeights'));
    }
    out.communityWeights = { pupils, fsmPupils };
  }
  if (input.bandingStartDate != null) out.bandingStartDate = input.bandingStartDate;
  if (Object.keys(out).length === 0) throw new BadInput('No parameters given: send at least one to change.', 'parameters');
  return out;
}

/** Everything the model needs, read in one round of statements. */
export async function loadFundingInputs(db: EntityManager): Promise<FundingInputs & { communityOf: (urn: number, date: string) => string | null }> {
  const [schools, memberships, terms, funding, factors, bands, communities, block] = await Promise.all([
    db.query(`SELECT urn, pupils_on_roll AS "pupilsOnRoll", percent_fsm AS "percentFsm" FROM school WHERE pupils_on_roll IS NOT NULL AND percent_fsm IS NOT NULL`),
    db.query(`SELECT school_urn AS urn, community_code AS code, effective_from::text AS "from", effective_to::text AS "to" FROM community_membership ORDER BY id`),
    db.query(
      `SELECT code, start_date::text AS "startDate", months, financial_year_code AS "financialYearCode", academic_year_code AS "academicYearCode" FROM funding_term
        WHERE code IN (SELECT DISTINCT term_code FROM school_term_funding) ORDER BY start_date`,
    ),
    db.query(`SELECT school_urn AS urn, term_code AS term, baseline FROM school_term_funding ORDER BY school_urn`),
    db.query(`SELECT school_urn AS urn, financial_year_code AS fy, factor, formula_amount AS amount FROM notional_sen_factor`),
    db.query(`SELECT school_urn AS urn, term_code AS term, band, plans FROM ehcp_band_count`),
    db.query(`SELECT code FROM community ORDER BY code`),
    loadBlockDrivers(db),
  ]);
  const membershipsOn = (date: string) => (memberships as { urn: number; code: string; from: string; to: string | null }[]).filter((m) => m.from <= date && (m.to === null || m.to > date));
  // Both directions per date, built once: results ask for thousands of (school, term) communities.
  const cache = new Map<string, { members: Map<string, number[]>; of: Map<number, string> }>();
  const on = (date: string) => {
    let m = cache.get(date);
    if (!m) {
      m = { members: new Map(), of: new Map() };
      for (const x of membershipsOn(date)) {
        m.members.set(x.code, [...(m.members.get(x.code) ?? []), x.urn]);
        m.of.set(x.urn, x.code);
      }
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

export async function findScenario(db: EntityManager, viewer: Viewer, id: string, lock = false): Promise<Scenario | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [row] = await db.query(`SELECT ${SCENARIO_COLUMNS} FROM scenario WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return row && canSee(viewer, row) ? row : null;
}

export async function listScenarios(db: EntityManager, viewer: Viewer): Promise<Scenario[]> {
  requireModeller(viewer);
  const rows: Scenario[] = await db.query(`SELECT ${SCENARIO_COLUMNS} FROM scenario ORDER BY updated_at DESC`);
  return rows.filter((s) => canSee(viewer, s));
}

export async function createScenario(db: EntityManager, viewer: Viewer, name: string, basedOn: string | null, source: 'ADDIN' | 'API'): Promise<Scenario> {
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
    await writeAudit(tx, { viewer, source }, [{ entity: 'SCENARIO', entityId: row.id, action: 'CREATE', before: null, after: { name: clean, basedOn, overrides } }]);
    return row;
  });
}

async function editable(tx: EntityManager, viewer: Viewer, id: string, baseVersion: number | null | undefined): Promise<Scenario> {
  requireModeller(viewer);
  const s = await findScenario(tx, viewer, id, true);
  if (!s) throw new NotFound(`No scenario "${id}" that you can see.`);
  if (s.owner !== viewer.subject && viewer.role !== Role.FINANCE) throw new Forbidden('Only the scenario\'s owner (or Finance) can change it.');
  if (baseVersion != null && baseVersion !== s.version) {
    throw new Conflict(`The scenario changed since you read it (you have version ${baseVersion}, it is at ${s.version}).`, { reason: 'STALE_VERSION', currentVersion: s.version });
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
    if (s.state === ScenarioState.LOCKED) throw new Conflict('The scenario is locked: copy it (createScenario with basedOn) to change it.', { reason: 'LOCKED' });
    const periods = await loadPeriodCatalogue(tx);
    const record = await recordParameters(tx);
    const current = { ...record.parameters, ...(s.overrides as Partial<ModelParameters>) };
    const overrides = { ...(s.overrides as object), ...toOverrides(input, periods, current) };
    // TypeORM answers UPDATE ... RETURNING with [rows, affected].
    const [[row]] = await tx.query(
      `UPDATE scenario SET overrides = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${SCENARIO_COLUMNS}`,
      [id, JSON.stringify(overrides)],
    );
    await writeAudit(tx, { viewer, source }, [{ entity: 'SCENARIO', entityId: id, action: 'UPDATE', before: s.overrides, after: overrides }]);
    return row;
  });
}

export async function setScenarioState(db: EntityManager, viewer: Viewer, id: string, state: ScenarioState, source: 'ADDIN' | 'API'): Promise<Scenario> {
  return db.transaction(async (tx) => {
    const s = await editable(tx, viewer, id, null);
    if (s.state === ScenarioState.LOCKED && viewer.role !== Role.FINANCE) throw new Forbidden('Only Finance can unlock a locked scenario.');
    const [[row]] = await tx.query(`UPDATE scenario SET state = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${SCENARIO_COLUMNS}`, [id, state]);
    await writeAudit(tx, { viewer, source }, [{ entity: 'SCENARIO', entityId: id, action: 'STATE', before: { state: s.state }, after: { state } }]);
    return row;
  });
}

export interface Computed {
  results: FundingResults;
  ms: number;
}

export function compute(inputs: FundingInputs, params: ModelParameters | ParametersOn): Computed {
  const started = process.hrtime.bigint();
  const results = computeFunding(inputs, params);
  return { results, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) };
}

const MODEL_LINES = new Set(['COMMUNITY_POTS', 'INDIVIDUAL_PROTECTION', 'NOTIONAL_SEN', 'BANDED_TOP_UP']);

type StoredLine = { fy: string; code: string; name: string; budget: string; memo: boolean };

function readBlockLines(db: EntityManager): Promise<StoredLine[]> {
  return db.query(`SELECT financial_year_code AS fy, line_code AS code, name, budget, memo FROM high_needs_block_line ORDER BY financial_year_code, sort_order`);
}

/** The block lines with the model's lines replaced by a computation's figures. */
export async function blockLinesOf(db: EntityManager, r: FundingResults, stored?: StoredLine[]) {
  const lines = stored ?? (await readBlockLines(db));
  return lines.map((l) => {
    const modelled = MODEL_LINES.has(l.code) && r.blockLines.has(l.fy);
    const value = modelled ? r.blockLines.get(l.fy)![l.code as 'COMMUNITY_POTS'] : l.budget;
    return { financialYear: l.fy, lineCode: l.code, name: l.name, budget: value ?? l.budget, modelled, memo: l.memo };
  });
}

export async function resultsView(
  db: EntityManager,
  inputs: Awaited<ReturnType<typeof loadFundingInputs>>,
  c: Computed,
  filter: { term?: string | null; communityCode?: string | null },
): Promise<ScenarioResults> {
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
    .filter((p) => (!filter.term || p.termCode === filter.term) && (!filter.communityCode || p.communityCode === filter.communityCode))
    .map((p) => ({ communityCode: p.communityCode, term: p.termCode, pot: p.amount, allocated: p.amount }));
  return {
    schools,
    communities,
    blockLines: await blockLinesOf(db, c.results),
    totals: {
      protectedAmount: sumMoney(schools.map((s) => s.protectedAmount)),
      communityShare: sumMoney(schools.map((s) => s.communityShare)),
      bandedTopUp: sumMoney(schools.map((s) => s.bandedTopUp)),
      total: sumMoney(schools.map((s) => s.total)),
    },
    computeMs: c.ms,
  };
}

export async function comparisonView(
  db: EntityManager,
  against: string,
  base: Computed,
  mine: Computed,
  filter: { term?: string | null; includeUnchanged?: boolean },
): Promise<ScenarioComparison> {
  const diff = (a: string, b: string) => new Decimal(b).minus(a).toFixed(2);
  const baseSchool = new Map(base.results.schoolTerms.map((s) => [`${s.schoolUrn}|${s.termCode}`, schoolTermTotal(s)]));
  const schools = mine.results.schoolTerms
    .filter((s) => !filter.term || s.termCode === filter.term)
    .map((s) => {
      const b = baseSchool.get(`${s.schoolUrn}|${s.termCode}`) ?? '0.00';
      const m = schoolTermTotal(s);
      return { schoolUrn: s.schoolUrn, term: s.termCode, baseline: b, scenario: m, difference: diff(b, m) };
    });
  const basePot = new Map(base.results.pots.map((p) => [`${p.communityCode}|${p.termCode}`, p.amount]));
  const communities = mine.results.pots
    .filter((p) => !filter.term || p.termCode === filter.term)
    .map((p) => {
      const b = basePot.get(`${p.communityCode}|${p.termCode}`) ?? '0.00';
      return { key: p.communityCode, period: p.termCode, baseline: b, scenario: p.amount, difference: diff(b, p.amount) };
    });
  const stored = await readBlockLines(db);
  const [bl, ml] = await Promise.all([blockLinesOf(db, base.results, stored), blockLinesOf(db, mine.results, stored)]);
  const blockLines = ml.map((l, i) => ({ key: l.lineCode, period: l.financialYear, baseline: bl[i].budget, scenario: l.budget, difference: diff(bl[i].budget, l.budget) }));
  const bt = sumMoney(schools.map((s) => s.baseline));
  const mt = sumMoney(schools.map((s) => s.scenario));
  const keep = <T extends { difference: string }>(xs: T[]) => (filter.includeUnchanged ? xs : xs.filter((x) => x.difference !== '0.00'));
  return {
    against,
    schools: keep(schools),
    communities: keep(communities),
    blockLines: keep(blockLines),
    total: { key: 'TOTAL', period: filter.term ?? 'ALL', baseline: bt, scenario: mt, difference: diff(bt, mt) },
  };
}
