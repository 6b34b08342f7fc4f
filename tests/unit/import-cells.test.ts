import type { PeriodCatalogue } from '../../server/modules/period/period.service';
import type { Refs, TemplateImport } from '../../server/modules/imports/kinds';
import { readDate, DATE_REASON } from '../../server/modules/imports/cells';
import { publishedAmount } from '../../server/modules/imports/published';
import { requireKind } from '../../server/modules/imports/registry';
import { INSTALMENT_KIND, KPI_KIND } from '../../server/modules/imports/safety-valve-imports';
import { tableOf } from '../helpers/table';
import { validateTable } from '../../server/modules/imports/validate';

const fy = { code: '2026-27', startDate: '2026-04-01', endDate: '2027-03-31' };
const refs = {
  periods: {
    financialYears: [fy],
    financialYearByCode: new Map([[fy.code, fy]]),
  } as unknown as PeriodCatalogue,
  schools: new Set([118001]),
  communities: new Set(['ASH-01']),
} as unknown as Refs;

const problems = (kind: TemplateImport, header: string[], lines: string[][]) =>
  validateTable(kind, tableOf(header, lines), refs).errors.items.map((e) => [e.line, e.column, e.value, e.reason]);

describe('the one reader of a date cell', () => {
  it.each([
    ['2026-09-01', '2026-09-01'],
    ['1/9/2026', '2026-09-01'],
    ['01/09/2026', '2026-09-01'],
    ['01-09-2026', '2026-09-01'],
    ['46266', '2026-09-01'], // the day number Excel keeps for a date in a cell formatted as a number
    ['29/02/2028', '2028-02-29'],
    ['31/02/2026', null],
    ['29/02/2027', null],
    ['2026-02-30', null],
    ['2026-13-01', null],
    ['9/1/26', null],
    ['2026-9-1', null],
    ['12345', null],
    ['46266.5', null],
    ['1 September 2026', null],
    ['', null],
  ])('reads %j as %j', (text, iso) => expect(readDate(text)).toBe(iso));
});

describe('every import reads dates by it, with one reason', () => {
  it('a template date column (community memberships) takes an Excel day number and DD-MM-YYYY, and refuses 31/02', () => {
    const kind = requireKind('community-memberships') as TemplateImport;
    const header = ['schoolUrn', 'communityCode', 'effectiveFrom'];
    const v = validateTable(kind, tableOf(header, [['118001', 'ASH-01', '46266']]), refs);
    expect(v.errors.items).toEqual([]);
    expect(v.rows[0].values.effectiveFrom).toBe('2026-09-01');
    expect(problems(kind, header, [['118001', 'ASH-01', '31/02/2026']])).toEqual([
      [2, 'effectiveFrom', '31/02/2026', DATE_REASON],
    ]);
  });

  it('a Safety Valve date column refuses 31/02 with the same reason, and gives the others as ISO', () => {
    const header = ['periodCode', 'financialYear', 'dueOn', 'amount', 'status', 'paidOn'];
    expect(problems(INSTALMENT_KIND, header, [['2026-27-Q3', '2026-27', '31/02/2027', '5', 'DUE', '']])).toEqual([
      [2, 'dueOn', '31/02/2027', DATE_REASON],
    ]);
    const v = validateTable(
      INSTALMENT_KIND,
      tableOf(header, [['2026-27-Q3', '2026-27', '31/01/2027', '5', 'PAID_LATE', '46422']]),
      refs,
    );
    expect(v.errors.items).toEqual([]);
    expect(INSTALMENT_KIND.records(v.rows)[0].after).toMatchObject({ dueOn: '2027-01-31', paidOn: '2027-02-04' });
  });
});

describe('Safety Valve KPI values: money by the money parser, counts and percentages by the decimal reader', () => {
  const header = ['periodCode', 'kpiCode', 'name', 'unit', 'plan', 'actual'];
  const line = (unit: string, plan: string, actual: string) => ['2026-27-Q3', 'K', 'A KPI', unit, plan, actual];

  it.each([
    [
      'GBP',
      '12,50',
      'is not an amount of pounds and pence: it has a comma that is not a thousands separator (groups of three digits, as in 1,250.00). Write it as 1250.00 or 1,250.00.',
    ],
    [
      'GBP',
      '1,2,3',
      'is not an amount of pounds and pence: it has a comma that is not a thousands separator (groups of three digits, as in 1,250.00). Write it as 1250.00 or 1,250.00.',
    ],
    [
      'GBP',
      '1234567890123',
      'is not an amount of pounds and pence: it has more than 12 digits before the point. Write it as 1250.00 or 1,250.00.',
    ],
    [
      'COUNT',
      '12,50',
      'is not a number: it has a comma that is not a thousands separator (groups of three digits, as in 1,250.00).',
    ],
    [
      'COUNT',
      '1,2,3',
      'is not a number: it has a comma that is not a thousands separator (groups of three digits, as in 1,250.00).',
    ],
    ['COUNT', '123456789012345', 'is not a number: it has more than 14 digits before the point.'],
    ['PERCENT', '37.555', 'is not a number: it has more than 2 decimal places.'],
  ])('refuses a %s value %j: %s', (unit, text, reason) => {
    expect(problems(KPI_KIND, header, [line(unit, '', text)])).toEqual([[2, 'actual', text, reason]]);
  });

  it('reads thousands, £ and negatives where they belong, to two decimals', () => {
    const v = validateTable(
      KPI_KIND,
      tableOf(header, [
        ['2026-27-Q3', 'A', 'EHCPs', 'COUNT', '21,000', '21456'],
        ['2026-27-Q3', 'B', 'Spend', 'GBP', '£1,250,000', '-3,500.5'],
        ['2026-27-Q3', 'C', 'Share', 'PERCENT', '', '37.5'],
      ]),
      refs,
    );
    expect(v.errors.items).toEqual([]);
    expect(KPI_KIND.records(v.rows).map((r) => [r.after.plan, r.after.actual])).toEqual([
      ['21000.00', '21456.00'],
      ['1250000.00', '-3500.50'],
      [null, '37.50'],
    ]);
  });
});

describe('a published amount goes through the one money parser', () => {
  it.each(['12,50.125', '1,2,3.456', '1,2500.5555'])('refuses %j whatever its decimals', (text) => {
    const r = publishedAmount(text, 'Basic Entitlement Primary');
    expect(r.ok ? r.value : r.reason).toMatch(
      /^is not an amount of pounds and pence: it has a comma that is not a thousands separator/,
    );
  });

  it('refuses a comma out of place in thousands too, and reads a good one', () => {
    const r = publishedAmount('12,50', 'Line', { units: 'THOUSANDS' });
    expect(r.ok ? r.value : r.reason).toMatch(/^is not an amount of pounds and pence: it has a comma/);
    expect(publishedAmount('1,234.5678', 'Line', { units: 'THOUSANDS' })).toEqual({
      ok: true,
      value: '1234567.80',
      rounded: false,
    });
    expect(publishedAmount('48,210.4166666667', 'Line')).toEqual({ ok: true, value: '48210.42', rounded: true });
  });
});
