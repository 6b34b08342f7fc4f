/**
 * Deterministic Kent demo data: the same seed gives byte-for-byte the same rows on every run and machine
 * (seeded PRNG, no clock, no Math.random). Rows are plain objects keyed by entity property names.
 *
 * Structure and magnitudes follow /work/shared/DOMAIN.md; figures are estimates, not Kent's real data.
 * Money is built from whole-pound rates and integer counts with decimal.js, then rounded to the penny
 * through the funding model (server/modules/funding/model.ts), so the consistency rules hold exactly:
 *   - each line the model makes (MODEL_LINES in server/modules/funding/block.ts: pots, protection, banded
 *     top-ups, notional SEN) has as its budget the sum of its figures over the financial year
 *   - a term's community pots sum to its pot total; a community's school shares sum to its pot.
 *
 * Beyond the brief's period list, FY 2023-24 is held (the Safety Valve reports start in it) and academic
 * year 2023/24 (Summer 2024 belongs to it); 2027/28 has T1-T4 only, as T5-T6 fall after Spring 2028.
 */
import { membersOn } from '../modules/community/membership';
import Decimal from 'decimal.js';
import type { Area, District } from '../modules/geography/geography.entity';
import type { Community, CommunityMembership } from '../modules/community/community.entity';
import { Phase, SchoolStatus, SchoolType, type School } from '../modules/school/school.entity';
import { SettingKind, type EarlyYearsSetting } from '../modules/early-years/early-years.entity';
import {
  Season,
  type AcademicYear,
  type FinancialYear,
  type FundingTerm,
  type SchoolTerm,
} from '../modules/period/period.entity';
import {
  NotionalSenFactorCode,
  type CommunityPot,
  type EhcpBandCount,
  type HighNeedsBlockLine,
  type NotionalSenFactor,
  type SchoolTermFunding,
} from '../modules/funding/funding.entity';
import type {
  BlockForecastSnapshot,
  SafetyValveAgreement,
  SafetyValveInstalment,
  SafetyValveKpi,
  SafetyValvePlanYear,
  SafetyValveReport,
} from '../modules/safety-valve/safety-valve.entity';
import type { DsgIncomeYear, Placement, PlaceNumber, TopUpCount } from '../modules/funding/block.entity';
import {
  BLOCK_LINES,
  dsgAsReported,
  type BlockDrivers,
  type IncomeDrivers,
  type Instalment,
  type InstalmentStatus,
  type Provider,
} from '../modules/funding/block';
import { CaseloadKind, WorkerRole, type CaseloadCount, type CaseloadWorker } from '../modules/caseload/caseload.entity';
import {
  BANDS,
  DEFAULT_MODEL_PARAMETERS,
  bandingApplies,
  money,
  type Band,
  type ModelParameters,
  type PlacementKind,
} from '../modules/funding/model';
import { computeFunding } from '../modules/funding/engine';
import { AREAS, DISTRICTS, FIRST_NAMES, LA_CODE, SAINTS, SURNAMES, type DistrictRef } from './kent';
import { Random } from './random';
import type { WithProvenance } from '../common/provenance';

/** An entity's columns as a plain object (no class identity, no relation properties). */
type Row<T> = { [K in keyof T]: T[K] };
/** A figure of record whose provenance columns the loader may leave to their defaults (COMPUTED, no file). */
type FigureRow<T> = Omit<Row<T>, keyof Provenance> & Partial<Provenance>;
type Provenance = InstanceType<typeof WithProvenance>;
/** A block line's provenance columns (the entity holds them embedded as `source`). */
interface BlockLineSource {
  sourceKind: 'COMPUTED' | 'IMPORTED' | 'MANUAL';
  sourceFile: string | null;
  sourceBy: string | null;
}

export interface DemoData {
  areas: Row<Area>[];
  districts: Row<District>[];
  financialYears: Row<FinancialYear>[];
  academicYears: Row<AcademicYear>[];
  fundingTerms: Row<FundingTerm>[];
  schoolTerms: Row<SchoolTerm>[];
  schools: Row<School>[];
  communities: Row<Community>[];
  /** Without `id`: the database assigns it. */
  communityMemberships: Omit<Row<CommunityMembership>, 'id'>[];
  earlyYearsSettings: Row<EarlyYearsSetting>[];
  notionalSenFactors: FigureRow<NotionalSenFactor>[];
  schoolTermFunding: FigureRow<SchoolTermFunding>[];
  communityPots: FigureRow<CommunityPot>[];
  highNeedsBlockLines: (FigureRow<HighNeedsBlockLine> & BlockLineSource)[];
  ehcpBandCounts: Row<EhcpBandCount>[];
  placeNumbers: Row<PlaceNumber>[];
  topUpCounts: Row<TopUpCount>[];
  placements: Row<Placement>[];
  dsgIncomeYears: Row<DsgIncomeYear>[];
  safetyValveAgreements: Row<SafetyValveAgreement>[];
  safetyValvePlanYears: Row<SafetyValvePlanYear>[];
  safetyValveInstalments: Row<SafetyValveInstalment>[];
  blockForecastSnapshots: Row<BlockForecastSnapshot>[];
  safetyValveReports: Row<SafetyValveReport>[];
  safetyValveKpis: Row<SafetyValveKpi>[];
  caseloadWorkers: Row<CaseloadWorker>[];
  /** Without `id`: the database assigns it. */
  caseloadCounts: Omit<Row<CaseloadCount>, 'id'>[];
}

export const DEFAULT_SEED = 886;
/** Communities of Schools went live on this day; memberships start here. */
export const COMMUNITIES_START = '2025-04-01';
/** Day the demo's community moves take effect (the full model starts). */
export const MOVE_DATE = '2026-09-01';
/** Terms before this day are closed for new allocations. */
const CLOSED_BEFORE = '2026-04-01';

/** 2023-24 is held because the Safety Valve reports start in it. */
export const FINANCIAL_YEARS = ['2023-24', '2024-25', '2025-26', '2026-27', '2027-28'] as const;
/** Notional SEN budgets are generated for these years. */
export const BUDGET_YEARS = ['2024-25', '2025-26', '2026-27', '2027-28'] as const;
/** The High Needs block and the DSG position run over these years (to the end of the Safety Valve agreement). */
export const BLOCK_YEARS = ['2023-24', '2024-25', '2025-26', '2026-27', '2027-28'] as const;
/** School funding and pots are generated for funding terms starting in this range. */
const FUNDED_TERMS_FROM = '2025-04-01';
/** Band counts drawn with the original stream end here; later terms carry them forward with their own stream. */
const FIRST_BAND_TERMS_TO = '2027-03-31';
const FUNDED_TERMS_TO = '2028-03-31';
/** Community pots of record are set for terms starting up to here. */
const POTS_SET_TO = '2027-03-31';

// Kent-style six-term calendars (estimates close to the published KCC dates).
const SCHOOL_TERM_DATES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  '2024/25': [
    ['2024-09-03', '2024-10-25'],
    ['2024-11-04', '2024-12-20'],
    ['2025-01-06', '2025-02-14'],
    ['2025-02-24', '2025-04-04'],
    ['2025-04-22', '2025-05-23'],
    ['2025-06-02', '2025-07-22'],
  ],
  '2025/26': [
    ['2025-09-03', '2025-10-24'],
    ['2025-11-03', '2025-12-19'],
    ['2026-01-05', '2026-02-13'],
    ['2026-02-23', '2026-03-27'],
    ['2026-04-13', '2026-05-22'],
    ['2026-06-01', '2026-07-22'],
  ],
  '2026/27': [
    ['2026-09-03', '2026-10-23'],
    ['2026-11-02', '2026-12-18'],
    ['2027-01-04', '2027-02-12'],
    ['2027-02-22', '2027-03-24'],
    ['2027-04-12', '2027-05-28'],
    ['2027-06-07', '2027-07-21'],
  ],
  '2027/28': [
    ['2027-09-02', '2027-10-22'],
    ['2027-11-01', '2027-12-17'],
    ['2028-01-04', '2028-02-11'],
    ['2028-02-21', '2028-03-31'],
    ['2028-04-18', '2028-05-26'],
    ['2028-06-05', '2028-07-21'],
  ],
};
/** School terms that carry caseload counts. */
export const CASELOAD_TERMS = [
  '2025/26-T1',
  '2025/26-T2',
  '2025/26-T3',
  '2025/26-T4',
  '2025/26-T5',
  '2025/26-T6',
  '2026/27-T1',
  '2026/27-T2',
] as const;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const fyCode = (y: number): string => `${y}-${pad((y + 1) % 100, 2)}`;
const ayCode = (y: number): string => `${y}/${pad((y + 1) % 100, 2)}`;
const isMainstream = (p: Phase): boolean => p === Phase.PRIMARY || p === Phase.SECONDARY || p === Phase.ALL_THROUGH;
/** Tenths (an integer) as a 2-dp decimal string: 234 -> "23.40". */
const tenths = (t: number): string => `${t < 0 ? '-' : ''}${Math.floor(Math.abs(t) / 10)}.${Math.abs(t) % 10}0`;
/** An integer count as a 2-dp decimal string. */
const whole = (n: number): string => `${n}.00`;
/** Rounds to a multiple of `unit` pounds (budgets are set in round figures). */
const roundTo = (d: Decimal, unit: number): Decimal =>
  d.dividedBy(unit).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(unit);

/** Splits an integer total in proportion to weights (largest remainder; ties to the earlier index). */
function splitInt(total: number, weights: readonly number[]): number[] {
  const w = weights.reduce((a, b) => a + b, 0);
  if (w === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const raw = weights.map((x) => (total * x) / w);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k][1]]++;
  return out;
}

function uniqueInt(r: Random, min: number, max: number, used: Set<number>): number {
  for (;;) {
    const v = r.int(min, max);
    if (!used.has(v)) {
      used.add(v);
      return v;
    }
  }
}

function postcode(r: Random, outward: string): string {
  const letters = 'ABDEFGHJLNPQRSTUWXYZ';
  return `${outward} ${r.int(1, 9)}${letters[r.int(0, letters.length - 1)]}${letters[r.int(0, letters.length - 1)]}`;
}

// ---------------------------------------------------------------------------------------------------------
// Periods

function generatePeriods() {
  const financialYears: Row<FinancialYear>[] = FINANCIAL_YEARS.map((code) => {
    const y = Number(code.slice(0, 4));
    return { code, startDate: `${y}-04-01`, endDate: `${y + 1}-03-31` };
  });
  // 2023/24 is needed because Summer 2024 belongs to it.
  const academicYears: Row<AcademicYear>[] = [2023, 2024, 2025, 2026, 2027].map((y) => ({
    code: ayCode(y),
    startDate: `${y}-09-01`,
    endDate: `${y + 1}-08-31`,
  }));
  const fundingTerms: Row<FundingTerm>[] = [];
  for (let y = 2024; y <= 2027; y++) {
    const shape: Array<[Season, number, string, string, string]> = [
      [Season.SUMMER, y, `${y}-04-01`, `${y}-08-31`, ayCode(y - 1)],
      [Season.AUTUMN, y, `${y}-09-01`, `${y}-12-31`, ayCode(y)],
      [Season.SPRING, y + 1, `${y + 1}-01-01`, `${y + 1}-03-31`, ayCode(y)],
    ];
    for (const [season, calYear, startDate, endDate, academicYearCode] of shape) {
      const label = season.charAt(0) + season.slice(1).toLowerCase();
      fundingTerms.push({
        code: `${season}-${calYear}`,
        name: `${label} ${calYear}`,
        season,
        startDate,
        endDate,
        financialYearCode: fyCode(y),
        academicYearCode,
        months: season === Season.SUMMER ? 5 : season === Season.AUTUMN ? 4 : 3,
        closed: endDate < CLOSED_BEFORE,
      });
    }
  }
  const schoolTerms: Row<SchoolTerm>[] = [];
  for (const [academicYearCode, dates] of Object.entries(SCHOOL_TERM_DATES)) {
    dates.forEach(([startDate, endDate], i) => {
      const ft = fundingTerms.find((t) => t.startDate <= startDate && startDate <= t.endDate);
      // 2027/28 T5-T6 fall in Summer 2028, beyond the last financial year held.
      if (!ft) return;
      schoolTerms.push({
        code: `${academicYearCode}-T${i + 1}`,
        academicYearCode,
        number: i + 1,
        startDate,
        endDate,
        fundingTermCode: ft.code,
      });
    });
  }
  return { financialYears, academicYears, fundingTerms, schoolTerms };
}

// ---------------------------------------------------------------------------------------------------------
// Schools and communities

interface SchoolMeta {
  district: DistrictRef;
  /** Community at COMMUNITIES_START (mainstream open schools only). */
  community: string | null;
}

const EST_TYPES: Record<string, ReadonlyArray<readonly [[SchoolType, string], number]>> = {
  PRIMARY: [
    [[SchoolType.MAINTAINED, 'Community school'], 30],
    [[SchoolType.MAINTAINED, 'Voluntary controlled school'], 10],
    [[SchoolType.MAINTAINED, 'Voluntary aided school'], 8],
    [[SchoolType.MAINTAINED, 'Foundation school'], 4],
    [[SchoolType.ACADEMY, 'Academy converter'], 32],
    [[SchoolType.ACADEMY, 'Academy sponsor led'], 13],
    [[SchoolType.FREE_SCHOOL, 'Free schools'], 3],
  ],
  SECONDARY: [
    [[SchoolType.MAINTAINED, 'Foundation school'], 8],
    [[SchoolType.MAINTAINED, 'Community school'], 3],
    [[SchoolType.MAINTAINED, 'Voluntary aided school'], 3],
    [[SchoolType.ACADEMY, 'Academy converter'], 55],
    [[SchoolType.ACADEMY, 'Academy sponsor led'], 25],
    [[SchoolType.FREE_SCHOOL, 'Free schools'], 6],
  ],
  ALL_THROUGH: [
    [[SchoolType.ACADEMY, 'Academy sponsor led'], 2],
    [[SchoolType.FREE_SCHOOL, 'Free schools'], 1],
  ],
};

function schoolName(r: Random, phase: Phase, estType: string, town: string, grammar: boolean): string {
  const saint = r.pick(SAINTS);
  switch (phase) {
    case Phase.PRIMARY:
      if (estType === 'Voluntary aided school')
        return r.pick([
          `${saint} Catholic Primary School, ${town}`,
          `${town} Church of England Primary School`,
          `${saint} Church of England Primary School, ${town}`,
        ]);
      if (estType === 'Voluntary controlled school')
        return r.pick([
          `${town} Church of England Primary School`,
          `${saint} Church of England Primary School, ${town}`,
        ]);
      if (estType === 'Free schools')
        return r.pick([
          `${town} Green Primary School`,
          `${town} Meadows Primary School`,
          `${town} Park Primary School`,
        ]);
      if (estType.startsWith('Academy'))
        return r.pick([
          `${town} Primary School`,
          `${town} Primary Academy`,
          `The ${town} Primary School`,
          `${town} Church of England Primary Academy`,
        ]);
      return r.pick([
        `${town} Primary School`,
        `${town} Community Primary School`,
        `${town} Infant School`,
        `${town} Junior School`,
      ]);
    case Phase.SECONDARY:
      if (grammar)
        return r.pick([`${town} Grammar School`, `${town} Grammar School for Girls`, `${town} Boys' Grammar School`]);
      if (estType === 'Voluntary aided school')
        return r.pick([`${saint} Catholic College`, `${saint} Church of England School, ${town}`]);
      if (estType === 'Free schools')
        return r.pick([`${town} Free School`, `${town} School of Science and Technology`]);
      return r.pick([
        `${town} Academy`,
        `The ${town} School`,
        `${town} High School`,
        `${town} Community College`,
        `${town} Church of England Academy`,
      ]);
    case Phase.ALL_THROUGH:
      return r.pick([`${town} All-Through Academy`, `${town} Learning Village`]);
    case Phase.SPECIAL:
      return `${town} ${r.pick(['Fields', 'Wood', 'Park', 'Bank', 'Meadow', 'Valley', 'Grove', 'Oaks'])} School`;
    default:
      return `${town} Alternative Provision Centre`;
  }
}

function generateSchools(r: Random) {
  const schools: Row<School>[] = [];
  const meta = new Map<number, SchoolMeta>();
  const usedUrn = new Set<number>();
  const usedUkprn = new Set<number>();
  const usedName = new Set<string>();
  const nextEstab: Record<string, number> = {
    PRIMARY: 2000,
    SECONDARY_ACADEMY: 4000,
    SECONDARY_MAINTAINED: 5400,
    SPECIAL: 7000,
    PRU: 1100,
  };
  const communities: Row<Community>[] = [];
  const sizes = new Map<string, number>();

  const fsm = (mean: number, sd: number): string => tenths(Math.round(r.normalClamped(mean, sd, 5, 45) * 10));

  const make = (
    phase: Phase,
    district: DistrictRef,
    towns: readonly string[],
    opts: { community: string | null; closed?: string; typePair?: [SchoolType, string] },
  ): Row<School> => {
    const [type, establishmentType] = opts.typePair ?? r.weighted(EST_TYPES[phase]);
    const grammar = phase === Phase.SECONDARY && type !== SchoolType.FREE_SCHOOL && r.chance(0.3);
    let name: string;
    for (let attempt = 0; ; attempt++) {
      const town = attempt < 12 ? r.pick(towns) : r.pick(district.communities.flatMap((c) => c.towns));
      name = schoolName(r, phase, establishmentType, town, grammar);
      if (!usedName.has(name)) break;
      if (attempt > 40) {
        name = `${name.replace(/ School$| Academy$/, '')} ${r.pick(['Oak', 'Beech', 'Willow', 'Hazel', 'Rowan', 'Chestnut'])} School`;
        if (!usedName.has(name)) break;
      }
    }
    usedName.add(name);
    const academy = type !== SchoolType.MAINTAINED;
    const urn = academy ? uniqueInt(r, 136000, 150999, usedUrn) : uniqueInt(r, 118000, 119999, usedUrn);
    const estabKey =
      phase === Phase.SECONDARY || phase === Phase.ALL_THROUGH
        ? academy
          ? 'SECONDARY_ACADEMY'
          : 'SECONDARY_MAINTAINED'
        : phase;
    nextEstab[estabKey] += r.int(1, 2);
    const laestab = LA_CODE * 10000 + nextEstab[estabKey];

    let pupilsOnRoll: number | null;
    let percentFsm: string | null;
    switch (phase) {
      case Phase.PRIMARY: {
        const fe = r.weighted([
          [0.5, 20],
          [1, 40],
          [1.5, 12],
          [2, 22],
          [3, 6],
        ] as const);
        pupilsOnRoll = Math.min(630, Math.max(90, Math.round(fe * 210 * r.normalClamped(0.93, 0.06, 0.75, 1.0))));
        percentFsm = fsm(district.fsmMean, 7);
        break;
      }
      case Phase.SECONDARY:
        pupilsOnRoll = Math.round(
          grammar ? r.normalClamped(1050, 150, 700, 1400) : r.normalClamped(1100, 300, 600, 1800),
        );
        percentFsm = grammar ? fsm(district.fsmMean * 0.3, 1.5) : fsm(district.fsmMean * 1.15, 6);
        break;
      case Phase.ALL_THROUGH:
        pupilsOnRoll = r.int(1200, 1900);
        percentFsm = fsm(district.fsmMean * 1.1, 5);
        break;
      case Phase.SPECIAL:
        pupilsOnRoll = Math.round(r.normalClamped(170, 60, 60, 300));
        percentFsm = fsm(38, 4);
        break;
      default:
        pupilsOnRoll = r.int(20, 120);
        percentFsm = fsm(41, 3);
    }
    let openDate: string | null = null;
    if (establishmentType === 'Free schools' || establishmentType === 'Free schools special')
      openDate = `${r.int(2013, 2022)}-09-01`;
    else if (academy) openDate = `${r.int(2011, 2024)}-${pad(r.pick([1, 4, 6, 9, 11]), 2)}-01`;
    if (opts.closed) {
      pupilsOnRoll = null;
      percentFsm = null;
    }
    const row: Row<School> = {
      urn,
      laestab,
      name,
      phase,
      type,
      establishmentType,
      status: opts.closed ? SchoolStatus.CLOSED : SchoolStatus.OPEN,
      openDate,
      closeDate: opts.closed ?? null,
      districtCode: district.onsCode,
      postcode: postcode(r, r.pick(district.outwardCodes)),
      ukprn: uniqueInt(r, 10000100, 10089999, usedUkprn),
      pupilsOnRoll,
      percentFsm,
      srpCapacity: null,
      srpOnRoll: null,
    };
    schools.push(row);
    meta.set(urn, { district, community: opts.community });
    return row;
  };

  // Mainstream schools, community by community.
  const allThroughCommunities = new Set(
    r.sample(
      DISTRICTS.flatMap((d) => d.communities.map((_, i) => `${d.abbr}-${pad(i + 1, 2)}`)),
      3,
    ),
  );
  for (const d of DISTRICTS) {
    d.communities.forEach((c, i) => {
      const code = `${d.abbr}-${pad(i + 1, 2)}`;
      const size = r.weighted([
        [8, 10],
        [9, 15],
        [10, 20],
        [11, 20],
        [12, 15],
        [13, 12],
        [14, 8],
      ] as const);
      const secondaries = r.weighted([
        [1, 25],
        [2, 50],
        [3, 25],
      ] as const);
      const allThrough = allThroughCommunities.has(code) ? 1 : 0;
      const members: Row<School>[] = [];
      for (let k = 0; k < secondaries; k++)
        members.push(make(Phase.SECONDARY, d, k === 0 ? [c.towns[0]] : c.towns, { community: code }));
      for (let k = 0; k < allThrough; k++) members.push(make(Phase.ALL_THROUGH, d, c.towns, { community: code }));
      for (let k = members.length; k < size; k++) members.push(make(Phase.PRIMARY, d, c.towns, { community: code }));
      sizes.set(code, size);
      const chair = r.pick(members);
      communities.push({
        code,
        name: `${c.locality} Community of Schools`,
        primaryDistrictCode: d.onsCode,
        areaCode: d.areaCode,
        chairName: `${r.pick(FIRST_NAMES)} ${r.pick(SURNAMES)}`,
        chairSchoolUrn: chair.urn,
        pcnName: `${c.locality} PCN`,
      });
    });
  }

  // Resourced provision in ~40 mainstream schools (about a third secondary).
  const mainstream = schools.slice();
  for (const s of r
    .sample(
      mainstream.filter((x) => x.phase === Phase.PRIMARY),
      28,
    )
    .concat(
      r.sample(
        mainstream.filter((x) => x.phase !== Phase.PRIMARY),
        12,
      ),
    )) {
    const cap = s.phase === Phase.PRIMARY ? r.pick([8, 10, 12, 15, 15, 20]) : r.pick([15, 20, 25, 30, 40]);
    s.srpCapacity = cap;
    s.srpOnRoll = Math.max(0, cap - r.int(-2, 4));
  }

  // 24 special schools (2 per district) and 10 PRUs, outside communities.
  const specialTypes = r.shuffle([
    ...Array<[SchoolType, string]>(14).fill([SchoolType.MAINTAINED, 'Community special school']),
    ...Array<[SchoolType, string]>(6).fill([SchoolType.ACADEMY, 'Academy special converter']),
    ...Array<[SchoolType, string]>(4).fill([SchoolType.FREE_SCHOOL, 'Free schools special']),
  ]);
  let t = 0;
  for (const d of DISTRICTS) {
    const towns = d.communities.flatMap((c) => c.towns);
    for (let k = 0; k < 2; k++) make(Phase.SPECIAL, d, towns, { community: null, typePair: specialTypes[t++] });
  }
  const pruTypes = r.shuffle([
    ...Array<[SchoolType, string]>(7).fill([SchoolType.MAINTAINED, 'Pupil referral unit']),
    ...Array<[SchoolType, string]>(3).fill([SchoolType.ACADEMY, 'Academy alternative provision converter']),
  ]);
  r.sample(DISTRICTS, 10).forEach((d, i) =>
    make(Phase.PRU, d, [d.communities[0].towns[0]], { community: null, typePair: pruTypes[i] }),
  );

  // Five primaries that closed before the communities started (amalgamations), so never members.
  const closeDates = ['2023-08-31', '2023-12-31', '2024-08-31', '2024-08-31', '2025-03-31'];
  for (const closeDate of closeDates) {
    const d = r.pick(DISTRICTS);
    make(Phase.PRIMARY, d, r.pick(d.communities).towns, {
      community: null,
      closed: closeDate,
      typePair: [SchoolType.MAINTAINED, 'Community school'],
    });
  }

  return { schools, meta, communities, sizes };
}

function generateMemberships(
  r: Random,
  schools: Row<School>[],
  meta: Map<number, SchoolMeta>,
  communities: Row<Community>[],
  sizes: Map<string, number>,
) {
  const memberships: Omit<Row<CommunityMembership>, 'id'>[] = [];
  const byUrn = new Map<number, Omit<Row<CommunityMembership>, 'id'>>();
  for (const s of schools) {
    const code = meta.get(s.urn)?.community;
    if (!code || s.status !== SchoolStatus.OPEN) continue;
    const m = { schoolUrn: s.urn, communityCode: code, effectiveFrom: COMMUNITIES_START, effectiveTo: null };
    memberships.push(m);
    byUrn.set(s.urn, m);
  }
  // A few schools move to a neighbouring community when the full model starts, within the 8-14 limits.
  const chairs = new Set(communities.map((c) => c.chairSchoolUrn));
  let moved = 0;
  for (const d of r.shuffle(DISTRICTS)) {
    if (moved === 4) break;
    const codes = d.communities.map((_, i) => `${d.abbr}-${pad(i + 1, 2)}`);
    const from = r.shuffle(codes).find((c) => sizes.get(c)! >= 9);
    const to = from && r.shuffle(codes).find((c) => c !== from && sizes.get(c)! <= 13);
    if (!from || !to) continue;
    const candidates = memberships.filter(
      (m) =>
        m.communityCode === from &&
        !chairs.has(m.schoolUrn) &&
        schools.find((s) => s.urn === m.schoolUrn)!.phase === Phase.PRIMARY,
    );
    const m = r.pick(candidates);
    byUrn.get(m.schoolUrn)!.effectiveTo = MOVE_DATE;
    memberships.push({ schoolUrn: m.schoolUrn, communityCode: to, effectiveFrom: MOVE_DATE, effectiveTo: null });
    sizes.set(from, sizes.get(from)! - 1);
    sizes.set(to, sizes.get(to)! + 1);
    moved++;
  }
  return memberships;
}

/** Members of each community on a day (the rule: community/membership.ts). */
export { membersOn };

// ---------------------------------------------------------------------------------------------------------
// Early years settings

function generateSettings(r: Random, schools: Row<School>[]) {
  const settings: Row<EarlyYearsSetting>[] = [];
  const used = new Set<number>();
  const weights = DISTRICTS.map((d) => [d, schools.filter((s) => s.districtCode === d.onsCode).length] as const);
  const groups = r.int(690, 720);
  const childminders = r.int(780, 830);
  const patterns = [
    (t: string) => `${t} Pre-School`,
    (t: string) => `${t} Day Nursery`,
    (t: string) => `Little Acorns Nursery, ${t}`,
    (t: string) => `${t} Playgroup`,
    (t: string) => `Rainbow Pre-School (${t})`,
    (t: string) => `Tiny Steps Nursery, ${t}`,
    (t: string) => `${t} Montessori Nursery School`,
    (t: string) => `${t} Children's Centre Nursery`,
    (t: string) => `${t} Village Pre-School`,
    (t: string) => `Busy Bears Nursery, ${t}`,
  ];
  for (let i = 0; i < groups + childminders; i++) {
    const d = r.weighted(weights);
    const group = i < groups;
    const urn = `EY${uniqueInt(r, group ? 200000 : 300000, group ? 299999 : 599999, used)}`;
    settings.push({
      urn,
      name: group ? r.pick(patterns)(r.pick(r.pick(d.communities).towns)) : `Childminder ${urn}`,
      kind: group ? SettingKind.GROUP : SettingKind.CHILDMINDER,
      districtCode: d.onsCode,
      postcodeDistrict: r.pick(d.outwardCodes),
    });
  }
  return settings;
}

// ---------------------------------------------------------------------------------------------------------
// Money

/** Formula rates per financial year (index into BUDGET_YEARS): whole pounds, estimates close to Kent's formula. */
const RATES = {
  basic: { primary: ['3800', '3895', '3980', '4060'], secondary: ['5400', '5535', '5655', '5770'] },
  fsm6: { primary: ['725', '745', '760', '775'], secondary: ['1060', '1085', '1110', '1130'] },
  idaci: { primary: ['470', '480', '490', '500'], secondary: ['520', '530', '545', '555'] },
  mobility: { primary: ['945', '970', '990', '1010'], secondary: ['1360', '1395', '1425', '1455'] },
  lpa: { primary: ['1170', '1200', '1225', '1250'], secondary: ['1775', '1820', '1860', '1900'] },
};

interface SchoolDrivers {
  fsm6Pupils: number;
  idaciPupils: number;
  mobilePupils: number;
  lpaPupils: number;
  mfgPerPupil: number;
  /** Previous individual high-needs funding for a full year, whole pounds. */
  annualBaseline: number;
}

function rate(kind: keyof typeof RATES, phase: Phase, y: number): Decimal {
  const r = RATES[kind];
  if (phase === Phase.PRIMARY) return new Decimal(r.primary[y]);
  if (phase === Phase.SECONDARY) return new Decimal(r.secondary[y]);
  return new Decimal(r.primary[y]).plus(r.secondary[y]).dividedBy(2);
}

function schoolDrivers(r: Random, s: Row<School>): SchoolDrivers {
  const pupils = s.pupilsOnRoll!;
  const fsm = Number(s.percentFsm) / 100;
  const primary = s.phase === Phase.PRIMARY;
  const annualBaseline = Math.round(
    Math.min(
      primary ? 200000 : 190000,
      Math.max(primary ? 12000 : 24000, r.logNormal(pupils * (primary ? 230 : 150), 0.5)),
    ) +
      (s.srpOnRoll ?? 0) * 1500,
  );
  return {
    fsm6Pupils: Math.round(pupils * fsm * r.normalClamped(1.3, 0.1, 1.05, 1.6)),
    idaciPupils: Math.round(pupils * fsm * r.normalClamped(1.0, 0.2, 0.5, 1.5)),
    mobilePupils: r.chance(0.4) ? Math.round((pupils * r.int(10, 60)) / 1000) : 0,
    lpaPupils: Math.round(pupils * (primary ? 0.12 : 0.09) * (0.8 + fsm * 1.5) * r.normalClamped(1, 0.1, 0.75, 1.25)),
    mfgPerPupil: r.chance(0.3) ? r.int(20, 200) : 0,
    annualBaseline,
  };
}

function factorAmounts(s: Row<School>, dr: SchoolDrivers, y: number): Record<NotionalSenFactorCode, string> {
  const p = s.phase;
  return {
    [NotionalSenFactorCode.BASIC_ENTITLEMENT]: money(rate('basic', p, y).times(s.pupilsOnRoll!)),
    [NotionalSenFactorCode.FSM_EVER6]: money(rate('fsm6', p, y).times(dr.fsm6Pupils)),
    [NotionalSenFactorCode.DEPRIVATION]: money(rate('idaci', p, y).times(dr.idaciPupils)),
    [NotionalSenFactorCode.MOBILITY]: money(rate('mobility', p, y).times(dr.mobilePupils)),
    [NotionalSenFactorCode.LOW_PRIOR_ATTAINMENT]: money(rate('lpa', p, y).times(dr.lpaPupils)),
    [NotionalSenFactorCode.MINIMUM_PER_PUPIL_MFG]: money(new Decimal(dr.mfgPerPupil).times(s.pupilsOnRoll!)),
  };
}

const BAND_MIX: ReadonlyArray<readonly [Band, number]> = [
  ['A', 30],
  ['B', 30],
  ['C', 20],
  ['D', 13],
  ['E', 7],
];
const SRP_BAND_MIX: ReadonlyArray<readonly [Band, number]> = [
  ['A', 5],
  ['B', 15],
  ['C', 35],
  ['D', 30],
  ['E', 15],
];

/** SRP pupils' bands: the mainstream draw mapped onto the SRP band set (R1-R4). */
const SRP_BAND_OF: Record<Band, string> = { A: 'R1', B: 'R1', C: 'R2', D: 'R3', E: 'R4' };
/** How special and AP pupils spread over their band sets from September 2026 (largest remainder, no draws). */
const SPECIAL_MIX: ReadonlyArray<readonly [string, number]> = [
  ['S1', 15],
  ['S2', 25],
  ['S3', 30],
  ['S4', 20],
  ['S5', 10],
];
const AP_MIX: ReadonlyArray<readonly [string, number]> = [
  ['P1', 40],
  ['P2', 40],
  ['P3', 20],
];
/** Before the banding start every specialist pupil is in one band at the setting's legacy rate. */
export const LEGACY_BAND = 'ALL';

/**
 * Placements outside Kent's schools. Independent and non-maintained special schools: 1,623 children at about
 * £49,259 in 2024-25 (Greatest Hits Radio, 8 Nov 2024); other years and FE are estimates. OTHER_LA: Kent's
 * children in other authorities' schools at the top-up Kent pays (estimates, set so count x unit cost is within
 * £0.1m of the given budgets the line had: £17.4m to £21.0m).
 */
const PLACEMENTS: Record<string, Record<PlacementKind, [number, string]>> = {
  '2023-24': { INDEPENDENT_NMSS: [1540, '46800.00'], POST_16_FE: [2950, '8400.00'], OTHER_LA: [720, '24200.00'] },
  '2024-25': { INDEPENDENT_NMSS: [1623, '49259.00'], POST_16_FE: [3080, '8650.00'], OTHER_LA: [745, '24950.00'] },
  '2025-26': { INDEPENDENT_NMSS: [1690, '51250.00'], POST_16_FE: [3200, '8900.00'], OTHER_LA: [770, '25300.00'] },
  '2026-27': { INDEPENDENT_NMSS: [1745, '53100.00'], POST_16_FE: [3310, '9150.00'], OTHER_LA: [790, '25700.00'] },
  '2027-28': { INDEPENDENT_NMSS: [1790, '54900.00'], POST_16_FE: [3400, '9400.00'], OTHER_LA: [805, '26100.00'] },
};

/**
 * Pupils for the import/export adjustment (estimates in the shape of the DfE's published table: Kent takes
 * children from Medway and the London boroughs into its special schools and FE colleges, and places its own in
 * theirs). Exports are more than the OTHER_LA placements: they count every high-needs pupil in another
 * authority's provision (FE included), the placements only those Kent pays a school top-up for.
 */
const IMPORT_EXPORT: Record<string, { imported: number; exported: number }> = {
  '2023-24': { imported: 1240, exported: 1080 },
  '2024-25': { imported: 1265, exported: 1110 },
  '2025-26': { imported: 1290, exported: 1140 },
  '2026-27': { imported: 1310, exported: 1160 },
  '2027-28': { imported: 1330, exported: 1180 },
};

/** Given lines (budget per block year, whole pounds; estimates). */
const GIVEN_BUDGETS: Record<string, readonly [number, number, number, number, number]> = {
  CENTRAL_SEN_SERVICES: [21800000, 22600000, 23400000, 24100000, 24800000],
  HOSPITAL_EDUCATION: [4300000, 4500000, 4700000, 4800000, 4900000],
  EARLY_YEARS_SEN: [6900000, 7400000, 8100000, 8600000, 9000000],
};

/**
 * Closed years are held as reported (S251 outturn): lines other than placements are given. Budgets of
 * 2024-25 add up to the published £342.7m against £389m forecast; 2023-24 is an estimate.
 */
const CLOSED_YEAR_LINES: Record<string, Partial<Record<string, [number, number]>>> = {
  // [budget, forecast], whole pounds.
  '2023-24': {
    SPECIAL_SCHOOLS: [92800000, 97100000],
    MAINSTREAM_TOP_UPS: [50200000, 55900000],
    COMMUNITY_POTS: [0, 0],
    INDIVIDUAL_PROTECTION: [0, 0],
    RESOURCED_PROVISION: [9300000, 9900000],
    ALTERNATIVE_PROVISION: [11600000, 12400000],
  },
  // Special schools take what is left of the published totals.
  '2024-25': {
    MAINSTREAM_TOP_UPS: [56000000, 78600000],
    COMMUNITY_POTS: [0, 0],
    INDIVIDUAL_PROTECTION: [0, 0],
    RESOURCED_PROVISION: [10500000, 11600000],
    ALTERNATIVE_PROVISION: [12600000, 14400000],
  },
};
/** Published High Needs block totals (memo lines excluded) that a closed year's balancing line makes up. */
const PUBLISHED_TOTALS: Record<string, { line: string; budget: string; forecast: string }> = {
  '2024-25': { line: 'SPECIAL_SCHOOLS', budget: '342700000.00', forecast: '389000000.00' },
};

function generateMoney(
  r: Random,
  rBlock: Random,
  params: ModelParameters,
  schools: Row<School>[],
  communities: Row<Community>[],
  memberships: DemoData['communityMemberships'],
  fundingTerms: Row<FundingTerm>[],
) {
  const open = schools.filter((s) => s.status === SchoolStatus.OPEN && isMainstream(s.phase));
  const drivers = new Map(open.map((s) => [s.urn, schoolDrivers(r, s)]));

  // EHCP band counts from September 2026: ~3% of pupils. SRP pupils are drawn here too but counted in the
  // SRP setting (its own band set), so mainstream banded top-ups are what mainstream places get.
  const inFunded = (t: Row<FundingTerm>) => t.startDate >= FUNDED_TERMS_FROM && t.startDate <= FUNDED_TERMS_TO;
  const bandTerms = fundingTerms.filter(
    (t) => inFunded(t) && t.startDate <= FIRST_BAND_TERMS_TO && bandingApplies(t.startDate, params),
  );
  const laterBandTerms = fundingTerms.filter(
    (t) => inFunded(t) && t.startDate > FIRST_BAND_TERMS_TO && bandingApplies(t.startDate, params),
  );
  const ehcpBandCounts: Row<EhcpBandCount>[] = [];
  const bandsBy = new Map<string, Partial<Record<Band, number>>>();
  /** Plans per school for the caseloads: mainstream and SRP together, as case officers hold them. */
  const plansBy = new Map<string, Partial<Record<Band, number>>>();
  const srpBands = new Map<number, Record<string, number>>();
  const lastCounts = new Map<number, Record<Band, number>>();
  const pushSnapshot = (
    s: Row<School>,
    t: Row<FundingTerm>,
    counts: Record<Band, number>,
    srp: Record<Band, number>,
  ) => {
    const snapshot: Partial<Record<Band, number>> = {};
    const plans: Partial<Record<Band, number>> = {};
    for (const band of BANDS) {
      if (counts[band] + srp[band] > 0) plans[band] = counts[band] + srp[band];
      if (counts[band] === 0) continue;
      snapshot[band] = counts[band];
      ehcpBandCounts.push({ schoolUrn: s.urn, termCode: t.code, band, plans: counts[band] });
    }
    bandsBy.set(`${s.urn}|${t.code}`, snapshot);
    plansBy.set(`${s.urn}|${t.code}`, plans);
  };
  const srpDraws = new Map<number, Record<Band, number>>();
  for (const s of open) {
    const counts: Record<Band, number> = { A: 0, B: 0, C: 0, D: 0, E: 0 };
    const srp: Record<Band, number> = { A: 0, B: 0, C: 0, D: 0, E: 0 };
    const plans = Math.max(1, Math.round((s.pupilsOnRoll! * r.int(18, 40)) / 1000));
    for (let k = 0; k < plans; k++) counts[r.weighted(BAND_MIX)]++;
    for (let k = 0; k < (s.srpOnRoll ?? 0); k++) srp[r.weighted(SRP_BAND_MIX)]++;
    srpDraws.set(s.urn, srp);
    const srpSet: Record<string, number> = {};
    for (const band of BANDS) if (srp[band]) srpSet[SRP_BAND_OF[band]] = (srpSet[SRP_BAND_OF[band]] ?? 0) + srp[band];
    srpBands.set(s.urn, srpSet);
    bandTerms.forEach((t, i) => {
      // Plans grow a little from term to term.
      if (i > 0) for (let k = r.int(0, 2); k > 0; k--) counts[r.weighted(BAND_MIX)]++;
      pushSnapshot(s, t, counts, srp);
    });
    lastCounts.set(s.urn, counts);
  }
  // 2027-28 terms: the same growth, from a stream of their own so the earlier terms' draws are unchanged.
  for (const s of open) {
    const counts = { ...lastCounts.get(s.urn)! };
    for (const t of laterBandTerms) {
      for (let k = rBlock.int(0, 2); k > 0; k--) counts[rBlock.weighted(BAND_MIX)]++;
      pushSnapshot(s, t, counts, srpDraws.get(s.urn)!);
    }
  }

  // The figures of record are what the funding model computes from these inputs.
  const fundedTerms = fundingTerms.filter(inFunded);
  const baselines = new Map<string, string>();
  for (const t of fundedTerms) {
    for (const s of open)
      baselines.set(
        `${s.urn}|${t.code}`,
        money(new Decimal(drivers.get(s.urn)!.annualBaseline).times(t.months).dividedBy(12)),
      );
  }
  const amounts = new Map<string, Record<NotionalSenFactorCode, string>>();
  BUDGET_YEARS.forEach((fy, y) => {
    for (const s of open) amounts.set(`${s.urn}|${fy}`, factorAmounts(s, drivers.get(s.urn)!, y));
  });

  // Element 3 outside mainstream: places per academic year, pupils per term and band, placements per year.
  const block = generateBlockDrivers(schools, fundingTerms.filter(inFunded), params, srpBands);
  const model = computeFunding(
    {
      schools: schools
        .filter((s) => s.pupilsOnRoll !== null && s.percentFsm !== null)
        .map((s) => ({ urn: s.urn, pupilsOnRoll: s.pupilsOnRoll!, percentFsm: s.percentFsm! })),
      fundedUrns: open.map((s) => s.urn),
      communities: communities.map((c) => c.code),
      membersOn: (date) => membersOn(memberships, date),
      terms: fundedTerms,
      financialYears: [...BUDGET_YEARS],
      baselines,
      factorAmounts: amounts,
      bandCounts: bandsBy,
      block: block.drivers,
    },
    params,
  );
  if (model.block.missing.length) throw new Error(`demo data: missing drivers: ${model.block.missing[0].message}`);
  const notionalSenFactors: FigureRow<NotionalSenFactor>[] = model.notionalSen.flatMap((n) =>
    n.lines.map((l) => ({ schoolUrn: n.schoolUrn, financialYearCode: n.financialYearCode, ...l })),
  );
  // 2027-28's pot is planned (a parameter, on the block line) but not yet shared out: no pots of record to allocate from.
  const potTerms = new Set(fundingTerms.filter((t) => t.startDate <= POTS_SET_TO).map((t) => t.code));
  const communityPotRows: FigureRow<CommunityPot>[] = model.pots.filter((p) => potTerms.has(p.termCode));
  const schoolTermFunding: FigureRow<SchoolTermFunding>[] = model.schoolTerms;

  // High Needs block lines, from the one list: computed lines are the model's exact sums; a DRIVERS line's
  // budget is the one set for the year (below the forecast: the pressure the Safety Valve is about).
  // Lines no driver computes are figures of record with their provenance: a given line is entered by hand, a closed
  // year's reported figure imported from its outturn return (so a recompute reports them rather than overwriting).
  const highNeedsBlockLines: (FigureRow<HighNeedsBlockLine> & BlockLineSource)[] = [];
  const computedSource: BlockLineSource = { sourceKind: 'COMPUTED', sourceFile: null, sourceBy: null };
  const manualSource: BlockLineSource = { sourceKind: 'MANUAL', sourceFile: null, sourceBy: 'demo data' };
  const importedSource = (file: string): BlockLineSource => ({
    sourceKind: 'IMPORTED',
    sourceFile: file,
    sourceBy: 'demo data',
  });
  BLOCK_YEARS.forEach((fy, y) => {
    const computed = model.blockLines.get(fy) ?? {};
    const closed = CLOSED_YEAR_LINES[fy];
    BLOCK_LINES.forEach((l, i) => {
      let budget: string;
      let forecast: string;
      let source = computedSource;
      const c = computed[l.code];
      if (l.code === 'NOTIONAL_SEN' && c === undefined) {
        // Memo only, before the years the notional SEN budgets are held: last year's budgets grown 2%.
        budget = forecast = money(new Decimal(model.blockLines.get('2024-25')!.NOTIONAL_SEN!).times(0.98));
      } else if (l.method === 'GIVEN') {
        source = manualSource;
        budget = whole(GIVEN_BUDGETS[l.code][y]);
        forecast = money(roundTo(new Decimal(budget).times(1000 + rBlock.int(0, 40)).dividedBy(1000), 1000));
      } else if (c !== undefined) {
        // OTHER_LA_PLACEMENTS was a given line, with an outturn draw in closed years: the draw is still made so
        // every other line's figures stay as they were.
        if (l.code === 'OTHER_LA_PLACEMENTS' && closed) rBlock.int(0, 40);
        forecast = c;
        budget =
          l.method === 'FUNDING_MODEL'
            ? c
            : money(roundTo(new Decimal(c).times(955 + rBlock.int(0, 30)).dividedBy(1000), 100000));
      } else if (closed?.[l.code]) {
        const [b, f] = closed[l.code]!;
        source = importedSource(`s251-outturn-${fy}.csv`);
        budget = whole(b);
        forecast = whole(f);
      } else {
        // The balancing line: filled in once the year's other lines are known.
        budget = forecast = '0.00';
      }
      // Closed years have an outturn within about -1.5%..+1% of the forecast (computed lines: the figure itself).
      const outturn = closed
        ? c !== undefined || forecast === '0.00'
          ? forecast
          : money(new Decimal(forecast).times(10000 + rBlock.int(-150, 100)).dividedBy(10000))
        : null;
      highNeedsBlockLines.push({
        financialYearCode: fy,
        lineCode: l.code,
        name: l.name,
        sortOrder: (i + 1) * 10,
        budget,
        forecast,
        outturn,
        memo: l.memo,
        ...source,
      });
    });
    const published = PUBLISHED_TOTALS[fy];
    if (published) {
      const year = highNeedsBlockLines.filter((x) => x.financialYearCode === fy && !x.memo);
      const rest = (f: 'budget' | 'forecast') =>
        year.filter((x) => x.lineCode !== published.line).reduce((a, x) => a.plus(x[f]), new Decimal(0));
      const row = year.find((x) => x.lineCode === published.line)!;
      row.budget = money(new Decimal(published.budget).minus(rest('budget')));
      row.forecast = money(new Decimal(published.forecast).minus(rest('forecast')));
      row.outturn = money(new Decimal(row.forecast).times(10000 + rBlock.int(-150, 100)).dividedBy(10000));
      // Balanced to the published budget and forecast: no longer the drivers' figure.
      Object.assign(row, importedSource(`s251-budget-${fy}.csv`));
    }
  });

  return {
    notionalSenFactors,
    schoolTermFunding,
    communityPots: communityPotRows,
    highNeedsBlockLines,
    ehcpBandCounts,
    bandsBy: plansBy,
    ...block.rows,
  };
}

/** Place numbers, specialist pupil counts and placements, deterministic from the schools (no draws). */
function generateBlockDrivers(
  schools: Row<School>[],
  terms: Row<FundingTerm>[],
  params: ModelParameters,
  srpBands: Map<number, Record<string, number>>,
) {
  const providers: Provider[] = schools
    .filter(
      (s) =>
        s.status === SchoolStatus.OPEN &&
        (s.phase === Phase.SPECIAL || s.phase === Phase.PRU || (s.srpCapacity ?? 0) > 0),
    )
    .map(
      (s) =>
        ({
          urn: s.urn,
          setting: s.phase === Phase.SPECIAL ? 'SPECIAL' : s.phase === Phase.PRU ? 'AP' : 'SRP',
        }) as Provider,
    )
    .sort((a, b) => a.urn - b.urn);
  const byUrn = new Map(schools.map((s) => [s.urn, s]));
  const placeNumbers: Row<PlaceNumber>[] = [];
  const topUpCounts: Row<TopUpCount>[] = [];
  const provenance = (file: string) => ({
    sourceKind: 'IMPORTED',
    sourceFile: file,
    sourceBy: 'demo data',
    sourceAt: null,
    sourceParameterVersion: null,
  });
  const academicYears = [...new Set(terms.map((t) => t.academicYearCode))].sort();
  for (const p of providers) {
    const s = byUrn.get(p.urn)!;
    const roll = s.pupilsOnRoll ?? 0;
    academicYears.forEach((ay, k) => {
      const file = `high-needs-places-${ay.replace('/', '-')}.csv`;
      if (p.setting === 'SPECIAL') {
        // Commissioned places grow by about 2% a year; about 14% of special places are post-16.
        const total = Math.round((roll * (100 + 2 * k)) / 100);
        const post16 = Math.round((total * 14) / 100);
        placeNumbers.push({
          schoolUrn: p.urn,
          academicYearCode: ay,
          placeType: 'SPECIAL_PRE16',
          places: total - post16,
          ...provenance(file),
        });
        placeNumbers.push({
          schoolUrn: p.urn,
          academicYearCode: ay,
          placeType: 'SPECIAL_POST16',
          places: post16,
          ...provenance(file),
        });
      } else if (p.setting === 'AP') {
        placeNumbers.push({
          schoolUrn: p.urn,
          academicYearCode: ay,
          placeType: 'AP',
          places: roll + k,
          ...provenance(file),
        });
      } else {
        placeNumbers.push({
          schoolUrn: p.urn,
          academicYearCode: ay,
          placeType: 'SRP',
          places: s.srpCapacity!,
          ...provenance(file),
        });
      }
    });
    const placesIn = (ay: string) =>
      placeNumbers.filter((n) => n.schoolUrn === p.urn && n.academicYearCode === ay).reduce((a, n) => a + n.places, 0);
    terms.forEach((t, k) => {
      const banded = bandingApplies(t.startDate, params);
      let bands: Record<string, number>;
      if (p.setting === 'SRP') {
        const srp = srpBands.get(p.urn) ?? {};
        bands = banded ? srp : { [LEGACY_BAND]: Object.values(srp).reduce((a, b) => a + b, 0) };
      } else {
        // Special schools run full (and a little over, with growth); AP at about 90% of places.
        const places = placesIn(t.academicYearCode);
        const pupils = p.setting === 'SPECIAL' ? places + (k % 3) : Math.round((places * 9) / 10);
        const mix = p.setting === 'SPECIAL' ? SPECIAL_MIX : AP_MIX;
        bands = banded
          ? Object.fromEntries(
              mix.map(([b], i) => [
                b,
                splitInt(
                  pupils,
                  mix.map(([, w]) => w),
                )[i],
              ]),
            )
          : { [LEGACY_BAND]: pupils };
      }
      for (const [band, pupils] of Object.entries(bands)) {
        if (pupils > 0)
          topUpCounts.push({
            schoolUrn: p.urn,
            termCode: t.code,
            setting: p.setting,
            band,
            pupils,
            ...provenance('top-up-returns.csv'),
          });
      }
    });
  }
  const placements: Row<Placement>[] = Object.entries(PLACEMENTS).flatMap(([fy, kinds]) =>
    Object.entries(kinds).map(([kind, [n, cost]]) => ({
      financialYearCode: fy,
      kind,
      placements: n,
      unitCost: cost,
      ...provenance('placements-commissioning.csv'),
    })),
  );
  const drivers: BlockDrivers = {
    providers,
    places: new Map(),
    topUpCounts: new Map(),
    placements: new Map(
      placements.map((p) => [`${p.financialYearCode}|${p.kind}`, { placements: p.placements, unitCost: p.unitCost }]),
    ),
  };
  for (const n of placeNumbers) {
    const k = `${n.schoolUrn}|${n.academicYearCode}`;
    drivers.places.set(k, { ...drivers.places.get(k), [n.placeType]: n.places });
  }
  for (const c of topUpCounts) {
    const k = `${c.schoolUrn}|${c.termCode}|${c.setting}`;
    drivers.topUpCounts.set(k, { ...drivers.topUpCounts.get(k), [c.band]: c.pupils });
  }
  return { drivers, rows: { placeNumbers, topUpCounts, placements } };
}

// ---------------------------------------------------------------------------------------------------------
// Safety Valve, income and the DSG position

const REPORT_DATES = (y: number) => [`${y}-07-31`, `${y}-10-31`, `${y + 1}-01-31`, `${y + 1}-05-15`];

function generateSafetyValve(r: Random, lines: FigureRow<HighNeedsBlockLine>[], params: ModelParameters) {
  const provenance = (file: string) => ({
    sourceKind: 'IMPORTED',
    sourceFile: file,
    sourceBy: 'demo data',
    sourceAt: null,
    sourceParameterVersion: null,
  });
  const agreement: Row<SafetyValveAgreement> = {
    code: 'SV-KENT-2022',
    version: 1,
    effectiveFrom: '2022-03-31',
    // The demo reports quarterly (Kent's real agreement asks for three reports a year).
    reportsPerYear: 4,
    note: null,
    ...provenance('safety-valve-agreement.pdf'),
    firstFinancialYear: '2022-23',
    lastFinancialYear: '2027-28',
    dfeContribution: '140000000.00',
    laContribution: '82000000.00',
    deficitAtStart: '97000000.00',
    deficitAtStartDate: '2022-03-31',
    // 2022-23 (before the years held): +14.0m planned, +11.2m outturn.
    broughtForwardDate: '2023-03-31',
    broughtForwardPlan: '-83000000.00',
    broughtForwardOutturn: '-85800000.00',
  };
  // Thousands of pounds; positive is a surplus. The plan clears the deficit by March 2028.
  const plan: Record<string, number> = {
    '2023-24': 15000,
    '2024-25': 17000,
    '2025-26': 18000,
    '2026-27': 17000,
    '2027-28': 16000,
  };
  const safetyValvePlanYears: Row<SafetyValvePlanYear>[] = BLOCK_YEARS.map((fy) => ({
    financialYearCode: fy,
    inYearPlan: whole(plan[fy] * 1000),
    ...provenance('safety-valve-agreement.pdf'),
  }));

  // Instalments of £3.5m after each report; one withheld and paid late, one withheld; later ones still due.
  const instalments: Row<SafetyValveInstalment>[] = [];
  for (const fy of BLOCK_YEARS) {
    const y = Number(fy.slice(0, 4));
    REPORT_DATES(y).forEach((dueOn, q) => {
      const periodCode = `${fy}-Q${q + 1}`;
      let status: InstalmentStatus = dueOn <= '2026-10-31' ? 'PAID' : 'DUE';
      let paidOn: string | null = status === 'PAID' ? `${dueOn.slice(0, 8)}28` : null;
      if (periodCode === '2024-25-Q3') [status, paidOn] = ['PAID_LATE', '2025-08-15'];
      if (periodCode === '2026-27-Q2') [status, paidOn] = ['WITHHELD', null];
      instalments.push({
        periodCode,
        financialYearCode: fy,
        dueOn,
        amount: '3500000.00',
        status,
        paidOn,
        ...provenance('dfe-payments.csv'),
      });
    });
  }
  const fyOfDate = (d: string) =>
    d.slice(5) >= '04-01' ? fyCode(Number(d.slice(0, 4))) : fyCode(Number(d.slice(0, 4)) - 1);
  const inst: Instalment[] = instalments.map((i) => ({
    ...i,
    status: i.status as InstalmentStatus,
    paidFinancialYearCode: i.paidOn ? fyOfDate(i.paidOn) : null,
  }));

  // Income: the 1.2% transfer (Kent: £15.2m, £16.5m, £17.4m) and the LA's £82m over six years; the
  // allocation is set so each year's position lands near Kent's reported one.
  const schoolsBlock: Record<string, string> = {
    '2023-24': '1190000000.00',
    '2024-25': '1266666667.00',
    '2025-26': '1375000000.00',
    '2026-27': '1450000000.00',
    '2027-28': '1500000000.00',
  };
  const la: Record<string, string> = {
    '2023-24': '13700000.00',
    '2024-25': '13700000.00',
    '2025-26': '13700000.00',
    '2026-27': '13600000.00',
    '2027-28': '13600000.00',
  };
  const target: Record<string, number> = {
    '2023-24': 4300,
    '2024-25': -12800,
    '2025-26': -3600,
    '2026-27': 2400,
    '2027-28': 9000,
  };
  const spendLive = (fy: string) => {
    const ls = lines.filter((l) => l.financialYearCode === fy && !l.memo);
    const closed = ls.every((l) => l.outturn !== null);
    return ls.reduce((a, l) => a.plus(closed ? l.outturn! : l.forecast), new Decimal(0));
  };
  const dsgIncomeYears: Row<DsgIncomeYear>[] = [];
  const income: IncomeDrivers = {
    years: new Map(),
    instalments: inst,
    otherLaPlacements: new Map(BLOCK_YEARS.map((fy) => [fy, PLACEMENTS[fy].OTHER_LA[0]])),
  };
  for (const fy of BLOCK_YEARS) {
    const transfer = new Decimal(schoolsBlock[fy]).times(params.block.schoolsBlockTransferRate);
    const adjustment = new Decimal(IMPORT_EXPORT[fy].imported - IMPORT_EXPORT[fy].exported).times(
      params.block.importExportRate,
    );
    const dfe = inst
      .filter((i) => (i.status === 'PAID' || i.status === 'DUE') && i.financialYearCode === fy)
      .reduce((a, i) => a.plus(i.amount), new Decimal(0));
    const allocation = roundTo(
      spendLive(fy)
        .plus(target[fy] * 1000)
        .minus(transfer)
        .minus(la[fy])
        .minus(dfe)
        .minus(adjustment),
      100000,
    );
    const row = {
      financialYearCode: fy,
      highNeedsAllocation: money(allocation),
      schoolsBlock: schoolsBlock[fy],
      laContribution: la[fy],
      importedPupils: IMPORT_EXPORT[fy].imported,
      exportedPupils: IMPORT_EXPORT[fy].exported,
    };
    dsgIncomeYears.push({ ...row, ...provenance('dsg-allocations.xlsx') });
    income.years.set(fy, {
      highNeedsAllocation: row.highNeedsAllocation,
      schoolsBlock: row.schoolsBlock,
      laContribution: row.laContribution,
      importedPupils: row.importedPupils,
      exportedPupils: row.exportedPupils,
    });
  }

  // Reports (four a year to 2026-27 Q2) with a snapshot of the block's forecasts when each was made:
  // forecasts move from the budget towards the year's final figure; the last report of a year has it exactly.
  const reportRefs: { periodCode: string; financialYearCode: string; reportDate: string; quarter: number }[] = [];
  for (const fy of ['2023-24', '2024-25', '2025-26', '2026-27']) {
    const y = Number(fy.slice(0, 4));
    const quarters = fy === '2026-27' ? 2 : 4;
    for (let q = 1; q <= quarters; q++)
      reportRefs.push({
        periodCode: `${fy}-Q${q}`,
        financialYearCode: fy,
        reportDate: REPORT_DATES(y)[q - 1],
        quarter: q,
      });
  }
  const blockForecastSnapshots: Row<BlockForecastSnapshot>[] = [];
  for (const rep of reportRefs) {
    const last = !reportRefs.some(
      (x) => x.financialYearCode === rep.financialYearCode && x.reportDate > rep.reportDate,
    );
    const drift = last ? 1 : [0.55, 0.75, 0.9, 1][rep.quarter - 1];
    for (const l of lines.filter((x) => x.financialYearCode === rep.financialYearCode && !x.memo)) {
      const final = l.outturn ?? l.forecast;
      const forecast = last
        ? final
        : money(
            new Decimal(l.budget).plus(new Decimal(final).minus(l.budget).times(drift)).plus(r.int(-50, 50) * 1000),
          );
      blockForecastSnapshots.push({ periodCode: rep.periodCode, lineCode: l.lineCode, forecast });
    }
  }
  const snapshotSpend = (period: string) =>
    blockForecastSnapshots
      .filter((x) => x.periodCode === period)
      .reduce((a, x) => a.plus(x.forecast), new Decimal(0))
      .toFixed(2);
  const plans = new Map(safetyValvePlanYears.map((p) => [p.financialYearCode, p.inYearPlan]));
  const bf = { outturn: agreement.broughtForwardOutturn!, plan: agreement.broughtForwardPlan! };

  const reports: Row<SafetyValveReport>[] = [];
  const kpis: Row<SafetyValveKpi>[] = [];
  reportRefs.forEach((rep, i) => {
    const pos = dsgAsReported(rep, reportRefs, snapshotSpend, income, plans, bf, () => params)!;
    const own = instalments.find((x) => x.periodCode === rep.periodCode)!;
    reports.push({
      periodCode: rep.periodCode,
      financialYearCode: rep.financialYearCode,
      quarter: rep.quarter,
      reportDate: rep.reportDate,
      ...pos,
      dfeInstalment: own.status === 'PAID' ? own.amount : null,
      ...provenance('safety-valve-returns.xlsx'),
    });
    const periodCode = rep.periodCode;
    const kpi = (kpiCode: string, name: string, unit: string, planValue: string | null, actual: string) =>
      kpis.push({
        periodCode,
        kpiCode,
        name,
        unit,
        plan: planValue,
        actual,
        ...provenance('safety-valve-returns.xlsx'),
      });
    kpi(
      'EHCP_TOTAL',
      'EHCPs maintained by Kent',
      'COUNT',
      whole(18900 + i * 110),
      whole(19000 + i * 175 + r.int(-40, 40)),
    );
    kpi(
      'ASSESSMENT_REQUESTS',
      'Requests for EHC needs assessment in the quarter',
      'COUNT',
      whole(700),
      whole(r.int(730, 840)),
    );
    kpi('NEW_PLANS', 'New EHCPs issued in the quarter', 'COUNT', whole(480), whole(r.int(520, 620)));
    kpi('CEASED_PLANS', 'EHCPs ceased in the quarter', 'COUNT', whole(360), whole(r.int(330, 420)));
    kpi(
      'PLACEMENT_MAINSTREAM_PCT',
      'EHCPs placed in mainstream schools',
      'PERCENT',
      tenths(380 + i * 2),
      tenths(360 + i + r.int(-3, 3)),
    );
    kpi(
      'PLACEMENT_SPECIAL_PCT',
      'EHCPs placed in state-funded special schools',
      'PERCENT',
      tenths(375),
      tenths(385 - Math.floor(i / 2) + r.int(-2, 2)),
    );
    kpi(
      'PLACEMENT_INDEPENDENT_PCT',
      'EHCPs placed in independent and non-maintained special schools',
      'PERCENT',
      tenths(120 - Math.floor((i * 3) / 2)),
      tenths(128 - Math.floor(i / 3) + r.int(-2, 2)),
    );
    kpi(
      'UNIT_COST_SPECIAL',
      'Average annual cost of a state-funded special school place',
      'GBP',
      whole(23800 + i * 180),
      whole(24200 + i * 260 + r.int(-150, 150)),
    );
    kpi(
      'UNIT_COST_INDEPENDENT',
      'Average annual cost of an independent special school place',
      'GBP',
      whole(56000 + i * 500),
      whole(57500 + i * 900 + r.int(-600, 600)),
    );
  });
  return {
    safetyValveAgreements: [agreement],
    safetyValvePlanYears,
    safetyValveInstalments: instalments,
    blockForecastSnapshots,
    safetyValveReports: reports,
    safetyValveKpis: kpis,
    dsgIncomeYears,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Caseloads

function generateCaseloads(
  r: Random,
  schools: Row<School>[],
  settings: Row<EarlyYearsSetting>[],
  bandsBy: Map<string, Partial<Record<Band, number>>>,
) {
  const workers: Row<CaseloadWorker>[] = [];
  const counts: Omit<Row<CaseloadCount>, 'id'>[] = [];
  const areaOf = new Map(DISTRICTS.map((d) => [d.onsCode, d.areaCode]));
  const openSchools = schools
    .filter((s) => s.status === SchoolStatus.OPEN)
    .sort((a, b) => a.districtCode.localeCompare(b.districtCode) || a.laestab - b.laestab);
  const inArea = <T extends { districtCode: string }>(rows: T[], area: string) =>
    rows.filter((x) => areaOf.get(x.districtCode) === area);
  const chunk = <T>(rows: T[], n: number): T[][] => {
    const sizes = splitInt(rows.length, Array(n).fill(1));
    let at = 0;
    return sizes.map((k) => rows.slice(at, (at += k)));
  };
  const areaNames = new Map(AREAS.map((a) => [a.code, a.name]));
  const perArea = (total: number, weight: (area: string) => number) =>
    splitInt(
      total,
      AREAS.map((a) => weight(a.code)),
    );

  // Link workers: every open school and setting has one, within the worker's area. Settings are counted
  // one row per worker and setting (count 1), like schools, so a setting's named contact can be looked up.
  const lwPerArea = perArea(48, (a) => inArea(openSchools, a).length);
  let n = 0;
  AREAS.forEach((area, ai) => {
    const ws = Array.from({ length: lwPerArea[ai] }, () => {
      const w = {
        code: `LW-${pad(++n, 3)}`,
        role: WorkerRole.LINK_WORKER,
        team: `${areaNames.get(area.code)} Link Workers`,
        areaCode: area.code,
      };
      workers.push(w);
      return w;
    });
    const schoolChunks = chunk(inArea(openSchools, area.code), ws.length);
    const settingChunks = chunk(inArea(settings, area.code), ws.length);
    for (const period of CASELOAD_TERMS) {
      ws.forEach((w, k) => {
        for (const s of schoolChunks[k])
          counts.push({
            kind: CaseloadKind.LINK_WORKER_SCHOOLS,
            periodCode: period,
            workerCode: w.code,
            schoolUrn: s.urn,
            settingUrn: null,
            districtCode: s.districtCode,
            count: 1,
          });
        for (const s of settingChunks[k])
          counts.push({
            kind: CaseloadKind.LINK_WORKER_SETTINGS,
            periodCode: period,
            workerCode: w.code,
            schoolUrn: null,
            settingUrn: s.urn,
            districtCode: s.districtCode,
            count: 1,
          });
      });
    }
  });

  // SIPS practitioners: 25-40 children a term each, spread thinly over settings in their area.
  const sipsPerArea = perArea(25, (a) => inArea(settings, a).length);
  n = 0;
  AREAS.forEach((area, ai) => {
    const pool = inArea(settings, area.code);
    for (let k = 0; k < sipsPerArea[ai]; k++) {
      const code = `SIPS-${pad(++n, 2)}`;
      workers.push({
        code,
        role: WorkerRole.SIPS_PRACTITIONER,
        team: `Early Years SIPS ${areaNames.get(area.code)}`,
        areaCode: area.code,
      });
      for (const period of CASELOAD_TERMS) {
        const children = r.int(25, 40);
        const cells = r.int(8, 14);
        const split = Array(cells).fill(1);
        for (let c = cells; c < children; c++) split[r.chance(0.5) ? 0 : r.int(0, cells - 1)]++;
        r.sample(pool, cells).forEach((s, c) =>
          counts.push({
            kind: CaseloadKind.SIPS_CHILDREN,
            periodCode: period,
            workerCode: code,
            schoolUrn: null,
            settingUrn: s.urn,
            districtCode: s.districtCode,
            count: split[c],
          }),
        );
      }
    }
  });

  // EHCP case officers: school caseloads (special schools shared between officers) plus plans outside
  // Kent schools (independent, post-16, early years, out of county), recorded per district.
  const baseTerm = 'AUTUMN-2026';
  const plansAt = (s: Row<School>, k: number): number => {
    const pupils = s.pupilsOnRoll ?? 0;
    if (s.phase === Phase.SPECIAL) return Math.round((pupils * (940 + k * 5)) / 1000);
    if (s.phase === Phase.PRU) return Math.round((pupils * (120 + k * 5)) / 1000);
    const bands = bandsBy.get(`${s.urn}|${baseTerm}`) ?? {};
    const total = Object.values(bands).reduce((a, b) => a + (b ?? 0), 0);
    // Terms before 2026/27 have slightly fewer plans.
    return k >= 6 ? total : Math.round((total * (910 + k * 15)) / 1000);
  };
  const ecoPerArea = perArea(105, (a) => inArea(openSchools, a).reduce((acc, s) => acc + plansAt(s, 6), 0));
  n = 0;
  AREAS.forEach((area, ai) => {
    const officers = Array.from({ length: ecoPerArea[ai] }, (_, k) => {
      const w = {
        code: `ECO-${pad(++n, 3)}`,
        role: WorkerRole.EHCP_CASE_OFFICER,
        team: `SEN Casework ${areaNames.get(area.code)} ${Math.floor(k / 9) + 1}`,
        areaCode: area.code,
      };
      workers.push(w);
      return { ...w, load: 0, target: r.int(178, 222), items: [] as Array<{ school: Row<School>; weight: number }> };
    });
    // Large schools are split into pieces of at most 60 plans, then pieces go to the least-loaded officer.
    const pieces: Array<{ school: Row<School>; plans: number }> = [];
    for (const s of inArea(openSchools, area.code)) {
      const plans = plansAt(s, 6);
      if (plans === 0) continue;
      const parts = Math.ceil(plans / 60);
      for (const p of splitInt(plans, Array(parts).fill(1))) pieces.push({ school: s, plans: p });
    }
    pieces.sort((a, b) => b.plans - a.plans || a.school.urn - b.school.urn);
    for (const piece of pieces) {
      const o = officers.reduce((best, x) => (x.load < best.load ? x : best));
      o.load += piece.plans;
      const same = o.items.find((it) => it.school.urn === piece.school.urn);
      if (same) same.weight += piece.plans;
      else o.items.push({ school: piece.school, weight: piece.plans });
    }
    // Each school's plans are shared among its officers in the same proportions every term.
    const holders = new Map<number, Array<{ code: string; weight: number }>>();
    for (const o of officers)
      for (const it of o.items)
        holders.set(it.school.urn, [...(holders.get(it.school.urn) ?? []), { code: o.code, weight: it.weight }]);
    const districts = DISTRICTS.filter((d) => d.areaCode === area.code);
    const outsideWeights = new Map(officers.map((o) => [o.code, districts.map(() => r.int(1, 4))]));
    CASELOAD_TERMS.forEach((period, k) => {
      const load = new Map<string, number>();
      for (const s of inArea(openSchools, area.code)) {
        const hs = holders.get(s.urn);
        if (!hs) continue;
        splitInt(
          plansAt(s, k),
          hs.map((h) => h.weight),
        ).forEach((c, i) => {
          counts.push({
            kind: CaseloadKind.EHCP_PLANS,
            periodCode: period,
            workerCode: hs[i].code,
            schoolUrn: s.urn,
            settingUrn: null,
            districtCode: s.districtCode,
            count: c,
          });
          load.set(hs[i].code, (load.get(hs[i].code) ?? 0) + c);
        });
      }
      for (const o of officers) {
        const outside = Math.max(10, o.target + k - (load.get(o.code) ?? 0));
        splitInt(outside, outsideWeights.get(o.code)!).forEach((c, i) =>
          counts.push({
            kind: CaseloadKind.EHCP_PLANS,
            periodCode: period,
            workerCode: o.code,
            schoolUrn: null,
            settingUrn: null,
            districtCode: districts[i].onsCode,
            count: c,
          }),
        );
      }
    });
  });

  // Early Years Professional Resource Group: one meeting per district per school term.
  for (const period of CASELOAD_TERMS) {
    for (const d of DISTRICTS)
      counts.push({
        kind: CaseloadKind.EYPRG_REFERRALS,
        periodCode: period,
        workerCode: null,
        schoolUrn: null,
        settingUrn: null,
        districtCode: d.onsCode,
        count: r.int(10, 25),
      });
  }
  return { caseloadWorkers: workers, caseloadCounts: counts };
}

// ---------------------------------------------------------------------------------------------------------

/** The whole demo data set. Pure and deterministic: the same seed and parameters give the same rows. */
export function generateDemoData(
  seed: number = DEFAULT_SEED,
  params: ModelParameters = DEFAULT_MODEL_PARAMETERS,
): DemoData {
  const root = new Random(seed);
  // One independent stream per part, so a change in one part leaves the others' data unchanged.
  const rSchools = root.fork('schools');
  const rMembers = root.fork('memberships');
  const rSettings = root.fork('settings');
  const rMoney = root.fork('money');
  const rSv = root.fork('safety-valve');
  const rCaseload = root.fork('caseloads');
  const rBlock = root.fork('block');

  const periods = generatePeriods();
  const { schools, meta, communities, sizes } = generateSchools(rSchools);
  const communityMemberships = generateMemberships(rMembers, schools, meta, communities, sizes);
  const earlyYearsSettings = generateSettings(rSettings, schools);
  const { bandsBy, ...moneyRows } = generateMoney(
    rMoney,
    rBlock,
    params,
    schools,
    communities,
    communityMemberships,
    periods.fundingTerms,
  );
  const sv = generateSafetyValve(rSv, moneyRows.highNeedsBlockLines, params);
  const caseloads = generateCaseloads(rCaseload, schools, earlyYearsSettings, bandsBy);

  return {
    areas: AREAS.map((a) => ({ code: a.code, name: a.name })),
    districts: DISTRICTS.map((d) => ({ onsCode: d.onsCode, name: d.name, areaCode: d.areaCode })),
    ...periods,
    schools,
    communities,
    communityMemberships,
    earlyYearsSettings,
    ...moneyRows,
    ...sv,
    ...caseloads,
  };
}
