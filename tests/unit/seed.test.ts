import crypto from 'node:crypto';
import Decimal from 'decimal.js';
import { generateDemoData, membersOn, type DemoData } from '../../server/seed/generate';
import { DEFAULT_MODEL_PARAMETERS as P, bandedTopUp } from '../../server/modules/funding/model';

const data = generateDemoData();

const sum = (values: string[]): string => values.reduce((a, v) => a.plus(v), new Decimal(0)).toFixed(2);
const countBy = <T>(rows: T[], key: (r: T) => string): Record<string, number> =>
  rows.reduce((m, r) => ((m[key(r)] = (m[key(r)] ?? 0) + 1), m), {} as Record<string, number>);
const termFy = new Map(data.fundingTerms.map((t) => [t.code, t.financialYearCode]));
const line = (fy: string, code: string) =>
  data.highNeedsBlockLines.find((l) => l.financialYearCode === fy && l.lineCode === code)!;
const FUNDED_TERMS = [
  'SUMMER-2025',
  'AUTUMN-2025',
  'SPRING-2026',
  'SUMMER-2026',
  'AUTUMN-2026',
  'SPRING-2027',
  'SUMMER-2027',
  'AUTUMN-2027',
  'SPRING-2028',
];

describe('generateDemoData: determinism', () => {
  it('gives deep-equal data on every run with the same seed', () => {
    expect(generateDemoData()).toEqual(data);
  });

  it('matches the recorded checksum (update it deliberately when the generator changes)', () => {
    const hash = crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex');
    expect(hash).toBe(EXPECTED_SHA256);
  });

  it('gives different schools for a different seed', () => {
    const other = generateDemoData(1);
    expect(other.schools.map((s) => s.urn)).not.toEqual(data.schools.map((s) => s.urn));
    expect(other.communities).toHaveLength(53);
  });

  it('keeps the whole data set under 70,000 rows so it loads fast', () => {
    const rows = Object.values(data).reduce((a, v: unknown[]) => a + v.length, 0);
    expect(rows).toBeGreaterThan(40000);
    expect(rows).toBeLessThan(70000);
  });
});

describe('generateDemoData: geography and schools', () => {
  it('has the 4 areas and the 12 Kent districts with their real ONS codes', () => {
    expect(data.areas.map((a) => a.code)).toEqual(['NORTH', 'WEST', 'EAST', 'SOUTH']);
    expect(Object.fromEntries(data.districts.map((d) => [d.onsCode, `${d.name}/${d.areaCode}`]))).toEqual({
      E07000105: 'Ashford/SOUTH',
      E07000106: 'Canterbury/EAST',
      E07000107: 'Dartford/NORTH',
      E07000108: 'Dover/SOUTH',
      E07000109: 'Gravesham/NORTH',
      E07000110: 'Maidstone/WEST',
      E07000111: 'Sevenoaks/NORTH',
      E07000112: 'Folkestone and Hythe/SOUTH',
      E07000113: 'Swale/EAST',
      E07000114: 'Thanet/EAST',
      E07000115: 'Tonbridge and Malling/WEST',
      E07000116: 'Tunbridge Wells/WEST',
    });
  });

  it('has about 600 schools: ~460 primary, ~100 secondary, 3-4 all-through, 24 special, ~10 PRUs and 5 closed', () => {
    const open = data.schools.filter((s) => s.status === 'OPEN');
    const phases = countBy(open, (s) => s.phase);
    expect(data.schools.length).toBeGreaterThanOrEqual(580);
    expect(data.schools.length).toBeLessThanOrEqual(640);
    expect(phases.PRIMARY).toBeGreaterThanOrEqual(440);
    expect(phases.PRIMARY).toBeLessThanOrEqual(490);
    expect(phases.SECONDARY).toBeGreaterThanOrEqual(90);
    expect(phases.SECONDARY).toBeLessThanOrEqual(115);
    expect(phases.ALL_THROUGH).toBeGreaterThanOrEqual(3);
    expect(phases.ALL_THROUGH).toBeLessThanOrEqual(4);
    expect(phases.SPECIAL).toBe(24);
    expect(phases.PRU).toBe(10);
    const closed = data.schools.filter((s) => s.status === 'CLOSED');
    expect(closed).toHaveLength(5);
    for (const s of closed) expect(s.closeDate! < '2025-04-01').toBe(true);
  });

  it('gives every school a unique URN in the maintained or academy range and a unique 886 LAESTAB by phase', () => {
    expect(new Set(data.schools.map((s) => s.urn)).size).toBe(data.schools.length);
    expect(new Set(data.schools.map((s) => s.laestab)).size).toBe(data.schools.length);
    expect(new Set(data.schools.map((s) => s.ukprn)).size).toBe(data.schools.length);
    for (const s of data.schools) {
      if (s.type === 'MAINTAINED') expect(s.urn >= 118000 && s.urn <= 119999).toBe(true);
      else expect(s.urn >= 136000 && s.urn <= 150999).toBe(true);
      const estab = s.laestab - 8860000;
      expect(Math.floor(s.laestab / 10000)).toBe(886);
      const first = Math.floor(estab / 1000);
      const allowed = { PRIMARY: [2], SECONDARY: [4, 5], ALL_THROUGH: [4], SPECIAL: [7], PRU: [1] }[s.phase as string];
      expect({ urn: s.urn, first, ok: allowed?.includes(first) }).toEqual({ urn: s.urn, first, ok: true });
      expect(s.ukprn!).toBeGreaterThanOrEqual(10000000);
    }
  });

  it('gives open schools realistic rolls, % FSM as 2-dp strings and postcodes in their district', () => {
    const ranges: Record<string, [number, number]> = {
      PRIMARY: [90, 630],
      SECONDARY: [600, 1800],
      SPECIAL: [60, 300],
      PRU: [20, 120],
      ALL_THROUGH: [1000, 2000],
    };
    const district = new Map([
      ['E07000105', 'TN'],
      ['E07000106', 'CT'],
      ['E07000107', 'DA'],
      ['E07000108', 'CT'],
      ['E07000109', 'DA|ME'],
      ['E07000110', 'ME'],
      ['E07000111', 'TN|BR|DA'],
      ['E07000112', 'CT|TN'],
      ['E07000113', 'ME'],
      ['E07000114', 'CT'],
      ['E07000115', 'TN|ME'],
      ['E07000116', 'TN'],
    ]);
    for (const s of data.schools.filter((x) => x.status === 'OPEN')) {
      const [lo, hi] = ranges[s.phase];
      expect(s.pupilsOnRoll! >= lo && s.pupilsOnRoll! <= hi).toBe(true);
      expect(s.percentFsm).toMatch(/^\d{1,2}\.\d0$/);
      expect(Number(s.percentFsm) >= 5 && Number(s.percentFsm) <= 45).toBe(true);
      expect(s.postcode).toMatch(new RegExp(`^(${district.get(s.districtCode)})\\d{1,2} \\d[A-Z]{2}$`));
    }
    const srp = data.schools.filter((s) => s.srpCapacity !== null);
    expect(srp).toHaveLength(40);
    for (const s of srp) expect(['PRIMARY', 'SECONDARY', 'ALL_THROUGH']).toContain(s.phase);
  });

  it('has 53 communities of 8-14 open mainstream schools each, mean about 10.5, 4-5 per district', () => {
    expect(data.communities).toHaveLength(53);
    expect(data.communities[0]).toMatchObject({
      code: 'ASH-01',
      name: 'Ashford Central Community of Schools',
      pcnName: 'Ashford Central PCN',
    });
    const perDistrict = Object.values(countBy(data.communities, (c) => c.primaryDistrictCode));
    expect(perDistrict.every((n) => n === 4 || n === 5)).toBe(true);
    const byUrn = new Map(data.schools.map((s) => [s.urn, s]));
    for (const date of ['2025-04-01', '2026-08-31', '2026-09-01', '2027-01-01']) {
      const members = membersOn(data.communityMemberships, date);
      expect(members.size).toBe(53);
      const sizes = [...members.values()].map((m) => m.length);
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(8);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(14);
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      expect(mean).toBeGreaterThan(10);
      expect(mean).toBeLessThan(11.5);
      for (const urns of members.values())
        for (const u of urns) expect(['PRIMARY', 'SECONDARY', 'ALL_THROUGH']).toContain(byUrn.get(u)!.phase);
    }
    const initial = membersOn(data.communityMemberships, '2025-04-01');
    for (const c of data.communities) expect(initial.get(c.code)).toContain(c.chairSchoolUrn);
  });

  it('puts each open mainstream school in exactly one community on any day, and special schools, PRUs and closed schools in none', () => {
    const members = [...membersOn(data.communityMemberships, '2026-10-01').values()].flat();
    expect(new Set(members).size).toBe(members.length);
    const mainstreamOpen = data.schools.filter(
      (s) => s.status === 'OPEN' && ['PRIMARY', 'SECONDARY', 'ALL_THROUGH'].includes(s.phase),
    );
    expect(new Set(members)).toEqual(new Set(mainstreamOpen.map((s) => s.urn)));
  });

  it('moves at least 3 schools to another community on 1 September 2026', () => {
    const ended = data.communityMemberships.filter((m) => m.effectiveTo !== null);
    expect(ended.length).toBeGreaterThanOrEqual(3);
    for (const old of ended) {
      expect(old.effectiveTo).toBe('2026-09-01');
      const next = data.communityMemberships.find(
        (m) => m.schoolUrn === old.schoolUrn && m.effectiveFrom === '2026-09-01',
      );
      expect(next).toMatchObject({ effectiveTo: null });
      expect(next!.communityCode).not.toBe(old.communityCode);
    }
  });

  it('has ~700 group early years settings and ~800 childminders with Ofsted-style URNs', () => {
    const kinds = countBy(data.earlyYearsSettings, (s) => s.kind);
    expect(kinds.GROUP).toBeGreaterThanOrEqual(650);
    expect(kinds.GROUP).toBeLessThanOrEqual(750);
    expect(kinds.CHILDMINDER).toBeGreaterThanOrEqual(750);
    expect(kinds.CHILDMINDER).toBeLessThanOrEqual(850);
    expect(new Set(data.earlyYearsSettings.map((s) => s.urn)).size).toBe(data.earlyYearsSettings.length);
    for (const s of data.earlyYearsSettings) {
      expect(s.urn).toMatch(/^EY\d{6}$/);
      if (s.kind === 'CHILDMINDER') expect(s.name).toBe(`Childminder ${s.urn}`);
    }
  });
});

describe('generateDemoData: periods', () => {
  it('has funding terms Summer 2024 to Spring 2028 with 5/4/3 months, closed when ended before April 2026', () => {
    expect(data.fundingTerms.map((t) => t.code)).toEqual([
      'SUMMER-2024',
      'AUTUMN-2024',
      'SPRING-2025',
      'SUMMER-2025',
      'AUTUMN-2025',
      'SPRING-2026',
      'SUMMER-2026',
      'AUTUMN-2026',
      'SPRING-2027',
      'SUMMER-2027',
      'AUTUMN-2027',
      'SPRING-2028',
    ]);
    expect(data.fundingTerms.find((t) => t.code === 'SUMMER-2025')).toEqual({
      code: 'SUMMER-2025',
      name: 'Summer 2025',
      season: 'SUMMER',
      startDate: '2025-04-01',
      endDate: '2025-08-31',
      financialYearCode: '2025-26',
      academicYearCode: '2024/25',
      months: 5,
      closed: true,
    });
    expect(
      data.fundingTerms
        .filter((t) => t.closed)
        .map((t) => t.code)
        .at(-1),
    ).toBe('SPRING-2026');
    expect(data.fundingTerms.find((t) => t.code === 'SUMMER-2026')!.closed).toBe(false);
    for (const fy of ['2024-25', '2025-26', '2026-27', '2027-28'])
      expect(data.fundingTerms.filter((t) => t.financialYearCode === fy).reduce((a, t) => a + t.months, 0)).toBe(12);
  });

  it('has six school terms per academic year, each in the funding term containing its start', () => {
    const t = data.schoolTerms.filter((s) => s.academicYearCode === '2025/26');
    expect(t.map((s) => `${s.code}:${s.fundingTermCode}`)).toEqual([
      '2025/26-T1:AUTUMN-2025',
      '2025/26-T2:AUTUMN-2025',
      '2025/26-T3:SPRING-2026',
      '2025/26-T4:SPRING-2026',
      '2025/26-T5:SUMMER-2026',
      '2025/26-T6:SUMMER-2026',
    ]);
    const ft = new Map(data.fundingTerms.map((f) => [f.code, f]));
    for (const s of data.schoolTerms) {
      const f = ft.get(s.fundingTermCode)!;
      expect(f.startDate <= s.startDate && s.startDate <= f.endDate).toBe(true);
      expect(s.startDate < s.endDate).toBe(true);
    }
  });
});

describe('generateDemoData: money', () => {
  const moneyFields: Array<[keyof DemoData, string[]]> = [
    ['notionalSenFactors', ['formulaAmount', 'senAmount']],
    ['schoolTermFunding', ['baseline', 'protectedAmount', 'communityShare', 'bandedTopUp']],
    ['communityPots', ['amount']],
    ['highNeedsBlockLines', ['budget', 'forecast', 'outturn']],
    ['safetyValveAgreements', ['dfeContribution', 'laContribution', 'deficitAtStart']],
    ['safetyValveReports', ['inYearPlan', 'inYearForecast', 'cumulativePlan', 'cumulativeForecast', 'dfeInstalment']],
  ];

  it('holds every money value as a 2-dp decimal string, never a number', () => {
    let checked = 0;
    const bad: string[] = [];
    for (const [table, fields] of moneyFields) {
      for (const row of data[table] as unknown as Array<Record<string, unknown>>) {
        for (const f of fields) {
          const v = row[f];
          if (v === null && (f === 'outturn' || f === 'dfeInstalment')) continue;
          if (!(typeof v === 'string' && /^-?\d+\.\d{2}$/.test(v))) bad.push(`${table}.${f}=${String(v)}`);
          checked++;
        }
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(30000);
  });

  it('gives every open mainstream school six notional SEN lines per financial year, mostly £50k-£400k in total for primaries', () => {
    const mainstream = data.schools.filter(
      (s) => s.status === 'OPEN' && ['PRIMARY', 'SECONDARY', 'ALL_THROUGH'].includes(s.phase),
    );
    expect(data.notionalSenFactors).toHaveLength(mainstream.length * 4 * 6);
    const primary = new Set(mainstream.filter((s) => s.phase === 'PRIMARY').map((s) => s.urn));
    const totals = new Map<number, Decimal>();
    const wrong = data.notionalSenFactors.filter(
      (n) =>
        n.senAmount !==
        new Decimal(n.formulaAmount).times(n.senPercentage).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2),
    );
    expect(wrong).toEqual([]);
    for (const n of data.notionalSenFactors) {
      if (n.financialYearCode === '2025-26' && primary.has(n.schoolUrn))
        totals.set(n.schoolUrn, (totals.get(n.schoolUrn) ?? new Decimal(0)).plus(n.senAmount));
    }
    const inRange = [...totals.values()].filter((t) => t.gte(50000) && t.lte(400000)).length;
    expect(inRange / totals.size).toBeGreaterThan(0.8);
  });

  it('protects exactly 75% of the baseline in the four protected terms and nothing from Autumn 2026', () => {
    expect(new Set(data.schoolTermFunding.map((f) => f.termCode))).toEqual(new Set(FUNDED_TERMS));
    const wrong = data.schoolTermFunding.filter((f) =>
      P.protectedTermCodes.includes(f.termCode)
        ? f.protectionRate !== '0.7500' ||
          f.protectedAmount !==
            new Decimal(f.baseline).times('0.75').toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2)
        : f.protectionRate !== '0.0000' || f.protectedAmount !== '0.00',
    );
    expect(wrong).toEqual([]);
    expect(data.schoolTermFunding.filter((f) => f.termCode === 'SUMMER-2026' && f.protectedAmount === '0.00')).toEqual(
      [],
    );
  });

  it('scales each school baseline by term months, typically £5k-£80k a term', () => {
    const urn = data.schoolTermFunding[0].schoolUrn;
    const own = new Map(
      data.schoolTermFunding.filter((f) => f.schoolUrn === urn).map((f) => [f.termCode, new Decimal(f.baseline)]),
    );
    expect(own.get('SUMMER-2025')!.div(5).minus(own.get('SPRING-2026')!.div(3)).abs().lt(0.01)).toBe(true);
    const typical = data.schoolTermFunding.filter(
      (f) => Number(f.baseline) >= 5000 && Number(f.baseline) <= 80000,
    ).length;
    expect(typical / data.schoolTermFunding.length).toBeGreaterThan(0.75);
  });

  it('splits each term pot exactly among the 53 communities, £18m in 2025-26 and £27m in 2026-27', () => {
    const expected: Record<string, string> = {
      'SUMMER-2025': '7500000.00',
      'AUTUMN-2025': '6000000.00',
      'SPRING-2026': '4500000.00',
      'SUMMER-2026': '11250000.00',
      'AUTUMN-2026': '9000000.00',
      'SPRING-2027': '6750000.00',
    };
    for (const [term, total] of Object.entries(expected)) {
      const pots = data.communityPots.filter((p) => p.termCode === term);
      expect(pots).toHaveLength(53);
      expect(sum(pots.map((p) => p.amount))).toBe(total);
    }
  });

  it("splits each community pot exactly among its members' shares (by pupils), following moves", () => {
    const start = new Map(data.fundingTerms.map((t) => [t.code, t.startDate]));
    const share = new Map(data.schoolTermFunding.map((f) => [`${f.schoolUrn}|${f.termCode}`, f.communityShare]));
    for (const pot of data.communityPots) {
      const members = membersOn(data.communityMemberships, start.get(pot.termCode)!).get(pot.communityCode)!;
      expect(sum(members.map((u) => share.get(`${u}|${pot.termCode}`)!))).toBe(pot.amount);
    }
  });

  it('pays the banded top-up from the band counts from Autumn 2026 only', () => {
    const bands = new Map<string, Record<string, number>>();
    for (const b of data.ehcpBandCounts) {
      const k = `${b.schoolUrn}|${b.termCode}`;
      bands.set(k, { ...(bands.get(k) ?? {}), [b.band]: b.plans });
    }
    expect(new Set(data.ehcpBandCounts.map((b) => b.termCode))).toEqual(
      new Set(['AUTUMN-2026', 'SPRING-2027', 'SUMMER-2027', 'AUTUMN-2027', 'SPRING-2028']),
    );
    const months: Record<string, number> = {
      'AUTUMN-2026': 4,
      'SPRING-2027': 3,
      'SUMMER-2027': 5,
      'AUTUMN-2027': 4,
      'SPRING-2028': 3,
    };
    const wrong = data.schoolTermFunding.filter((f) =>
      months[f.termCode]
        ? f.bandedTopUp !== bandedTopUp(bands.get(`${f.schoolUrn}|${f.termCode}`)!, P.bandValues, months[f.termCode])
        : f.bandedTopUp !== '0.00',
    );
    expect(wrong).toEqual([]);
    expect(data.schoolTermFunding.filter((f) => f.termCode === 'AUTUMN-2026' && f.bandedTopUp === '0.00')).toEqual([]);
  });

  it('keeps the COMMUNITY_POTS, INDIVIDUAL_PROTECTION, MAINSTREAM_TOP_UPS and NOTIONAL_SEN lines equal to the exact sums they stand for', () => {
    for (const fy of ['2024-25', '2025-26', '2026-27', '2027-28']) {
      const notional = line(fy, 'NOTIONAL_SEN');
      expect(notional.memo).toBe(true);
      expect(notional.budget).toBe(
        sum(data.notionalSenFactors.filter((n) => n.financialYearCode === fy).map((n) => n.senAmount)),
      );
      // 2024-25 is held as reported (before the communities): its other lines are given figures.
      if (fy === '2024-25') continue;
      // 2027-28's pot is planned (£28m) but not yet shared among communities.
      if (fy === '2027-28') expect(data.communityPots.filter((p) => termFy.get(p.termCode) === fy)).toEqual([]);
      expect(line(fy, 'COMMUNITY_POTS').budget).toBe(
        fy === '2027-28'
          ? '28000000.00'
          : sum(data.communityPots.filter((p) => termFy.get(p.termCode) === fy).map((p) => p.amount)),
      );
      expect(line(fy, 'INDIVIDUAL_PROTECTION').budget).toBe(
        sum(data.schoolTermFunding.filter((f) => termFy.get(f.termCode) === fy).map((f) => f.protectedAmount)),
      );
      for (const f of ['budget', 'forecast'] as const) {
        expect(line(fy, 'MAINSTREAM_TOP_UPS')[f]).toBe(
          sum(data.schoolTermFunding.filter((x) => termFy.get(x.termCode) === fy).map((x) => x.bandedTopUp)),
        );
      }
    }
    expect(line('2024-25', 'COMMUNITY_POTS').budget).toBe('0.00');
    expect(line('2025-26', 'COMMUNITY_POTS').budget).toBe('18000000.00');
    expect(line('2026-27', 'COMMUNITY_POTS').budget).toBe('27000000.00');
  });

  it('has a High Needs block of about £340-410m a year: £342.7m budget and £389m forecast in 2024-25, outturn for the closed years', () => {
    const totals = (fy: string, f: 'budget' | 'forecast') =>
      sum(data.highNeedsBlockLines.filter((l) => l.financialYearCode === fy && !l.memo).map((l) => l[f]));
    expect(totals('2024-25', 'budget')).toBe('342700000.00');
    expect(totals('2024-25', 'forecast')).toBe('389000000.00');
    for (const fy of ['2025-26', '2026-27', '2027-28']) {
      expect(Number(totals(fy, 'forecast'))).toBeGreaterThan(340e6);
      expect(Number(totals(fy, 'forecast'))).toBeLessThan(410e6);
      expect(Number(totals(fy, 'forecast'))).toBeGreaterThan(Number(totals(fy, 'budget')));
    }
    expect(data.highNeedsBlockLines.filter((l) => l.financialYearCode === '2025-26')).toHaveLength(13);
    for (const l of data.highNeedsBlockLines)
      expect(l.outturn === null).toBe(!['2023-24', '2024-25'].includes(l.financialYearCode));
    // Kent 2024-25: 1,623 independent placements at about £49,259.
    expect(line('2024-25', 'INDEPENDENT_NMSS').forecast).toBe('79947357.00');
    expect(data.highNeedsBlockLines.filter((l) => l.budget !== l.forecast).length).toBeGreaterThan(10);
  });
});

describe('generateDemoData: Safety Valve', () => {
  it('has the 2022 agreement: DfE £140m, KCC £82m, £97m deficit at March 2022, as its version 1, reporting quarterly', () => {
    expect(data.safetyValveAgreements).toEqual([
      {
        code: 'SV-KENT-2022',
        version: 1,
        effectiveFrom: '2022-03-31',
        reportsPerYear: 4,
        note: null,
        sourceKind: 'IMPORTED',
        sourceFile: 'safety-valve-agreement.pdf',
        sourceBy: 'demo data',
        sourceAt: null,
        sourceParameterVersion: null,
        firstFinancialYear: '2022-23',
        lastFinancialYear: '2027-28',
        dfeContribution: '140000000.00',
        laContribution: '82000000.00',
        deficitAtStart: '97000000.00',
        deficitAtStartDate: '2022-03-31',
        broughtForwardDate: '2023-03-31',
        broughtForwardPlan: '-83000000.00',
        broughtForwardOutturn: '-85800000.00',
      },
    ]);
  });

  it('has quarterly reports from 2023-24 Q1 to 2026-27 Q2 with nine KPIs each, EHCPs rising from ~19,000 to over 21,000', () => {
    const codes = data.safetyValveReports.map((r) => r.periodCode);
    expect(codes).toHaveLength(14);
    expect(codes[0]).toBe('2023-24-Q1');
    expect(codes.at(-1)).toBe('2026-27-Q2');
    expect(data.safetyValveKpis).toHaveLength(14 * 9);
    const ehcp = data.safetyValveKpis.filter((k) => k.kpiCode === 'EHCP_TOTAL').map((k) => Number(k.actual));
    expect(ehcp[0]).toBeGreaterThan(18500);
    expect(ehcp[0]).toBeLessThan(19500);
    expect(ehcp.at(-1)).toBeGreaterThan(21000);
    for (const k of data.safetyValveKpis) expect(k.actual).toMatch(/^\d+\.\d{2}$/);
    const requests = data.safetyValveKpis
      .filter((k) => k.kpiCode === 'ASSESSMENT_REQUESTS')
      .map((k) => Number(k.actual));
    expect(requests.every((n) => n >= 700 && n <= 860)).toBe(true);
    expect(data.safetyValveReports.some((r) => r.dfeInstalment === null)).toBe(true);
  });
});

describe('generateDemoData: caseloads', () => {
  const counts = data.caseloadCounts;
  const perWorker = (kind: string, period: string) => {
    const m = new Map<string, number>();
    for (const c of counts)
      if (c.kind === kind && c.periodCode === period) m.set(c.workerCode!, (m.get(c.workerCode!) ?? 0) + c.count);
    return [...m.values()];
  };

  it('has ~48 link workers, ~25 SIPS practitioners and ~105 EHCP case officers with area and team', () => {
    const roles = countBy(data.caseloadWorkers, (w) => w.role);
    expect(roles).toEqual({ LINK_WORKER: 48, SIPS_PRACTITIONER: 25, EHCP_CASE_OFFICER: 105 });
    expect(data.caseloadWorkers.map((w) => w.code)).toEqual(expect.arrayContaining(['LW-001', 'SIPS-01', 'ECO-001']));
    for (const w of data.caseloadWorkers) expect(['NORTH', 'WEST', 'EAST', 'SOUTH']).toContain(w.areaCode);
  });

  it('gives each link worker 10-15 schools and every open school and setting one link worker each term', () => {
    for (const period of ['2025/26-T1', '2026/27-T2']) {
      const schools = perWorker('LINK_WORKER_SCHOOLS', period);
      expect(schools).toHaveLength(48);
      expect(Math.min(...schools)).toBeGreaterThanOrEqual(10);
      expect(Math.max(...schools)).toBeLessThanOrEqual(15);
      const covered = counts
        .filter((c) => c.kind === 'LINK_WORKER_SCHOOLS' && c.periodCode === period)
        .map((c) => c.schoolUrn);
      expect(covered.length).toBe(data.schools.filter((s) => s.status === 'OPEN').length);
      const settings = counts.filter((c) => c.kind === 'LINK_WORKER_SETTINGS' && c.periodCode === period);
      expect(new Set(settings.map((c) => c.settingUrn)).size).toBe(data.earlyYearsSettings.length);
    }
  });

  it('gives each SIPS practitioner 25-40 children a term, with many small (suppressible) cells', () => {
    const sips = counts.filter((c) => c.kind === 'SIPS_CHILDREN');
    for (const period of ['2025/26-T1', '2025/26-T6', '2026/27-T2']) {
      const totals = perWorker('SIPS_CHILDREN', period);
      expect(totals).toHaveLength(25);
      expect(Math.min(...totals)).toBeGreaterThanOrEqual(25);
      expect(Math.max(...totals)).toBeLessThanOrEqual(40);
    }
    expect(sips.filter((c) => c.count >= 1 && c.count <= 4).length / sips.length).toBeGreaterThan(0.5);
    for (const c of sips) expect(c.settingUrn).toMatch(/^EY/);
  });

  it('gives each EHCP case officer 170-250 plans, about 21,000 in the county', () => {
    for (const period of ['2025/26-T1', '2026/27-T2']) {
      const totals = perWorker('EHCP_PLANS', period);
      expect(totals).toHaveLength(105);
      expect(Math.min(...totals)).toBeGreaterThanOrEqual(170);
      expect(Math.max(...totals)).toBeLessThanOrEqual(250);
      const county = totals.reduce((a, b) => a + b, 0);
      expect(county).toBeGreaterThan(20000);
      expect(county).toBeLessThan(22500);
    }
    expect(counts.some((c) => c.kind === 'EHCP_PLANS' && c.schoolUrn === null)).toBe(true);
  });

  it('has one Resource Group meeting per district per term with 10-25 referrals and no worker', () => {
    const eyprg = counts.filter((c) => c.kind === 'EYPRG_REFERRALS');
    expect(eyprg).toHaveLength(12 * 8);
    for (const c of eyprg) {
      expect(c.workerCode).toBeNull();
      expect(c.count >= 10 && c.count <= 25).toBe(true);
    }
  });

  it('gives every count a district and a period among the eight caseload terms', () => {
    const terms = new Set([
      '2025/26-T1',
      '2025/26-T2',
      '2025/26-T3',
      '2025/26-T4',
      '2025/26-T5',
      '2025/26-T6',
      '2026/27-T1',
      '2026/27-T2',
    ]);
    const districts = new Set(data.districts.map((d) => d.onsCode));
    expect(counts.filter((c) => !districts.has(c.districtCode) || !terms.has(c.periodCode))).toEqual([]);
  });
});

// sha256 of JSON.stringify(generateDemoData(886)). A change here means the demo data changed: check why, then update.
const EXPECTED_SHA256 = '902c290a426af7ce553a5a0919e391664ed71497097e49cbc4a13d4286ddfb86';
