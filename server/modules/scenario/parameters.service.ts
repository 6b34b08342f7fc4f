
import type { EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { BadInput, Conflict, Forbidden } from '../../errors';
import { writeAudit } from '../audit/audit.service';
import { computeFunding } from '../funding/engine';
import type { ModelParameters } from '../funding/model';
import { loadPeriodCatalogue } from '../period/period.service';
import { writeComputedBlockLines } from '../funding/block.service';
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
    const overspent: { community_code: string; term_code: string; approved: string }[] = await tx.query(
      `SELECT x.code AS community_code, x.term AS term_code, sum(a.amount)::text AS approved
         FROM unnest($1::text[], $2::text[], $3::numeric[]) AS x(code, term, pot)
         JOIN allocation a ON a.community_code = x.code AND a.term_code = x.term AND a.status = 'APPROVED'
        GROUP BY x.code, x.term, x.pot HAVING sum(a.amount) > x.pot`,
      [pots.map((p) => p.communityCode), pots.map((p) => p.termCode), pots.map((p) => p.amount)],
    );
    if (overspent.length) {
      throw new Conflict(
        `These parameters would set pots below what is already approved: ${overspent
          .slice(0, 5)
          .map((o) => `${o.community_code} ${o.term_code} (approved ${o.approved})`)
          .join(', ')}${overspent.length > 5 ? ` and ${overspent.length - 5} more` : ''}. Withdraw or reduce those allocations first.`,
        { reason: 'OVER_POT' },
      );
    }
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
    const affectedYears = [...new Set([...years, ...inputs.terms.filter((t) => termSet.has(t.code)).map((t) => t.financialYearCode)])];
    await writeComputedBlockLines(tx, model, affectedYears);
    const result = { version, termsRecomputed: terms, financialYearsRecomputed: years, schoolTermRowsChanged: changed, potsChanged };
    await writeAudit(tx, { viewer, source, reason: input.note ?? null }, [
      { entity: 'MODEL_PARAMETERS', entityId: String(version), action: 'CREATE', before: { effectiveFrom: input.effectiveFrom, parameters: before }, after: { effectiveFrom: input.effectiveFrom, parameters: after, ...result } },
    ]);
    return result;
  });
}

