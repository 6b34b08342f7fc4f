import type { EntityManager } from 'typeorm';
import { BadInput } from '../../errors';
import type { AcademicYear, FinancialYear, FundingTerm, SchoolTerm } from './period.entity';

export interface PeriodCatalogue {
  financialYears: FinancialYear[];
  academicYears: AcademicYear[];
  fundingTerms: FundingTerm[];
  schoolTerms: SchoolTerm[];
  fundingTermByCode: Map<string, FundingTerm>;
  financialYearByCode: Map<string, FinancialYear>;
  schoolTermByCode: Map<string, SchoolTerm>;
}

/** All periods in one statement: they are few, and every money query validates against them. */
export async function loadPeriodCatalogue(db: EntityManager): Promise<PeriodCatalogue> {
  const rows: { kind: string; data: Record<string, unknown> }[] = await db.query(`
    SELECT 'FY' AS kind, json_build_object('code', code, 'startDate', start_date, 'endDate', end_date) AS data FROM financial_year
    UNION ALL
    SELECT 'AY', json_build_object('code', code, 'startDate', start_date, 'endDate', end_date) FROM academic_year
    UNION ALL
    SELECT 'FT', json_build_object('code', code, 'name', name, 'season', season, 'startDate', start_date, 'endDate', end_date,
      'financialYearCode', financial_year_code, 'academicYearCode', academic_year_code, 'months', months, 'closed', closed) FROM funding_term
    UNION ALL
    SELECT 'ST', json_build_object('code', code, 'academicYearCode', academic_year_code, 'number', number, 'startDate', start_date,
      'endDate', end_date, 'fundingTermCode', funding_term_code) FROM school_term`);
  const pick = <T>(kind: string) =>
    rows
      .filter((r) => r.kind === kind)
      .map((r) => r.data as unknown as T & { startDate: string })
      .sort((a, b) => a.startDate.localeCompare(b.startDate));
  const financialYears = pick<FinancialYear>('FY');
  const academicYears = pick<AcademicYear>('AY');
  const fundingTerms = pick<FundingTerm>('FT');
  const schoolTerms = pick<SchoolTerm>('ST');
  return {
    financialYears,
    academicYears,
    fundingTerms,
    schoolTerms,
    fundingTermByCode: new Map(fundingTerms.map((t) => [t.code, t])),
    financialYearByCode: new Map(financialYears.map((t) => [t.code, t])),
    schoolTermByCode: new Map(schoolTerms.map((t) => [t.code, t])),
  };
}

function listOf(codes: string[]): string {
  return codes.length > 12 ? codes.slice(0, 12).join(', ') + `, … (${codes.length} in all)` : codes.join(', ');
}

export function requireFundingTerm(cat: PeriodCatalogue, code: string, argument = 'term'): FundingTerm {
  const t = cat.fundingTermByCode.get(code);
  if (!t) {
    throw new BadInput(
      `Unknown funding term "${code}". Valid terms: ${listOf(cat.fundingTerms.map((x) => x.code))}.`,
      argument,
      {
        validValues: cat.fundingTerms.map((x) => x.code),
      },
    );
  }
  return t;
}

export function requireFinancialYear(cat: PeriodCatalogue, code: string, argument = 'financialYear'): FinancialYear {
  const t = cat.financialYearByCode.get(code);
  if (!t) {
    throw new BadInput(
      `Unknown financial year "${code}". Valid years: ${listOf(cat.financialYears.map((x) => x.code))}.`,
      argument,
      {
        validValues: cat.financialYears.map((x) => x.code),
      },
    );
  }
  return t;
}

export function requireSchoolTerm(cat: PeriodCatalogue, code: string, argument = 'period'): SchoolTerm {
  const t = cat.schoolTermByCode.get(code);
  if (!t) {
    throw new BadInput(
      `Unknown school term "${code}". Valid periods: ${listOf(cat.schoolTerms.map((x) => x.code))}.`,
      argument,
      {
        validValues: cat.schoolTerms.map((x) => x.code),
      },
    );
  }
  return t;
}

// Building an Intl formatter is costly; one serves every call.
const UK_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' });

/** Today's date in UK terms, as the default "as of" for memberships. */
export function todayIso(): string {
  return UK_DATE.format(new Date());
}
