
import type { EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { BadInput, Forbidden } from '../../errors';
import { fromPotTrigger, lockPotsOfTerms, overPotConflict, overspentPots } from '../allocation/pot-lock';
import { writeAudit } from '../audit/audit.service';
import { computeFunding } from '../funding/engine';
import type { ModelParameters } from '../funding/model';
import { loadPeriodCatalogue } from '../period/period.service';
import { loadFundingInputs, parameterVersions, recordOn, toOverrides } from './scenario.service';
import type { ModelParametersInput } from './scenario.inputs';

export interface ParameterChange {
  version: number;
  termsRecomputed: string[];
  financialYearsRecomputed: string[];
  schoolTermRowsChanged: number;
  potsChanged: number;
}

/**
 * Records a new version of the parameters of record, effective from the first day of a funding term, and
 * recomputes the figures of record from that term on (school funding, pots, notional SEN for financial years
 * starting then or later, and the block lines the model computes), all in one audited transaction.
 * Earlier terms keep the figures their own parameters gave.
 */
export async function setModelParameters(
  db: EntityManager,
  viewer: Viewer,
  input: { effectiveFrom: string; note?: string | null; parameters: ModelParametersInput },
  source: 'ADDIN' | 'API',
): Promise<ParameterChange> {
  if (viewer.role !== Role.FINANCE) throw new Forbidden('Only Finance may change the model parameters of record.');
  return db.transaction(async (tx) => {
    // One change of record at a time, from any hub process.
    await tx.query(`SELECT pg_advisory_xact_lock(886001)`);
    const periods = await loadPeriodCatalogue(tx);
    const term = periods.fundingTerms.find((t) => t.startDate === input.effectiveFrom);
    if (!term) {
      const open = periods.fundingTerms.filter((t) => !t.closed).map((t) => `${t.startDate} (${t.name})`);
      throw new BadInput(`effectiveFrom must be the first day of an open funding term: ${open.join(', ')}.`, 'effectiveFrom');
    }
    if (term.closed) throw new BadInput(`${term.name} is closed: its figures of record can no longer change.`, 'effectiveFrom');

    const versions = await parameterVersions(tx);
    const before = recordOn(versions)(input.effectiveFrom);
    const overrides = toOverrides(input.parameters, periods, before);
    const after: ModelParameters = { ...before, ...overrides };
    const [{ version }] = await tx.query(
      `INSERT INTO model_parameter_set (effective_from, author, note, parameters) VALUES ($1, $2, $3, $4) RETURNING version`,
      [input.effectiveFrom, viewer.name, input.note ?? null, JSON.stringify(after)],
    );

    const inputs = await loadFundingInputs(tx);
    const model = computeFunding(inputs, recordOn(await parameterVersions(tx)));
    const terms = inputs.terms.filter((t) => t.startDate >= input.effectiveFrom).map((t) => t.code);
    const years = inputs.financialYears.filter((fy) => `${fy.slice(0, 4)}-04-01` >= input.effectiveFrom);
    const termSet = new Set(terms);

    const pots = model.pots.filter((p) => termSet.has(p.termCode));
    // Lock the pots first (the one order every writer uses), so what is approved cannot grow before commit.
    await lockPotsOfTerms(tx, terms);
    const overspent = await overspentPots(tx, pots.map((p) => ({ communityCode: p.communityCode, term: p.termCode, amount: p.amount })));
    if (overspent.length) throw overPotConflict('These parameters', overspent);
    const rows = model.schoolTerms.filter((r) => termSet.has(r.termCode));
    const [, changed] = await tx.query(
      `UPDATE school_term_funding f SET protection_rate = x.rate, protected_amount = x.protected, community_share = x.share, banded_top_up = x.banded
         FROM unnest($1::int[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[]) AS x(urn, term, rate, protected, share, banded)
        WHERE f.school_urn = x.urn AND f.term_code = x.term
          AND (f.protection_rate, f.protected_amount, f.community_share, f.banded_top_up) IS DISTINCT FROM (x.rate, x.protected, x.share, x.banded)`,
      [rows.map((r) => r.schoolUrn), rows.map((r) => r.termCode), rows.map((r) => r.protectionRate), rows.map((r) => r.protectedAmount), rows.map((r) => r.communityShare), rows.map((r) => r.bandedTopUp)],
    );
    const [, potsChanged] = await tx.query(
      `UPDATE community_pot p SET amount = x.amount FROM unnest($1::text[], $2::text[], $3::numeric[]) AS x(code, term, amount)
        WHERE p.community_code = x.code AND p.term_code = x.term AND p.amount <> x.amount`,
      [pots.map((p) => p.communityCode), pots.map((p) => p.termCode), pots.map((p) => p.amount)],
    );
    const lines = model.notionalSen.filter((n) => years.includes(n.financialYearCode)).flatMap((n) => n.lines.map((l) => ({ ...l, urn: n.schoolUrn, fy: n.financialYearCode })));
    await tx.query(
      `UPDATE notional_sen_factor f SET sen_percentage = x.pct, sen_amount = x.amount
         FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::numeric[]) AS x(urn, fy, factor, pct, amount)
        WHERE f.school_urn = x.urn AND f.financial_year_code = x.fy AND f.factor = x.factor`,
      [lines.map((l) => l.urn), lines.map((l) => l.fy), lines.map((l) => l.factor), lines.map((l) => l.senPercentage), lines.map((l) => l.senAmount)],
    );
    // Block lines the model computes are sums of the stored figures of their year.
    const affectedYears = [...new Set([...years, ...inputs.terms.filter((t) => termSet.has(t.code)).map((t) => t.financialYearCode)])];
    await tx.query(
      `UPDATE high_needs_block_line l SET budget = s.total
         FROM (
           SELECT t.financial_year_code AS fy, 'COMMUNITY_POTS' AS code, sum(p.amount) AS total FROM community_pot p JOIN funding_term t ON t.code = p.term_code GROUP BY 1
           UNION ALL
           SELECT t.financial_year_code, 'INDIVIDUAL_PROTECTION', sum(f.protected_amount) FROM school_term_funding f JOIN funding_term t ON t.code = f.term_code GROUP BY 1
           UNION ALL
           SELECT financial_year_code, 'NOTIONAL_SEN', sum(sen_amount) FROM notional_sen_factor GROUP BY 1
         ) s
        WHERE l.financial_year_code = s.fy AND l.line_code = s.code AND l.financial_year_code = ANY($1::text[])`,
      [affectedYears],
    );
    const result = { version, termsRecomputed: terms, financialYearsRecomputed: years, schoolTermRowsChanged: changed, potsChanged };
    await writeAudit(tx, { viewer, source, reason: input.note ?? null }, [
      { entity: 'MODEL_PARAMETERS', entityId: String(version), action: 'CREATE', before: { effectiveFrom: input.effectiveFrom, parameters: before }, after: { effectiveFrom: input.effectiveFrom, parameters: after, ...result } },
    ]);
    return result;
  }).catch((err) => {
    throw fromPotTrigger(err, 'These parameters') ?? err;
  });
}

