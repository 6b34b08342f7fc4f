import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { generateDemoData } from '../../server/seed/generate';
import type { GiasSchool } from '../../server/modules/imports/gias';
import { registerScenario, writeGiasSample, writeLinksSample } from '../../server/modules/imports/gias-sample';

/**
 * A local authority's files as its finance officer holds them, in the public layouts (GIAS's register and links,
 * the APT's New ISB sheet, the statistics service's S251 CSV, the DfE's high needs places), plus the hub's own
 * templates for what no public file carries (areas, term dates, communities, pots, caseloads, Safety Valve).
 * The figures are the demo generator's county, so a test knows every answer; nothing is read from the hub.
 */

export type County = ReturnType<typeof generateDemoData>;

export interface LaFiles {
  county: County;
  /** The school that converted before the first register (predecessor URN -> academy URN). */
  firstConversion: { urn: number; successorUrn: number; date: string; communityCode: string };
  /** The school that converts between the first register and the second. */
  secondConversion: { urn: number; successorUrn: number; date: string; communityCode: string };
  /** A school the register lists under another LA, and one proposed to open with no establishment number. */
  movedOut: { urn: number; la: number; laName: string };
  proposed: { urn: number; name: string; districtCode: string };
  /** Financial year of the budget files. */
  financialYear: string;
  academicYear: string;
}

const csv = (rows: (string | number | null | undefined)[][]) =>
  rows
    .map((r) =>
      r
        .map((c) => (c == null ? '' : /[",\r\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c)))
        .join(','),
    )
    .join('\r\n') + '\r\n';

/** The APT's New ISB columns used here, with the hub factor each one's amount comes from. */
const APT_FACTORS: [heading: string, factor: string, phase: 'PRIMARY' | 'SECONDARY' | null][] = [
  ['Basic Entitlement Primary', 'BASIC_ENTITLEMENT', 'PRIMARY'],
  ['Basic Entitlement KS3', 'BASIC_ENTITLEMENT', 'SECONDARY'],
  ['Primary FSM', 'DEPRIVATION', 'PRIMARY'],
  ['Secondary FSM', 'DEPRIVATION', 'SECONDARY'],
  ['Primary FSM6', 'FSM_EVER6', 'PRIMARY'],
  ['Secondary FSM6', 'FSM_EVER6', 'SECONDARY'],
  ['Primary Low Prior Attainment', 'LOW_PRIOR_ATTAINMENT', 'PRIMARY'],
  ['Secondary Low Prior Attainment', 'LOW_PRIOR_ATTAINMENT', 'SECONDARY'],
  ['Primary Mobility', 'MOBILITY', 'PRIMARY'],
  ['Secondary Mobility', 'MOBILITY', 'SECONDARY'],
  ['Minimum Per Pupil Funding', 'MINIMUM_PER_PUPIL_MFG', null],
];

/** Writes every file into `dir` (created), named as the README's real-data quick start names them. */
export async function writeLaFiles(dir: string): Promise<LaFiles> {
  fs.mkdirSync(dir, { recursive: true });
  const whole = generateDemoData();
  const file = (name: string) => path.join(dir, name);
  const financialYear = '2026-27';
  const academicYear = '2026/27';

  const memberOf = new Map<number, string>();
  for (const m of whole.communityMemberships) if (!m.effectiveTo) memberOf.set(m.schoolUrn, m.communityCode);
  const convertible = whole.schools.filter(
    (s) => s.status === 'OPEN' && s.type !== 'ACADEMY' && s.phase === 'PRIMARY' && memberOf.has(s.urn),
  );
  const [a, b] = convertible;
  const firstConversion = { urn: a.urn, successorUrn: 149001, date: '2026-09-01', communityCode: memberOf.get(a.urn)! };
  const secondConversion = {
    urn: b.urn,
    successorUrn: 149002,
    date: '2026-12-01',
    communityCode: memberOf.get(b.urn)!,
  };

  // A school the register now lists under another authority: not the LA's, so in none of its own files.
  const moved = whole.schools.find((x) => x.status === 'OPEN' && x.phase === 'SECONDARY')!;
  const movedOut = { urn: moved.urn, la: 887, laName: 'Medway' };
  // A school proposed to open, with no establishment number yet: left out until GIAS gives it one.
  const proposed = { urn: 149900, name: 'Ashford New Free School', districtCode: moved.districtCode };
  const county = withoutSchool(whole, moved.urn);

  // The register and its links, this month and next.
  const schools = whole.schools as unknown as GiasSchool[];
  const cases = { movedOut: [movedOut], proposed: [proposed] };
  const month1 = registerScenario(schools, { conversions: [firstConversion], ...cases });
  await writeGiasSample(file('edubasealldata20261101.csv'), { laRows: month1.rows, totalRows: 4000 });
  writeLinksSample(file('links_edubasealldata20261101.csv'), month1.links);
  const month2 = registerScenario(schools, { conversions: [firstConversion, secondConversion], ...cases });
  await writeGiasSample(file('edubasealldata20261201.csv'), { laRows: month2.rows, totalRows: 4000, seed: 887 });
  writeLinksSample(file('links_edubasealldata20261201.csv'), month2.links, 200, 887);

  const districtsOf = (area: string) => county.districts.filter((d) => d.areaCode === area).map((d) => d.onsCode);
  fs.writeFileSync(
    file('areas.csv'),
    csv([
      ['areaCode', 'name', 'districtCodes'],
      ...county.areas.map((x) => [x.code, x.name, districtsOf(x.code).join('; ')]),
    ]),
  );
  fs.writeFileSync(
    file('school-terms.csv'),
    csv([
      ['academicYear', 'termNumber', 'startDate', 'endDate'],
      ...county.schoolTerms.map((t) => [t.academicYearCode, t.number, t.startDate, t.endDate]),
    ]),
  );
  fs.writeFileSync(
    file('communities.csv'),
    csv([
      ['communityCode', 'name', 'primaryDistrictCode', 'chairName', 'chairContact', 'chairSchoolUrn', 'pcnName'],
      ...county.communities.map((c) => [
        c.code,
        c.name,
        c.primaryDistrictCode,
        c.chairName,
        '',
        c.chairSchoolUrn,
        c.pcnName,
      ]),
    ]),
  );
  fs.writeFileSync(
    file('community-memberships.csv'),
    csv([
      ['schoolUrn', 'communityCode', 'effectiveFrom', 'effectiveTo'],
      // The officer's list already knows last September's conversion: the school left, its academy joined.
      ...county.communityMemberships.map((m) => [
        m.schoolUrn,
        m.communityCode,
        m.effectiveFrom,
        m.schoolUrn === firstConversion.urn && !m.effectiveTo ? dayBefore(firstConversion.date) : m.effectiveTo,
      ]),
      [firstConversion.successorUrn, firstConversion.communityCode, firstConversion.date, null],
    ]),
  );
  fs.writeFileSync(
    file('caseload-workers.csv'),
    csv([
      ['workerCode', 'role', 'team', 'areaCode'],
      ...county.caseloadWorkers.map((w) => [w.code, w.role, w.team, w.areaCode]),
    ]),
  );

  // The APT's New ISB sheet: one row per school, a column per factor, title rows above the header.
  const bySchool = new Map<number, Map<string, number>>();
  for (const f of county.notionalSenFactors) {
    if (f.financialYearCode !== financialYear) continue;
    const m = bySchool.get(f.schoolUrn) ?? new Map<string, number>();
    m.set(f.factor, Number(f.formulaAmount));
    bySchool.set(f.schoolUrn, m);
  }
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Cover').addRow([`Authority Proforma Tool ${financialYear}`]);
  const isb = wb.addWorksheet('New ISB');
  isb.addRow(['New ISB: school-level allocations']);
  isb.addRow([]);
  isb.addRow(['URN', 'LAESTAB', 'School Name', ...APT_FACTORS.map(([h]) => h)]);
  for (const s of county.schools) {
    const f = bySchool.get(s.urn);
    if (!f) continue;
    const secondary = s.phase === 'SECONDARY';
    isb.addRow([
      s.urn,
      s.laestab,
      s.name,
      ...APT_FACTORS.map(([, factor, phase]) =>
        phase && (phase === 'SECONDARY') !== secondary ? null : (f.get(factor) ?? null),
      ),
    ]);
  }
  await wb.xlsx.writeFile(file(`APT ${financialYear}.xlsx`));

  fs.writeFileSync(
    file(`high-needs-places-${financialYear}.csv`),
    csv([
      [
        'URN',
        'Academic year',
        'Pre-16 SEN places',
        'Post-16 SEN places',
        'Pre-16 AP places',
        'Pre-16 SEN unit and resourced provision places',
      ],
      ...placesRows(county, academicYear),
    ]),
  );

  // Baselines for the whole year: the sum of the year's terms in the county.
  const termsOfYear = new Set(
    county.fundingTerms.filter((t) => t.financialYearCode === financialYear).map((t) => t.code),
  );
  const yearBaseline = new Map<number, number>();
  for (const f of county.schoolTermFunding)
    if (termsOfYear.has(f.termCode))
      yearBaseline.set(f.schoolUrn, (yearBaseline.get(f.schoolUrn) ?? 0) + Math.round(Number(f.baseline) * 100));
  fs.writeFileSync(
    file(`baselines-${financialYear}.csv`),
    csv([
      ['schoolUrn', 'financialYear', 'baseline'],
      ...[...yearBaseline].map(([urn, pence]) => [urn, financialYear, (pence / 100).toFixed(2)]),
    ]),
  );
  fs.writeFileSync(
    file(`pots-${financialYear}.csv`),
    csv([
      ['communityCode', 'term', 'amount'],
      ...county.communityPots
        .filter((p) => termsOfYear.has(p.termCode))
        .map((p) => [p.communityCode, p.termCode, p.amount]),
    ]),
  );
  fs.writeFileSync(
    file(`caseloads-${academicYear.replace('/', '-')}-T1.csv`),
    csv([
      ['kind', 'period', 'districtCode', 'workerCode', 'schoolUrn', 'settingUrn', 'count'],
      ...county.caseloadCounts
        .filter((c) => c.kind === 'EHCP_PLANS' && c.periodCode === `${academicYear}-T1`)
        .map((c) => [c.kind, c.periodCode, c.districtCode, c.workerCode, c.schoolUrn, c.settingUrn, c.count]),
    ]),
  );
  fs.writeFileSync(
    file('ehcp-band-counts-AUTUMN-2026.csv'),
    csv([
      ['schoolUrn', 'term', 'band', 'plans'],
      ...county.ehcpBandCounts
        .filter((c) => c.termCode === 'AUTUMN-2026')
        .map((c) => [c.schoolUrn, c.termCode, c.band, c.plans]),
    ]),
  );
  // The statistics service's S251 budget file: the England row and another authority's are in it too.
  const S251 = [
    'time_period',
    'time_identifier',
    'geographic_level',
    'old_la_code',
    'new_la_code',
    'la_name',
    'category_of_planned_expenditure',
    'primary_schools',
    'secondary_schools',
    'sen_and_special_schools',
    'pupil_referral_units_and_alt_provision',
    'post_16',
    'net_planned_expenditure',
  ];
  const tp = financialYear.replace('-', '');
  fs.writeFileSync(
    file(`s251-budget-${financialYear}.csv`),
    csv([
      S251,
      [
        tp,
        'Financial year',
        'National',
        '',
        '',
        '',
        '1.2.6 Hospital education services',
        '',
        '',
        '',
        '',
        '',
        '99999999',
      ],
      [
        tp,
        'Financial year',
        'Local authority',
        '201',
        'E09000001',
        'City of London',
        '1.2.6 Hospital education services',
        '',
        '',
        '',
        '',
        '',
        '12345',
      ],
      [
        tp,
        'Financial year',
        'Local authority',
        '886',
        'E10000016',
        'Kent',
        '1.2.6 Hospital education services',
        '',
        '',
        '',
        '',
        '',
        '2345678.90',
      ],
      [
        tp,
        'Financial year',
        'Local authority',
        '886',
        'E10000016',
        'Kent',
        '1.2.7 Alternative provision',
        '',
        '',
        '',
        '',
        '',
        '8765432.10',
      ],
    ]),
  );
  const sv = county.safetyValveAgreements[0];
  fs.writeFileSync(
    file('safety-valve-agreement.csv'),
    csv([
      [
        'agreementCode',
        'effectiveFrom',
        'firstFinancialYear',
        'lastFinancialYear',
        'dfeContribution',
        'laContribution',
        'deficitAtStart',
        'deficitAtStartDate',
        'reportsPerYear',
        'broughtForwardDate',
        'broughtForwardPlan',
        'broughtForwardOutturn',
        'note',
      ],
      [
        sv.code,
        sv.effectiveFrom,
        sv.firstFinancialYear,
        sv.lastFinancialYear,
        sv.dfeContribution,
        sv.laContribution,
        sv.deficitAtStart,
        sv.deficitAtStartDate,
        sv.reportsPerYear,
        sv.broughtForwardDate,
        sv.broughtForwardPlan,
        sv.broughtForwardOutturn,
        'As signed',
      ],
    ]),
  );
  fs.writeFileSync(
    file('safety-valve-plan.csv'),
    csv([
      ['financialYear', 'inYearPlan'],
      ...county.safetyValvePlanYears.map((p) => [p.financialYearCode, p.inYearPlan]),
    ]),
  );
  fs.writeFileSync(
    file('safety-valve-instalments.csv'),
    csv([
      ['periodCode', 'financialYear', 'dueOn', 'amount', 'status', 'paidOn'],
      ...county.safetyValveInstalments.map((i) => [
        i.periodCode,
        i.financialYearCode,
        i.dueOn,
        i.amount,
        i.status,
        i.paidOn,
      ]),
    ]),
  );
  return { county, firstConversion, secondConversion, movedOut, proposed, financialYear, academicYear };
}

function placesRows(county: County, academicYear: string): (string | number)[][] {
  const rows = new Map<number, number[]>();
  const col: Record<string, number> = { SPECIAL_PRE16: 0, SPECIAL_POST16: 1, AP: 2, SRP: 3 };
  for (const p of county.placeNumbers) {
    if (p.academicYearCode !== academicYear || !(p.placeType in col)) continue;
    const r = rows.get(p.schoolUrn) ?? [0, 0, 0, 0];
    r[col[p.placeType]] += p.places;
    rows.set(p.schoolUrn, r);
  }
  return [...rows].map(([urn, r]) => [urn, academicYear, ...r]);
}

const dayBefore = (iso: string) => new Date(Date.parse(`${iso}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** The county without one school: what the LA's own files hold once the school is another authority's. */
function withoutSchool(c: County, urn: number): County {
  const keep = <T extends { schoolUrn?: number | null; urn?: unknown }>(rows: T[]) =>
    rows.filter((r) => r.schoolUrn !== urn && r.urn !== urn);
  return {
    ...c,
    schools: keep(c.schools),
    communityMemberships: keep(c.communityMemberships),
    notionalSenFactors: keep(c.notionalSenFactors),
    schoolTermFunding: keep(c.schoolTermFunding),
    ehcpBandCounts: keep(c.ehcpBandCounts),
    placeNumbers: keep(c.placeNumbers),
    caseloadCounts: keep(c.caseloadCounts),
  };
}
