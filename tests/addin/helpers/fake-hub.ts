/**
 * A small GraphQL hub for the add-in tests: the SDL follows the planned server API (it is replaced by the
 * real hub via tests/helpers/hub.ts once that exists; see hub-under-test.ts). Resolvers run over an
 * in-memory data set with the same rules the add-in depends on: paging, STALE_VERSION, all-or-nothing,
 * dry runs, idempotency keys and per-row userErrors.
 */
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The hub's emitted SDL: the fake answers exactly the schema the real server publishes. */
const SDL_PATH = [join(__dirname, '../../../schema/schema.graphql'), join(process.cwd(), 'schema/schema.graphql')].find(
  (p) => existsSync(p),
)!;
export const FAKE_SDL = readFileSync(SDL_PATH, 'utf8');

const pence = (s: string) => Math.round(Number(s) * 100);
const money = (p: number) =>
  `${p < 0 ? '-' : ''}${Math.floor(Math.abs(p) / 100)}.${String(Math.abs(p) % 100).padStart(2, '0')}`;

export interface FakeAllocation {
  id: string;
  schoolUrn: number;
  communityCode: string;
  term: string;
  amount: string;
  purpose: string;
  status: string;
  version: number;
}

export interface FakeHubOptions {
  schools?: number;
}

export interface FakeScenario {
  id: string;
  name: string;
  state: string;
  version: number;
  owner: string;
  ownerName: string;
  protectionRate: string;
  basedOnScenarioId: string | null;
  updatedAt: string;
}

/** Two scenarios every fake hub has: protection at 60% and at 50% (record: 75%). */
export const SCENARIO_60 = '5c000000-0000-4000-8000-000000000060';
export const SCENARIO_50 = '5c000000-0000-4000-8000-000000000050';
/** Funding terms the fake models. */
export const FAKE_TERMS = ['SUMMER-2025', 'AUTUMN-2025'];

export class FakeHubData {
  schools: any[] = [];
  communities = [
    { code: 'ASH-01', name: 'Ashford North', districtCode: 'E07000105' },
    { code: 'ASH-02', name: 'Ashford South', districtCode: 'E07000105' },
  ];
  pots = new Map<string, string>([
    ['ASH-01|SUMMER-2025', '500000.00'],
    ['ASH-02|SUMMER-2025', '400000.00'],
    ['ASH-01|AUTUMN-2025', '520000.00'],
  ]);
  allocations: FakeAllocation[] = [];
  tokens: Record<string, { name: string; role: string; communityCode: string | null }> = {
    'finance-token': { name: 'Fiona Finance', role: 'FINANCE', communityCode: null },
    'chair-token': { name: 'Chris Chair', role: 'CHAIR', communityCode: 'ASH-01' },
    'analyst-token': { name: 'Ana Analyst', role: 'ANALYST', communityCode: null },
    'subgroup-token': { name: 'Sam Subgroup', role: 'SUBGROUP', communityCode: null },
  };
  scenarios = new Map<string, FakeScenario>([
    [
      SCENARIO_60,
      {
        id: SCENARIO_60,
        name: 'Protection 60%',
        state: 'SHARED',
        version: 2,
        owner: 'finance',
        ownerName: 'Fiona Finance',
        protectionRate: '0.60',
        basedOnScenarioId: null,
        updatedAt: '2025-06-01T08:00:00.000Z',
      },
    ],
    [
      SCENARIO_50,
      {
        id: SCENARIO_50,
        name: 'Protection 50%',
        state: 'PRIVATE',
        version: 2,
        owner: 'finance',
        ownerName: 'Fiona Finance',
        protectionRate: '0.50',
        basedOnScenarioId: null,
        updatedAt: '2025-06-01T07:00:00.000Z',
      },
    ],
  ]);
  idempotency = new Map<string, { payload: string; result: any }>();
  submits = 0;
  constructor(n = 24) {
    for (let i = 0; i < n; i++) {
      const urn = 118000 + i;
      this.schools.push({
        urn,
        laestab: 8862000 + i,
        name: `School ${i + 1}`,
        phase: i % 5 === 0 ? 'SECONDARY' : 'PRIMARY',
        type: 'ACADEMY',
        status: 'OPEN',
        openDate: '2010-09-01',
        closeDate: null,
        districtCode: 'E07000105',
        postcode: `TN2${i % 10} 1AA`,
        pupilsOnRoll: 200 + i,
        percentFsm: '18.50',
        srpCapacity: i % 7 === 0 ? 12 : null,
        srpOnRoll: i % 7 === 0 ? 10 : null,
        communityCode: i % 2 === 0 ? 'ASH-01' : 'ASH-02',
      });
    }
    let id = 1;
    for (const s of this.schools.slice(0, 6)) {
      this.allocations.push({
        id: String(id++),
        schoolUrn: s.urn,
        communityCode: s.communityCode,
        term: 'SUMMER-2025',
        amount: `${10000 + (s.urn % 100) * 100}.00`,
        purpose: 'Inclusion support',
        status: 'APPROVED',
        version: 1,
      });
    }
  }
  /**
   * A school's funding of record, or under a scenario's protection rate. Secondary schools have no protection
   * (rate 0 either way), so a scenario leaves their figures unchanged: comparison() omits them unless
   * includeUnchanged.
   */
  funding(urn: number, term: string, protectionRate?: string) {
    const base = 30000 + (urn % 1000) * 10;
    const protectedTerm = term.endsWith('2025') || term === 'SPRING-2026' || term === 'SUMMER-2026';
    const secondary = this.byUrn().get(urn)?.phase === 'SECONDARY';
    const rate = !protectedTerm || secondary ? 0 : protectionRate !== undefined ? Number(protectionRate) : 0.75;
    const prot = Math.round(base * rate * 100);
    const share = (urn % 50) * 10000;
    return {
      baseline: money(base * 100),
      protectionRate: rate.toFixed(4),
      protectedAmount: money(prot),
      communityShare: money(share),
      // A banded top-up whose band counts are hidden by disclosure control is null, and so is the total.
      bandedTopUp: this.suppressedBanding.has(urn) ? null : '0.00',
      bandedTopUpSuppressed: this.suppressedBanding.has(urn),
      total: this.suppressedBanding.has(urn) ? null : money(prot + share),
    };
  }
  /**
   * A scenario's block for 2026-27 and 2027-28: two lines a year (special schools driven by the protection
   * rate's stand-in, central services given), income, the DSG position, and one missing driver. Record: 75%.
   */
  scenarioBlock(sc: { protectionRate: string }) {
    const years = ['2026-27', '2027-28'];
    const special = (rate: string, k: number) => 100_000_000_00 + k * 5_000_000_00 + Math.round(Number(rate) * 1e9);
    const line = (rate: string, fy: string, k: number) =>
      [
        {
          lineCode: 'SPECIAL_SCHOOLS',
          name: 'Special schools: places and top-ups',
          amount: money(special(rate, k)),
          modelled: true,
          memo: false,
        },
        {
          lineCode: 'CENTRAL_SEN_SERVICES',
          name: 'Central SEN support and inclusion services',
          amount: money(20_000_000_00),
          modelled: false,
          memo: false,
        },
        {
          lineCode: 'NOTIONAL_SEN',
          name: 'Notional SEN budgets (memo)',
          amount: money(90_000_000_00),
          modelled: true,
          memo: true,
        },
      ].map((l) => ({ ...l, fy }));
    const income = 115_000_000_00;
    const position = (rate: string) => {
      let cumulative = -50_000_000_00;
      return years.map((fy, k) => {
        const lines = line(rate, fy, k);
        const spend = lines.filter((l) => !l.memo).reduce((n, l) => n + pence(l.amount), 0);
        cumulative += income - spend;
        return { fy, lines, spend, inYear: income - spend, cumulative };
      });
    };
    const mine = position(sc.protectionRate);
    const rec = position('0.75');
    const plan = [-52_000_000_00, -40_000_000_00];
    return {
      years: mine.map((y, k) => ({
        financialYear: y.fy,
        lines: y.lines.map(({ fy: _fy, ...l }) => l),
        spend: money(y.spend),
        income: {
          highNeedsAllocation: money(98_000_000_00),
          schoolsBlockTransfer: money(17_000_000_00),
          schoolsBlockTransferRate: '0.012',
          safetyValveDfe: money(0),
          laContribution: money(0),
          total: money(income),
        },
        inYear: money(y.inYear),
        cumulative: money(y.cumulative),
        planInYear: k === 0 ? null : money(plan[1] - plan[0]),
        planCumulative: money(plan[k]),
        recordInYear: money(rec[k].inYear),
        recordCumulative: money(rec[k].cumulative),
        cumulativeAgainstPlan: money(y.cumulative - plan[k]),
      })),
      trajectory: [
        {
          label: 'Brought forward (2026-03-31)',
          date: '2026-03-31',
          plan: money(-60_000_000_00),
          record: money(-50_000_000_00),
          scenario: money(-50_000_000_00),
        },
        ...mine.map((y, k) => ({
          label: `Mar ${2027 + k}`,
          date: `${2027 + k}-03-31`,
          plan: money(plan[k]),
          record: money(rec[k].cumulative),
          scenario: money(y.cumulative),
        })),
      ],
      missingDrivers: [
        {
          kind: 'PLACES',
          setting: 'SPECIAL',
          schoolUrn: 118010,
          period: '2027/28',
          message: 'No place numbers for school 118010 (SPECIAL) in 2027/28: its place funding is not counted.',
        },
      ],
      comparison: {
        blockLines: mine.flatMap((y, k) =>
          y.lines.map((l, j) => ({
            key: l.lineCode,
            period: y.fy,
            baseline: rec[k].lines[j].amount,
            scenario: l.amount,
            difference: money(pence(l.amount) - pence(rec[k].lines[j].amount)),
          })),
        ),
        dsg: mine.flatMap((y, k) =>
          (
            [
              ['INCOME', income, income],
              ['SPEND', rec[k].spend, y.spend],
              ['IN_YEAR', rec[k].inYear, y.inYear],
              ['CUMULATIVE', rec[k].cumulative, y.cumulative],
            ] as [string, number, number][]
          ).map(([key, b, m]) => ({
            key,
            period: y.fy,
            baseline: money(b),
            scenario: money(m),
            difference: money(m - b),
          })),
        ),
      },
    };
  }
  /** URNs whose banded top-up the hub suppresses (small band counts). */
  suppressedBanding = new Set<number>();
  private index?: { n: number; map: Map<number, any> };
  byUrn(): Map<number, any> {
    if (!this.index || this.index.n !== this.schools.length)
      this.index = { n: this.schools.length, map: new Map(this.schools.map((s) => [s.urn, s])) };
    return this.index.map;
  }
  /** A community's pot under a scenario: the pot of record scaled by the scenario's rate against 75%. */
  scenarioPot(code: string, term: string, protectionRate: string) {
    const amount = this.pots.get(`${code}|${term}`);
    return amount === undefined ? undefined : money(Math.round((pence(amount) * Number(protectionRate)) / 0.75));
  }
  allocated(community: string, term: string, rows = this.allocations) {
    return rows
      .filter((a) => a.communityCode === community && a.term === term && a.status === 'APPROVED')
      .reduce((p, a) => p + pence(a.amount), 0);
  }
}

function rootValue(d: FakeHubData, user: { name: string; role: string; communityCode: string | null }) {
  const community = (code: string) => {
    const c = d.communities.find((x) => x.code === code);
    if (!c) return null;
    return {
      ...c,
      primaryDistrictCode: c.districtCode,
      schools: () => d.schools.filter((s) => s.communityCode === code).map(school),
      pot: ({ term }: { term: string }) => {
        const amount = d.pots.get(`${code}|${term}`);
        if (!amount) return null;
        const alloc = d.allocated(code, term);
        return {
          communityCode: code,
          term,
          amount,
          approved: money(alloc),
          proposed: '0.00',
          remaining: money(pence(amount) - alloc),
        };
      },
    };
  };
  const school = (s: any) => ({
    ...s,
    district: { code: s.districtCode, name: 'Ashford' },
    community: () => community(s.communityCode),
    caseloads: () => [],
    funding: ({ term }: { term: string }) =>
      /^(SUMMER|AUTUMN|SPRING)-20\d\d$/.test(term) ? d.funding(s.urn, term) : null,
    notionalSenBudget: ({ financialYear }: { financialYear: string }) => ({
      total: money(50000 + (s.urn % 100)),
      factors: [
        { factor: 'BASIC_ENTITLEMENT', formulaAmount: '100000.00', senPercentage: '0.0500', senAmount: '5000.00' },
      ],
      year: financialYear,
    }),
  });
  const requireModeller = () => {
    if (user.role !== 'FINANCE' && user.role !== 'SUBGROUP') {
      throw Object.assign(new Error('Scenarios are for the High Needs Funding Sub-Group and Finance.'), {
        code: 'FORBIDDEN',
      });
    }
  };
  const scenario = (sc: FakeScenario) => {
    const terms = (term?: string | null) => (term ? [term] : FAKE_TERMS);
    const schoolRows = (term?: string | null, communityCode?: string | null) =>
      terms(term).flatMap((t) =>
        d.schools
          .filter((s) => !communityCode || s.communityCode === communityCode)
          .map((s) => {
            const f = d.funding(s.urn, t, sc.protectionRate);
            return {
              schoolUrn: s.urn,
              communityCode: s.communityCode,
              term: t,
              baseline: f.baseline,
              protectedAmount: f.protectedAmount,
              communityShare: f.communityShare,
              bandedTopUp: f.bandedTopUp,
              total: f.total,
            };
          }),
      );
    const sum = (rows: any[], k: string) => money(rows.reduce((n, r) => n + pence(r[k]), 0));
    return {
      ...sc,
      baseParameterVersion: 1,
      overrides: { protectionRate: sc.protectionRate },
      parameters: { protectionRate: sc.protectionRate },
      createdAt: sc.updatedAt,
      results: ({ term, communityCode }: { term?: string | null; communityCode?: string | null }) => {
        const schools = schoolRows(term, communityCode);
        const communities = terms(term).flatMap((t) =>
          d.communities
            .filter((c) => !communityCode || c.code === communityCode)
            .flatMap((c) => {
              const pot = d.scenarioPot(c.code, t, sc.protectionRate);
              return pot === undefined ? [] : [{ communityCode: c.code, term: t, pot, allocated: pot }];
            }),
        );
        const block = d.scenarioBlock(sc);
        return {
          schools,
          communities,
          blockLines: [],
          years: block.years,
          trajectory: block.trajectory,
          missingDrivers: block.missingDrivers,
          computeMs: 1,
          totals: {
            protectedAmount: sum(schools, 'protectedAmount'),
            communityShare: sum(schools, 'communityShare'),
            bandedTopUp: sum(schools, 'bandedTopUp'),
            total: sum(schools, 'total'),
          },
        };
      },
      comparison: ({ term, includeUnchanged }: { term?: string | null; includeUnchanged: boolean }) => {
        const rows = schoolRows(term).map((r) => {
          const record = d.funding(r.schoolUrn, r.term).total ?? '0.00';
          return {
            schoolUrn: r.schoolUrn,
            term: r.term,
            baseline: record,
            scenario: r.total,
            difference: money(pence(r.total ?? '0.00') - pence(record)),
          };
        });
        const total = {
          key: 'TOTAL',
          period: term ?? 'ALL',
          baseline: sum(rows, 'baseline'),
          scenario: sum(rows, 'scenario'),
          difference: sum(rows, 'difference'),
        };
        return {
          against: 'RECORD',
          schools: includeUnchanged ? rows : rows.filter((r) => r.difference !== '0.00'),
          communities: [],
          blockLines: d
            .scenarioBlock(sc)
            .comparison.blockLines.filter((c: any) => includeUnchanged || c.difference !== '0.00'),
          dsg: d.scenarioBlock(sc).comparison.dsg.filter((c: any) => includeUnchanged || c.difference !== '0.00'),
          total,
        };
      },
    };
  };
  return {
    me: () => ({ ...user, via: 'TOKEN' }),
    schools: ({ first = 100, after, filter }: any) => {
      let list = d.schools;
      if (filter?.communityCode) list = list.filter((s) => s.communityCode === filter.communityCode);
      if (filter?.phase?.length) list = list.filter((s) => filter.phase.includes(s.phase));
      const start = after ? Number(Buffer.from(after, 'base64').toString()) : 0;
      const page = list.slice(start, start + Math.min(first, 1000));
      const end = start + page.length;
      return {
        totalCount: list.length,
        pageInfo: {
          hasNextPage: end < list.length,
          endCursor: page.length ? Buffer.from(String(end)).toString('base64') : null,
        },
        nodes: page.map(school),
      };
    },
    schoolsByUrn: ({ urns }: { urns: number[] }) => {
      const by = new Map(d.schools.map((s) => [s.urn, s]));
      return urns.map((u) => (by.has(u) ? school(by.get(u)) : null));
    },
    community: ({ code }: { code: string }) => community(code),
    communities: ({ districtCode }: any) =>
      d.communities.filter((c) => !districtCode || c.districtCode === districtCode).map((c) => community(c.code)),
    districts: () => [{ onsCode: 'E07000105', name: 'Ashford' }],
    periods: () => ({
      financialYears: [{ code: '2025-26' }],
      fundingTerms: [
        { code: 'SUMMER-2025', name: 'Summer 2025', closed: false },
        { code: 'AUTUMN-2025', name: 'Autumn 2025', closed: false },
      ],
      schoolTerms: [{ code: '2025/26-T1' }],
    }),
    highNeedsBlock: () => ({
      totalBudget: '342700000.00',
      totalForecast: '389000000.00',
      lines: [
        {
          lineCode: 'COMMUNITY_POTS',
          name: 'Community pots',
          budget: '30000000.00',
          forecast: '31000000.00',
          outturn: null,
          memo: null,
        },
      ],
    }),
    safetyValve: () => ({
      agreement: null,
      reports: [
        {
          periodCode: '2023-24 Q4',
          inYearPlan: '-10000000.00',
          inYearForecast: '-12000000.00',
          cumulativePlan: '-80000000.00',
          cumulativeForecast: '-85000000.00',
          kpis: [{ kpiCode: 'EHCP_TOTAL', name: 'EHCPs', unit: 'count', plan: '19000', actual: '20100' }],
        },
        {
          periodCode: '2024-25 Q4',
          inYearPlan: '-5000000.00',
          inYearForecast: '-9000000.00',
          cumulativePlan: '-60000000.00',
          cumulativeForecast: '-72000000.00',
          kpis: [],
        },
      ],
    }),
    caseloads: ({ kind, period, groupBy }: any) => ({
      kind,
      groupBy,
      disclosureControlled: true,
      totals: [],
      rows: [
        { key: 'LW-001', label: 'Link worker 1', period: period ?? '2025/26-T1', count: 12, suppressed: false },
        {
          key: 'LW-002',
          label: 'Link worker 2',
          period: period ?? '2025/26-T1',
          count: user.role === 'FINANCE' ? 3 : null,
          suppressed: user.role !== 'FINANCE',
        },
      ],
    }),
    allocations: ({ filter, first, offset }: any) => {
      const all = d.allocations
        .filter(
          (a) =>
            (!filter?.communityCode || a.communityCode === filter.communityCode) &&
            (!filter?.term || a.term === filter.term) &&
            (!filter?.status || filter.status.includes(a.status)),
        )
        .map((a) => ({ ...a, editable: true, school: () => school(d.schools.find((s) => s.urn === a.schoolUrn)) }));
      return { totalCount: all.length, nodes: all.slice(offset, offset + first) };
    },
    scenario: ({ id }: { id: string }) => {
      requireModeller();
      const sc = d.scenarios.get(id.toLowerCase());
      return sc ? scenario(sc) : null;
    },
    scenarios: () => {
      requireModeller();
      return [...d.scenarios.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).map(scenario);
    },
    createScenario: ({ name, basedOn }: { name: string; basedOn?: string | null }) => {
      requireModeller();
      const from = basedOn ? d.scenarios.get(basedOn) : undefined;
      const id = `5c000000-0000-4000-8000-${String(d.scenarios.size + 1).padStart(12, '0')}`;
      const sc: FakeScenario = {
        id,
        name,
        state: 'PRIVATE',
        version: 1,
        owner: user.name,
        ownerName: user.name,
        protectionRate: from?.protectionRate ?? '0.75',
        basedOnScenarioId: from?.id ?? null,
        updatedAt: new Date().toISOString(),
      };
      d.scenarios.set(id, sc);
      return scenario(sc);
    },
    updateScenarioParameters: ({
      id,
      parameters,
      baseVersion,
    }: {
      id: string;
      parameters: { protectionRate?: string };
      baseVersion?: number | null;
    }) => {
      requireModeller();
      const sc = d.scenarios.get(id);
      if (!sc) throw Object.assign(new Error(`No scenario "${id}" that you can see.`), { code: 'NOT_FOUND' });
      if (baseVersion != null && baseVersion !== sc.version)
        throw Object.assign(new Error('Scenario changed since you read it'), { code: 'CONFLICT' });
      if (parameters.protectionRate != null) sc.protectionRate = parameters.protectionRate;
      sc.version++;
      sc.updatedAt = new Date().toISOString();
      return scenario(sc);
    },
    submitAllocations: ({ input }: any) => submit(d, user, input),
  };
}

function submit(d: FakeHubData, user: { role: string; communityCode: string | null }, input: any) {
  d.submits++;
  const payloadKey = JSON.stringify({ ...input, idempotencyKey: undefined });
  if (!input.dryRun) {
    const seen = d.idempotency.get(input.idempotencyKey);
    if (seen) {
      if (seen.payload !== payloadKey)
        throw Object.assign(new Error('idempotency key reused with a different payload'), { code: 'CONFLICT' });
      return { ...seen.result, replayed: true };
    }
  }
  const next = d.allocations.map((a) => ({ ...a }));
  const results: any[] = [];
  const seenKeys = new Set<string>();
  input.rows.forEach((r: any, index: number) => {
    const errors: any[] = [];
    const key = `${r.schoolUrn}|${r.term}|${r.purpose ?? ''}`;
    if (seenKeys.has(key))
      errors.push({ code: 'DUPLICATE_ROW', field: null, message: 'same school, term and purpose twice' });
    seenKeys.add(key);
    const school = d.schools.find((s) => s.urn === r.schoolUrn);
    if (!school) errors.push({ code: 'NOT_FOUND', field: 'schoolUrn', message: `no school ${r.schoolUrn}` });
    else if (school.communityCode !== r.communityCode)
      errors.push({
        code: 'NOT_MEMBER',
        field: 'communityCode',
        message: `${r.schoolUrn} is not in ${r.communityCode}`,
      });
    if (!/^\d+(\.\d{1,2})?$/.test(r.amount) || Number(r.amount) > 10_000_000)
      errors.push({
        code: 'BAD_AMOUNT',
        field: 'amount',
        message: 'amount must be 0 to 10,000,000 with at most 2 decimals',
      });
    if (user.role !== 'FINANCE' && (r.status === 'APPROVED' || user.communityCode !== r.communityCode))
      errors.push({ code: 'FORBIDDEN', field: 'status', message: `${user.role} may not write this` });
    const existing = next.find((a) => `${a.schoolUrn}|${a.term}|${a.purpose}` === key);
    const before = existing ? { amount: existing.amount, status: existing.status, version: existing.version } : null;
    if (existing && r.baseVersion !== existing.version) {
      errors.push({
        code: 'STALE_VERSION',
        field: 'baseVersion',
        message: `changed by someone else (now v${existing.version})`,
        theirs: { ...before },
      });
    } else if (!existing && r.baseVersion != null) {
      errors.push({ code: 'NOT_FOUND', field: 'baseVersion', message: 'allocation no longer exists' });
    }
    if (errors.length)
      return results.push({
        index,
        result: 'REJECTED',
        allocationId: existing?.id ?? null,
        version: existing?.version ?? null,
        before,
        after: null,
        userErrors: errors,
      });
    if (existing) {
      if (existing.amount === r.amount && existing.status === r.status)
        return results.push({
          index,
          result: 'UNCHANGED',
          allocationId: existing.id,
          version: existing.version,
          before,
          after: { ...before },
          userErrors: [],
        });
      existing.amount = r.amount;
      existing.status = r.status;
      existing.version++;
      results.push({
        index,
        result: 'UPDATED',
        allocationId: existing.id,
        version: existing.version,
        before,
        after: { amount: r.amount, status: r.status, version: existing.version },
        userErrors: [],
      });
    } else {
      const a = {
        id: String(next.length + 100),
        schoolUrn: r.schoolUrn,
        communityCode: r.communityCode,
        term: r.term,
        amount: r.amount,
        purpose: r.purpose ?? '',
        status: r.status,
        version: 1,
      };
      next.push(a);
      results.push({
        index,
        result: 'CREATED',
        allocationId: a.id,
        version: 1,
        before: null,
        after: { amount: r.amount, status: r.status, version: 1 },
        userErrors: [],
      });
    }
  });
  const pairs = [...new Set(input.rows.map((r: any) => `${r.communityCode}|${r.term}`))] as string[];
  const totals = pairs.map((p) => {
    const [c, t] = p.split('|');
    return {
      communityCode: c,
      term: t,
      pot: d.pots.get(p) ?? '0.00',
      approvedBefore: money(d.allocated(c, t)),
      approvedAfter: money(d.allocated(c, t, next)),
    };
  });
  const rejected = results.some((r) => r.result === 'REJECTED');
  const applied = !rejected && !input.dryRun;
  if (applied) d.allocations = next;
  const count = (k: string) => results.filter((r) => r.result === k).length;
  const summary = {
    created: count('CREATED'),
    updated: count('UPDATED'),
    unchanged: count('UNCHANGED'),
    rejected: count('REJECTED'),
  };
  const result = {
    applied,
    dryRun: input.dryRun,
    replayed: false,
    idempotencyKey: input.idempotencyKey,
    results,
    totals: totals.map((t) => ({ ...t, remainingAfter: money(pence(t.pot) - pence(t.approvedAfter)) })),
    summary,
  };
  if (!input.dryRun && applied) d.idempotency.set(input.idempotencyKey, { payload: payloadKey, result });
  return result;
}

export class FakeHub {
  readonly schema: GraphQLSchema = buildSchema(FAKE_SDL);
  /** HTTP-level request count, as the add-in would cause it. */
  requests = 0;
  lastQueries: string[] = [];
  /** When set, requests never answer (the "hub hangs" case). */
  hang = false;
  constructor(readonly data = new FakeHubData()) {}

  async handle(
    body: { query: string; variables?: Record<string, unknown> },
    authorization?: string | null,
  ): Promise<{ status: number; json: any }> {
    this.requests++;
    this.lastQueries.push(body.query);
    if (this.hang) return new Promise(() => undefined);
    const token = authorization?.replace(/^Bearer\s+/i, '') ?? '';
    const user = this.data.tokens[token];
    if (!user)
      return {
        status: 401,
        json: { errors: [{ message: 'Token expired or unknown', extensions: { code: 'UNAUTHENTICATED' } }] },
      };
    const res = await graphql({
      schema: this.schema,
      source: body.query,
      variableValues: body.variables,
      rootValue: rootValue(this.data, user),
    });
    const errors = res.errors?.map((e) => ({
      message: e.message,
      path: e.path,
      extensions: {
        code: (e.originalError as any)?.code ?? (e.path ? 'INTERNAL_SERVER_ERROR' : 'GRAPHQL_VALIDATION_FAILED'),
      },
    }));
    return { status: 200, json: { data: res.data ?? null, ...(errors?.length ? { errors } : {}) } };
  }

  /** What GET /auth/config answers: set `oidc` to offer "Sign in with Microsoft". */
  authConfig: { oidc: { issuer: string; audience: string; clientId: string } | null } = { oidc: null };

  /** A fetch implementation that answers in-process (for Node tests). */
  fetch: typeof fetch = (async (url: any, init: any) => {
    if (String(url).endsWith('/auth/config'))
      return new Response(JSON.stringify(this.authConfig), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    const headers = init.headers as Record<string, string>;
    const r = await this.handle(JSON.parse(init.body), headers.authorization);
    return new Response(JSON.stringify(r.json), { status: r.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;

  async listen(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.url?.split('?')[0] === '/auth/config') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(this.authConfig));
      }
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        const r = await this.handle(JSON.parse(body || '{}'), req.headers.authorization);
        res.writeHead(r.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(r.json));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as any).port;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  }
}
