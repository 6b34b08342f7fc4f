import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { BadInput } from '../../errors';
import { fromPotTrigger, lockPotsOfTerms, overPotConflict, overspentPots, potKey } from '../allocation/pot-lock';
import { writeAudit } from '../audit/audit.service';
import { computeFunding } from '../funding/engine';
import { largestRemainderSplit, type ModelParameters } from '../funding/model';
import { loadPeriodCatalogue } from '../period/period.service';
import { writeComputedBlockLines } from '../funding/block.service';
import { BLOCK_LINES, storedModelLinesSql } from '../funding/block';
import { loadFundingInputs } from '../funding/funding-inputs';
import { parameterVersions, recordOn, versionOn } from '../funding/parameters-of-record';
import { toOverrides } from './scenario.overrides';
import type { ModelParametersInput } from './scenario.inputs';
import { takePending } from '../school/pending';
import { authorize, OPERATIONS } from '../../auth/policy';

/** A figure of record that a recompute left alone because it was imported or entered by hand. */
export interface KeptFigure {
  /** POT, NOTIONAL_SEN_LINE or BLOCK_LINE. */
  figure: string;
  /** e.g. "ASH-01|AUTUMN-2026", "118001|2026-27|FSM_EVER6", "2026-27|COMMUNITY_POTS". */
  key: string;
  kind: string;
  file: string | null;
}

export interface Recomputed {
  termsRecomputed: string[];
  financialYearsRecomputed: string[];
  schoolTermRowsChanged: number;
  potsChanged: number;
  /** Imported or hand-entered figures left as they are (replaceImported false). */
  importedKept: KeptFigure[];
  /** Imported or hand-entered figures replaced by computed ones (replaceImported true). */
  importedReplaced: KeptFigure[];
  /** Closures left pending (table pending_recompute) that this recompute covered, now settled. */
  pendingSettled: { urn: number; closeDate: string; communities: string[]; terms: string[] }[];
}

export interface ParameterChange extends Recomputed {
  version: number;
}

/**
 * Recomputes the figures of record for funding terms starting on or after `from` (open terms only) and
 * notional SEN for financial years starting then or later, with the parameters of record of each term.
 * Only COMPUTED figures change: an IMPORTED or MANUAL pot, notional SEN line or block line keeps its value
 * (and is reported) unless `replaceImported`, and an imported pot's schools' shares are split from the
 * imported amount, with the model's weights. Pots are locked first (pot-lock.ts) and a pot may not fall below
 * what is approved from it. Callers hold the transaction and audit.
 */
export async function recomputeRecord(
  tx: EntityManager,
  opts: { from: string; replaceImported?: boolean; what: string },
): Promise<Recomputed> {
  const periods = await loadPeriodCatalogue(tx);
  const versions = await parameterVersions(tx);
  const versionNumberOn = (date: string) => versionOn(versions, date)?.version ?? null;
  const inForce = versionNumberOn(opts.from);
  const inputs = await loadFundingInputs(tx);
  const model = computeFunding(inputs, recordOn(versions));
  const terms = inputs.terms.filter((t) => t.startDate >= opts.from && !periods.fundingTermByCode.get(t.code)?.closed);
  const termCodes = terms.map((t) => t.code);
  const termSet = new Set(termCodes);
  const years = inputs.financialYears.filter((fy) => `${fy.slice(0, 4)}-04-01` >= opts.from);
  const replace = Boolean(opts.replaceImported);
  const kept: KeptFigure[] = [];
  const replaced: KeptFigure[] = [];

  // Pots first, locked in the one order, so what is approved from them cannot grow before commit.
  await lockPotsOfTerms(tx, termCodes);
  const stored: { c: string; t: string; amount: string; kind: string; file: string | null }[] = await tx.query(
    `SELECT community_code AS c, term_code AS t, amount, source_kind AS kind, source_file AS file FROM community_pot WHERE term_code = ANY($1::text[])`,
    [termCodes],
  );
  const storedPot = new Map(stored.map((p) => [potKey(p.c, p.t), p]));
  const pots = model.pots
    .filter((p) => termSet.has(p.termCode))
    .map((p) => {
      const s = storedPot.get(potKey(p.communityCode, p.termCode));
      if (s && s.kind !== 'COMPUTED') {
        const f = { figure: 'POT', key: potKey(p.communityCode, p.termCode), kind: s.kind, file: s.file };
        if (!replace) {
          kept.push(f);
          return { ...p, amount: new Decimal(s.amount).toFixed(2), keep: true };
        }
        replaced.push(f);
      }
      return { ...p, keep: false };
    });
  const overspent = await overspentPots(
    tx,
    pots.map((p) => ({ communityCode: p.communityCode, term: p.termCode, amount: p.amount })),
  );
  if (overspent.length) throw overPotConflict(opts.what, overspent);

  // A kept pot's shares follow the kept amount, split among its members with the model's weights.
  const shareOverride = new Map<string, string>();
  const schoolBy = new Map(inputs.schools.map((s) => [s.urn, s]));
  for (const p of pots.filter((x) => x.keep)) {
    const t = terms.find((x) => x.code === p.termCode)!;
    const urns = inputs.membersOn(t.startDate).get(p.communityCode) ?? [];
    for (const [urn, share] of largestRemainderSplit(
      p.amount,
      urns.map((u) => ({ key: u, weight: schoolBy.get(u)!.pupilsOnRoll })),
    ))
      shareOverride.set(`${urn}|${p.termCode}`, share);
  }
  const rows = model.schoolTerms
    .filter((r) => termSet.has(r.termCode))
    .map((r) => ({ ...r, communityShare: shareOverride.get(`${r.schoolUrn}|${r.termCode}`) ?? r.communityShare }));
  const termVersion = rows.map((r) => versionNumberOn(terms.find((t) => t.code === r.termCode)!.startDate));
  const [, changed] = await tx.query(
    `UPDATE school_term_funding f SET protection_rate = x.rate, protected_amount = x.protected, community_share = x.share, banded_top_up = x.banded,
            source_parameter_version = x.version
       FROM unnest($1::int[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::int[]) AS x(urn, term, rate, protected, share, banded, version)
      WHERE f.school_urn = x.urn AND f.term_code = x.term
        AND (f.protection_rate, f.protected_amount, f.community_share, f.banded_top_up, f.source_parameter_version) IS DISTINCT FROM (x.rate, x.protected, x.share, x.banded, x.version)`,
    [
      rows.map((r) => r.schoolUrn),
      rows.map((r) => r.termCode),
      rows.map((r) => r.protectionRate),
      rows.map((r) => r.protectedAmount),
      rows.map((r) => r.communityShare),
      rows.map((r) => r.bandedTopUp),
      termVersion,
    ],
  );
  const written = pots.filter((p) => !p.keep);
  const [, potsChanged] = await tx.query(
    `UPDATE community_pot p SET amount = x.amount, source_kind = 'COMPUTED', source_file = NULL, source_by = NULL, source_at = NULL, source_parameter_version = x.version
       FROM unnest($1::text[], $2::text[], $3::numeric[], $4::int[]) AS x(code, term, amount, version)
      WHERE p.community_code = x.code AND p.term_code = x.term
        AND (p.amount <> x.amount OR p.source_kind <> 'COMPUTED' OR p.source_parameter_version IS DISTINCT FROM x.version)`,
    [
      written.map((p) => p.communityCode),
      written.map((p) => p.termCode),
      written.map((p) => p.amount),
      written.map((p) => versionNumberOn(terms.find((t) => t.code === p.termCode)!.startDate)),
    ],
  );

  const lines = model.notionalSen
    .filter((n) => years.includes(n.financialYearCode))
    .flatMap((n) => n.lines.map((l) => ({ ...l, urn: n.schoolUrn, fy: n.financialYearCode })));
  const importedLines: { urn: number; fy: string; factor: string; kind: string; file: string | null }[] =
    await tx.query(
      `SELECT school_urn AS urn, financial_year_code AS fy, factor, source_kind AS kind, source_file AS file FROM notional_sen_factor
      WHERE financial_year_code = ANY($1::text[]) AND source_kind <> 'COMPUTED' ORDER BY 1, 2, 3`,
      [years],
    );
  for (const l of importedLines)
    (replace ? replaced : kept).push({
      figure: 'NOTIONAL_SEN_LINE',
      key: `${l.urn}|${l.fy}|${l.factor}`,
      kind: l.kind,
      file: l.file,
    });
  await tx.query(
    `UPDATE notional_sen_factor f SET sen_percentage = x.pct, sen_amount = x.amount, source_kind = 'COMPUTED', source_file = NULL, source_by = NULL, source_at = NULL,
            source_parameter_version = x.version
       FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::int[]) AS x(urn, fy, factor, pct, amount, version)
      WHERE f.school_urn = x.urn AND f.financial_year_code = x.fy AND f.factor = x.factor AND ($7 OR f.source_kind = 'COMPUTED')`,
    [
      lines.map((l) => l.urn),
      lines.map((l) => l.fy),
      lines.map((l) => l.factor),
      lines.map((l) => l.senPercentage),
      lines.map((l) => l.senAmount),
      lines.map((l) => versionNumberOn(`${l.fy.slice(0, 4)}-04-01`)),
      replace,
    ],
  );
  // Every line the model computes (the one list in funding/block.ts), where its figure is COMPUTED or replacement
  // was asked for; imported or hand-entered lines are reported, never silently overwritten.
  const affectedYears = [...new Set([...years, ...terms.map((t) => t.financialYearCode)])];
  const computedCodes = BLOCK_LINES.filter((l) => l.method !== 'GIVEN').map((l) => l.code);
  const importedBlock: { fy: string; code: string; kind: string; file: string | null }[] = await tx.query(
    `SELECT financial_year_code AS fy, line_code AS code, source_kind AS kind, source_file AS file FROM high_needs_block_line
      WHERE financial_year_code = ANY($1::text[]) AND line_code = ANY($2::text[]) AND source_kind <> 'COMPUTED' ORDER BY 1, 2`,
    [affectedYears, computedCodes],
  );
  for (const l of importedBlock)
    (replace ? replaced : kept).push({ figure: 'BLOCK_LINE', key: `${l.fy}|${l.code}`, kind: l.kind, file: l.file });
  await writeComputedBlockLines(tx, model, affectedYears, { replaceImported: replace, parameterVersion: inForce });
  // The model's lines are what the stored figures of their year add up to (an imported pot included).
  await tx.query(
    `UPDATE high_needs_block_line l SET budget = s.total, forecast = s.total
       FROM (${storedModelLinesSql()}) s
      WHERE l.financial_year_code = s.fy AND l.line_code = s.code AND l.financial_year_code = ANY($1::text[]) AND ($2 OR l.source_kind = 'COMPUTED')`,
    [affectedYears, replace],
  );
  // Closures left pending from this date on are now reflected in the figures (the pots are locked above).
  const pendingSettled = await takePending(tx, opts.from);
  return {
    termsRecomputed: termCodes,
    financialYearsRecomputed: years,
    schoolTermRowsChanged: changed,
    potsChanged,
    importedKept: kept,
    importedReplaced: replaced,
    pendingSettled,
  };
}

/**
 * Records a new version of the parameters of record, effective from the first day of a funding term, and
 * recomputes the figures of record from that term on (recomputeRecord), all in one audited transaction.
 * Earlier terms keep the figures their own parameters gave; imported figures are kept unless replaceImported.
 */
export async function setModelParameters(
  db: EntityManager,
  viewer: Viewer,
  input: {
    effectiveFrom: string;
    note?: string | null;
    parameters: ModelParametersInput;
    replaceImported?: boolean | null;
  },
  source: 'ADDIN' | 'API',
): Promise<ParameterChange> {
  // The policy table's rule, also for a caller that does not come through GraphQL.
  authorize(viewer, OPERATIONS['Mutation.setModelParameters'], 'change the model parameters of record');
  return db
    .transaction(async (tx) => {
      // One change of record at a time, from any hub process.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('model-parameters-of-record'))`);
      const periods = await loadPeriodCatalogue(tx);
      const term = periods.fundingTerms.find((t) => t.startDate === input.effectiveFrom);
      if (!term) {
        const open = periods.fundingTerms.filter((t) => !t.closed).map((t) => `${t.startDate} (${t.name})`);
        throw new BadInput(
          `effectiveFrom must be the first day of an open funding term: ${open.join(', ')}.`,
          'effectiveFrom',
        );
      }
      if (term.closed)
        throw new BadInput(`${term.name} is closed: its figures of record can no longer change.`, 'effectiveFrom');

      const versions = await parameterVersions(tx);
      const before = recordOn(versions)(input.effectiveFrom);
      const overrides = toOverrides(input.parameters, periods, before);
      const after: ModelParameters = { ...before, ...overrides };
      const [{ version }] = await tx.query(
        `INSERT INTO model_parameter_set (effective_from, author, note, parameters) VALUES ($1, $2, $3, $4) RETURNING version`,
        [input.effectiveFrom, viewer.name, input.note ?? null, JSON.stringify(after)],
      );
      const recomputed = await recomputeRecord(tx, {
        from: input.effectiveFrom,
        replaceImported: input.replaceImported ?? false,
        what: 'These parameters',
      });
      const result = { version, ...recomputed };
      await writeAudit(tx, { viewer, source, reason: input.note ?? null }, [
        {
          entity: 'MODEL_PARAMETERS',
          entityId: String(version),
          action: 'CREATE',
          before: { effectiveFrom: input.effectiveFrom, parameters: before },
          after: {
            effectiveFrom: input.effectiveFrom,
            parameters: after,
            replaceImported: Boolean(input.replaceImported),
            ...result,
          },
        },
      ]);
      return result;
    })
    .catch((err) => {
      throw fromPotTrigger(err, 'These parameters') ?? err;
    });
}

/**
 * After pots are set by hand or by import: each school's share of those pots is split again from the new amount,
 * among the members on the term's first day, with the model's weights (pupils on roll), to the penny.
 */
export async function followPotShares(
  tx: EntityManager,
  pots: { communityCode: string; term: string; amount: string }[],
): Promise<number> {
  if (pots.length === 0) return 0;
  const inputs = await loadFundingInputs(tx);
  const schoolBy = new Map(inputs.schools.map((s) => [s.urn, s]));
  const starts: { code: string; start: string }[] = await tx.query(
    `SELECT code, start_date::text AS start FROM funding_term WHERE code = ANY($1::text[])`,
    [[...new Set(pots.map((p) => p.term))]],
  );
  const startOf = new Map(starts.map((s) => [s.code, s.start]));
  const urns: number[] = [];
  const terms: string[] = [];
  const shares: string[] = [];
  for (const p of pots) {
    const members = (inputs.membersOn(startOf.get(p.term)!).get(p.communityCode) ?? []).filter((u) => schoolBy.has(u));
    for (const [urn, share] of largestRemainderSplit(
      p.amount,
      members.map((u) => ({ key: u, weight: schoolBy.get(u)!.pupilsOnRoll })),
    )) {
      urns.push(urn);
      terms.push(p.term);
      shares.push(share);
    }
  }
  const [, changed] = await tx.query(
    `UPDATE school_term_funding f SET community_share = x.share FROM unnest($1::int[], $2::text[], $3::numeric[]) AS x(urn, term, share)
      WHERE f.school_urn = x.urn AND f.term_code = x.term AND f.community_share <> x.share`,
    [urns, terms, shares],
  );
  return changed;
}
