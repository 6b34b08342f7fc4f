import type { DataSource, EntityManager } from 'typeorm';
import { BadInput } from '../../errors';
import type { Viewer } from '../../auth/roles';
import { writeAudit, type AuditEntry } from '../audit/audit.service';
import { assertImportAllowed } from '../instance/instance';
import { Season } from './period.entity';

/**
 * The hub's own periods for a range of financial years: each financial year (April to March), the academic years
 * it touches (September to August) and its three funding terms with the hub's month weights: Summer (April to
 * August, 5/12, in the academic year that ends then), Autumn (September to December, 4/12) and Spring (January to
 * March, 3/12). The LA's six school terms a year come from the school-terms import.
 */
export interface GeneratedPeriods {
  financialYears: { code: string; startDate: string; endDate: string }[];
  academicYears: { code: string; startDate: string; endDate: string }[];
  fundingTerms: {
    code: string;
    name: string;
    season: Season;
    startDate: string;
    endDate: string;
    financialYearCode: string;
    academicYearCode: string;
    months: number;
  }[];
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
const two = (n: number) => String(n % 100).padStart(2, '0');
const fyCode = (y: number) => `${y}-${two(y + 1)}`;
const ayCode = (y: number) => `${y}/${two(y + 1)}`;

function yearOf(code: string, argument: string): number {
  const m = /^(\d{4})-(\d{2})$/.exec(code);
  if (!m || two(Number(m[1]) + 1) !== m[2] || Number(m[1]) < 2000 || Number(m[1]) > 2098)
    throw new BadInput(`"${code}" is not a financial year: write it as 2025-26 (April 2025 to March 2026).`, argument);
  return Number(m[1]);
}

export function periodsFor(first: string, last: string): GeneratedPeriods {
  const a = yearOf(first, 'first');
  const b = yearOf(last, 'last');
  if (b < a) throw new BadInput(`The last financial year (${last}) is before the first (${first}).`, 'last');
  if (b - a >= 20)
    throw new BadInput(`Generate at most 20 financial years at once; ${first} to ${last} is ${b - a + 1}.`, 'last');
  const out: GeneratedPeriods = { financialYears: [], academicYears: [], fundingTerms: [] };
  for (let y = a - 1; y <= b; y++)
    out.academicYears.push({ code: ayCode(y), startDate: `${y}-09-01`, endDate: `${y + 1}-08-31` });
  for (let y = a; y <= b; y++) {
    out.financialYears.push({ code: fyCode(y), startDate: `${y}-04-01`, endDate: `${y + 1}-03-31` });
    const terms: [Season, number, string, string, string, number][] = [
      [Season.SUMMER, y, `${y}-04-01`, `${y}-08-31`, ayCode(y - 1), 5],
      [Season.AUTUMN, y, `${y}-09-01`, `${y}-12-31`, ayCode(y), 4],
      [Season.SPRING, y + 1, `${y + 1}-01-01`, `${y + 1}-03-31`, ayCode(y), 3],
    ];
    for (const [season, cal, startDate, endDate, academicYearCode, months] of terms)
      out.fundingTerms.push({
        code: `${season}-${cal}`,
        name: `${season.charAt(0)}${season.slice(1).toLowerCase()} ${cal}`,
        season,
        startDate,
        endDate,
        financialYearCode: fyCode(y),
        academicYearCode,
        months,
      });
  }
  return out;
}

export interface PeriodsReport {
  created: { financialYears: number; academicYears: number; fundingTerms: number };
  unchanged: number;
  message: string;
}

/** Writes the generated periods that are missing, in one transaction, audited; a stored period that differs is refused. */
export async function generatePeriods(
  ds: DataSource | EntityManager,
  first: string,
  last: string,
  opts: { viewer: Viewer; source: 'ADDIN' | 'API' | 'IMPORT' },
): Promise<PeriodsReport> {
  const gen = periodsFor(first, last);
  await assertImportAllowed(ds);
  return ds.transaction(async (tx) => {
    await tx.query(`LOCK TABLE financial_year, academic_year, funding_term IN SHARE ROW EXCLUSIVE MODE`);
    const audit: AuditEntry[] = [];
    const created = { financialYears: 0, academicYears: 0, fundingTerms: 0 };
    let unchanged = 0;
    const conflicts: string[] = [];
    const sets: [keyof typeof created, string, Record<string, unknown>[], [string, string, string][]][] = [
      ['academicYears', 'academic_year', gen.academicYears, []],
      ['financialYears', 'financial_year', gen.financialYears, []],
      [
        'fundingTerms',
        'funding_term',
        gen.fundingTerms,
        [
          ['name', 'name', 'text'],
          ['season', 'season', 'text'],
          ['financial_year_code', 'financialYearCode', 'text'],
          ['academic_year_code', 'academicYearCode', 'text'],
          ['months', 'months', 'int'],
        ],
      ],
    ];
    for (const [what, table, rows, more] of sets) {
      const cols: [string, string, string][] = [
        ['code', 'code', 'text'],
        ['start_date', 'startDate', 'date'],
        ['end_date', 'endDate', 'date'],
        ...more,
      ];
      const stored: Record<string, unknown>[] = await tx.query(
        `SELECT ${cols.map(([c, p]) => `${c}::text AS "${p}"`).join(', ')} FROM ${table} WHERE code = ANY($1::text[])`,
        [rows.map((r) => r.code)],
      );
      const byCode = new Map(stored.map((s) => [s.code as string, s]));
      const missing = rows.filter((r) => !byCode.has(r.code as string));
      for (const r of rows) {
        const s = byCode.get(r.code as string);
        if (!s) continue;
        const differs = cols.filter(([, p]) => String(s[p]) !== String(r[p]));
        if (differs.length)
          conflicts.push(
            `${r.code} is held with ${differs.map(([, p]) => `${p} ${s[p]}`).join(', ')}, not ${differs.map(([, p]) => r[p]).join(', ')}`,
          );
        else unchanged++;
      }
      if (!missing.length) continue;
      await tx.query(
        `INSERT INTO ${table} (${cols.map(([c]) => c).join(', ')})
         SELECT * FROM unnest(${cols.map(([, , t], i) => `$${i + 1}::${t}[]`).join(', ')})`,
        cols.map(([, p]) => missing.map((r) => r[p])),
      );
      created[what] = missing.length;
      for (const r of missing)
        audit.push({
          entity: 'IMPORT',
          entityId: `periods:${table}:${r.code}`,
          action: 'CREATE',
          before: null,
          after: r,
        });
    }
    if (conflicts.length)
      throw new BadInput(
        `Nothing generated: the hub already holds periods that differ: ${conflicts.join('; ')}.`,
        'first',
      );
    if (audit.length)
      await writeAudit(
        tx,
        { viewer: opts.viewer, source: opts.source, reason: `Periods generated for ${first} to ${last}` },
        audit,
      );
    const total = created.financialYears + created.academicYears + created.fundingTerms;
    return {
      created,
      unchanged,
      message: total
        ? `Generated ${plural(created.financialYears, 'financial year')}, ${plural(created.academicYears, 'academic year')} and ${plural(created.fundingTerms, 'funding term')} (${first} to ${last}); ${unchanged} already held.`
        : `The periods for ${first} to ${last} are all held already (${unchanged}).`,
    };
  });
}
