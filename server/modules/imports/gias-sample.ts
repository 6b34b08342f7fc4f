import fs from 'node:fs';
import { once } from 'node:events';
import iconv from 'iconv-lite';
import { Phase, SchoolStatus } from '../school/school.entity';
import type { GiasSchool } from './gias';
import { DISTRICTS } from '../../seed/kent';

const DISTRICT_NAMES = new Map(DISTRICTS.map((d) => [d.onsCode, d.name]));

/**
 * Writes GIAS-shaped files for tests and the bench: the real download's ~140 column names, Windows-1252,
 * dd-mm-yyyy dates, quoted names with commas, many empty cells and the columns shuffled. Generated at
 * run time (into os.tmpdir()), never committed: the full file is tens of megabytes.
 */
export const GIAS_HEADER: readonly string[] = [
  'URN',
  'LA (code)',
  'LA (name)',
  'EstablishmentNumber',
  'EstablishmentName',
  'TypeOfEstablishment (code)',
  'TypeOfEstablishment (name)',
  'EstablishmentTypeGroup (code)',
  'EstablishmentTypeGroup (name)',
  'EstablishmentStatus (code)',
  'EstablishmentStatus (name)',
  'ReasonEstablishmentOpened (code)',
  'ReasonEstablishmentOpened (name)',
  'OpenDate',
  'ReasonEstablishmentClosed (code)',
  'ReasonEstablishmentClosed (name)',
  'CloseDate',
  'PhaseOfEducation (code)',
  'PhaseOfEducation (name)',
  'StatutoryLowAge',
  'StatutoryHighAge',
  'Boarders (code)',
  'Boarders (name)',
  'NurseryProvision (name)',
  'OfficialSixthForm (code)',
  'OfficialSixthForm (name)',
  'Gender (code)',
  'Gender (name)',
  'ReligiousCharacter (code)',
  'ReligiousCharacter (name)',
  'ReligiousEthos (name)',
  'Diocese (code)',
  'Diocese (name)',
  'AdmissionsPolicy (code)',
  'AdmissionsPolicy (name)',
  'SchoolCapacity',
  'SpecialClasses (code)',
  'SpecialClasses (name)',
  'CensusDate',
  'NumberOfPupils',
  'NumberOfBoys',
  'NumberOfGirls',
  'PercentageFSM',
  'TrustSchoolFlag (code)',
  'TrustSchoolFlag (name)',
  'Trusts (code)',
  'Trusts (name)',
  'SchoolSponsorFlag (name)',
  'SchoolSponsors (name)',
  'FederationFlag (name)',
  'Federations (code)',
  'Federations (name)',
  'UKPRN',
  'FEHEIdentifier',
  'FurtherEducationType (name)',
  'OfstedLastInsp',
  'OfstedSpecialMeasures (code)',
  'OfstedSpecialMeasures (name)',
  'LastChangedDate',
  'Street',
  'Locality',
  'Address3',
  'Town',
  'County (name)',
  'Postcode',
  'SchoolWebsite',
  'TelephoneNum',
  'HeadTitle (name)',
  'HeadFirstName',
  'HeadLastName',
  'HeadPreferredJobTitle',
  'BSOInspectorateName (name)',
  'InspectorateReport',
  'DateOfLastInspectionVisit',
  'NextInspectionVisit',
  'TeenMoth (name)',
  'TeenMothPlaces',
  'CCF (name)',
  'SENPRU (name)',
  'EBD (name)',
  'PlacesPRU',
  'FTProv (name)',
  'EdByOther (name)',
  'Section41Approved (name)',
  'SEN1 (name)',
  'SEN2 (name)',
  'SEN3 (name)',
  'SEN4 (name)',
  'SEN5 (name)',
  'SEN6 (name)',
  'SEN7 (name)',
  'SEN8 (name)',
  'SEN9 (name)',
  'SEN10 (name)',
  'SEN11 (name)',
  'SEN12 (name)',
  'SEN13 (name)',
  'TypeOfResourcedProvision (name)',
  'ResourcedProvisionOnRoll',
  'ResourcedProvisionCapacity',
  'SenUnitOnRoll',
  'SenUnitCapacity',
  'GOR (code)',
  'GOR (name)',
  'DistrictAdministrative (code)',
  'DistrictAdministrative (name)',
  'AdministrativeWard (code)',
  'AdministrativeWard (name)',
  'ParliamentaryConstituency (code)',
  'ParliamentaryConstituency (name)',
  'UrbanRural (code)',
  'UrbanRural (name)',
  'GSSLACode (name)',
  'Easting',
  'Northing',
  'MSOA (name)',
  'LSOA (name)',
  'InspectorateName (name)',
  'SENStat',
  'SENNoStat',
  'BoardingEstablishment (name)',
  'PropsName',
  'PreviousLA (code)',
  'PreviousLA (name)',
  'PreviousEstablishmentNumber',
  'OfstedRating (name)',
  'RSCRegion (name)',
  'Country (name)',
  'UPRN',
  'SiteName',
  'QABName (code)',
  'QABName (name)',
  'EstablishmentAccredited (code)',
  'EstablishmentAccredited (name)',
  'QABReport',
  'CHNumber',
  'MSOA (code)',
  'LSOA (code)',
  'FSM',
  'AccreditationExpiryDate',
];

export type GiasRow = Record<string, string>;

/** 'yyyy-mm-dd' → GIAS 'dd-mm-yyyy'. */
export const giasDate = (iso: string | null) =>
  iso ? `${iso.slice(8, 10)}-${iso.slice(5, 7)}-${iso.slice(0, 4)}` : '';

const PHASE_NAME: Record<Phase, string> = {
  NURSERY: 'Nursery',
  PRIMARY: 'Primary',
  SECONDARY: 'Secondary',
  ALL_THROUGH: 'All-through',
  SPECIAL: 'Not applicable',
  PRU: 'Not applicable',
  SIXTEEN_PLUS: '16 plus',
};
const STATUS_NAME: Record<SchoolStatus, string> = {
  OPEN: 'Open',
  CLOSED: 'Closed',
  PROPOSED_TO_CLOSE: 'Open, but proposed to close',
  PROPOSED_TO_OPEN: 'Proposed to open',
};

/** A school as the register would list it (the inverse of the import's mapping). The demo generator's LA is Kent. */
export function giasRowOf(s: GiasSchool, la = 886, laName = 'Kent', districtName?: string): GiasRow {
  return {
    URN: String(s.urn),
    'LA (code)': String(la),
    'LA (name)': laName,
    EstablishmentNumber: String(s.laestab % 10000),
    EstablishmentName: s.name,
    'TypeOfEstablishment (name)': s.establishmentType,
    'EstablishmentTypeGroup (name)':
      s.type === 'ACADEMY'
        ? 'Academies'
        : s.type === 'FREE_SCHOOL'
          ? 'Free Schools'
          : 'Local authority maintained schools',
    'EstablishmentStatus (name)': STATUS_NAME[s.status],
    OpenDate: giasDate(s.openDate),
    CloseDate: giasDate(s.closeDate),
    'PhaseOfEducation (name)': PHASE_NAME[s.phase],
    NumberOfPupils: s.pupilsOnRoll === null ? '' : String(s.pupilsOnRoll),
    PercentageFSM: s.percentFsm === null ? '' : String(Number(s.percentFsm)),
    UKPRN: s.ukprn === null ? '' : String(s.ukprn),
    Postcode: s.postcode ?? '',
    'DistrictAdministrative (code)': s.districtCode,
    'DistrictAdministrative (name)': districtName ?? DISTRICT_NAMES.get(s.districtCode) ?? '',
    ResourcedProvisionCapacity: s.srpCapacity === null ? '' : String(s.srpCapacity),
    ResourcedProvisionOnRoll: s.srpOnRoll === null ? '' : String(s.srpOnRoll),
    'Country (name)': 'United Kingdom',
    'GOR (name)': 'South East',
  };
}

/** A small deterministic generator: files are the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OTHER_TYPES = [
  'Community school',
  'Academy converter',
  'Voluntary aided school',
  'Other independent school',
  'Further education',
  "Children's centre",
  'Academy sponsor led',
];
const TOWNS = ['Leeds', 'Bristol', 'Sheffield', 'Norwich', 'York', 'Derby', 'Bath', 'Hull', 'Crewe', 'Luton'];
const SAINTS = ['St Mary’s', 'St John’s', 'Sainte-Thérèse', 'St Peter’s', 'Holy Trinity', 'Our Lady’s'];

/** A row of another local authority, with the quirks of the real file. */
function otherRow(r: () => number, urn: number): GiasRow {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  let la = 200 + Math.floor(r() * 740);
  if (la === 886) la = 887;
  const town = pick(TOWNS);
  const name =
    r() < 0.3
      ? `${pick(SAINTS)} Primary School, ${town}`
      : r() < 0.1
        ? `The "New" School, ${town}`
        : `${town} ${pick(['Primary', 'Academy', 'High School', 'Infant School'])}`;
  const opened = `${String(1 + Math.floor(r() * 28)).padStart(2, '0')}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${1950 + Math.floor(r() * 70)}`;
  return {
    URN: String(urn),
    'LA (code)': String(la),
    'LA (name)': `Authority ${la}`,
    EstablishmentNumber: String(1000 + Math.floor(r() * 8999)),
    EstablishmentName: name,
    'TypeOfEstablishment (name)': pick(OTHER_TYPES),
    'EstablishmentStatus (name)': r() < 0.9 ? 'Open' : 'Closed',
    OpenDate: r() < 0.6 ? opened : '',
    'PhaseOfEducation (name)': pick(['Primary', 'Secondary', 'Not applicable', '16 plus']),
    StatutoryLowAge: '4',
    StatutoryHighAge: '11',
    NumberOfPupils: r() < 0.8 ? String(Math.floor(r() * 1500)) : '',
    PercentageFSM: r() < 0.7 ? (r() * 50).toFixed(1) : '',
    UKPRN: r() < 0.7 ? String(10000000 + Math.floor(r() * 9999999)) : '',
    Street: `${Math.floor(r() * 200)} High Street`,
    Town: town,
    Postcode: `LS${Math.floor(r() * 20)} ${Math.floor(r() * 9)}AB`,
    'DistrictAdministrative (code)': `E0${7000000 + Math.floor(r() * 300)}`,
    'DistrictAdministrative (name)': town,
    HeadFirstName: pick(['Zoë', 'José', 'Siân', 'Ann', 'Bob']),
    HeadLastName: pick(['O’Brien', 'Smith', 'Jones']),
    SchoolWebsite: `www.${town.toLowerCase()}.sch.uk`,
    'Country (name)': 'United Kingdom',
  };
}

function csvCell(v: string | undefined): string {
  if (v === undefined || v === '') return '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export interface SampleOptions {
  /** Rows of the chosen LA, written in this order among the others. */
  laRows: GiasRow[];
  /** Total data rows (the LA's and others); at least the LA's rows. */
  totalRows: number;
  seed?: number;
  /** Header order: shuffled by default, as downloads vary. */
  shuffle?: boolean;
  header?: readonly string[];
}

/** Streams the sample to a file in Windows-1252, without holding it in memory. */
export async function writeGiasSample(path: string, opts: SampleOptions): Promise<{ bytes: number; rows: number }> {
  const r = rng(opts.seed ?? 886);
  const header = [...(opts.header ?? GIAS_HEADER)];
  if (opts.shuffle ?? true) {
    for (let i = header.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [header[i], header[j]] = [header[j], header[i]];
    }
  }
  const out = fs.createWriteStream(path);
  let bytes = 0;
  const write = async (text: string) => {
    const buf = iconv.encode(text, 'win1252');
    bytes += buf.length;
    if (!out.write(buf)) await once(out, 'drain');
  };
  await write(header.map(csvCell).join(',') + '\r\n');
  const totalRows = Math.max(opts.totalRows, opts.laRows.length);
  const every = opts.laRows.length ? Math.max(1, Math.floor(totalRows / (opts.laRows.length + 1))) : Infinity;
  let la = 0;
  let urn = 100000;
  let chunk = '';
  let written = 0;
  for (let i = 0; i < totalRows; i++) {
    let row: GiasRow;
    if (la < opts.laRows.length && (i % every === every - 1 || totalRows - i <= opts.laRows.length - la))
      row = opts.laRows[la++];
    else {
      urn += 1 + Math.floor(r() * 3);
      if (urn >= 118000 && urn < 151000) urn = 151000;
      row = otherRow(r, urn);
    }
    chunk += header.map((h) => csvCell(row[h])).join(',') + '\r\n';
    written++;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  if (chunk) await write(chunk);
  out.end();
  await once(out, 'finish');
  return { bytes, rows: written };
}

/**
 * The links file as GIAS publishes it (links_edubasealldata<date>.csv): URN, LinkURN, LinkName, LinkType,
 * LinkEstablishedDate (dd-mm-yyyy), Windows-1252, CRLF, every field quoted as in the download.
 */
export const LINKS_HEADER = ['URN', 'LinkURN', 'LinkName', 'LinkType', 'LinkEstablishedDate'] as const;
export type LinkRow = Record<(typeof LINKS_HEADER)[number], string>;

/** Both rows GIAS lists for a conversion: the academy's "Predecessor" row and the old school's "Successor" row. */
export function conversionLinks(
  predecessor: { urn: number; name: string },
  successor: { urn: number; name: string },
  dateIso: string,
  kind: '' | ' - merged' | ' - amalgamated' = '',
): LinkRow[] {
  return [
    {
      URN: String(successor.urn),
      LinkURN: String(predecessor.urn),
      LinkName: predecessor.name,
      LinkType: `Predecessor${kind}`,
      LinkEstablishedDate: giasDate(dateIso),
    },
    {
      URN: String(predecessor.urn),
      LinkURN: String(successor.urn),
      LinkName: successor.name,
      LinkType: `Successor${kind}`,
      LinkEstablishedDate: giasDate(dateIso),
    },
  ];
}

/** Writes a links file: the given rows among `others` links between other authorities' establishments. */
export function writeLinksSample(path: string, rows: LinkRow[], others = 200, seed = 886): void {
  const r = rng(seed);
  const all: LinkRow[] = [];
  let urn = 100000;
  for (let i = 0; i < others; i++) {
    urn += 2 + Math.floor(r() * 5);
    if (urn >= 118000 && urn < 151000) urn = 151000;
    const year = 2000 + Math.floor(r() * 25);
    all.push({
      URN: String(urn),
      LinkURN: String(urn + 1),
      LinkName: `Establishment ${urn + 1}, ${TOWNS[i % TOWNS.length]}`,
      LinkType: ['Successor', 'Predecessor', 'Sixth Form Centre Link', 'Successor - amalgamated'][i % 4],
      LinkEstablishedDate: `01-09-${year}`,
    });
  }
  const every = Math.max(1, Math.floor(all.length / (rows.length + 1)));
  rows.forEach((row, i) => all.splice(Math.min(all.length, (i + 1) * every + i), 0, row));
  const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const text = [
    LINKS_HEADER.map(quote).join(','),
    ...all.map((row) => LINKS_HEADER.map((h) => quote(row[h])).join(',')),
  ]
    .join('\r\n')
    .concat('\r\n');
  fs.writeFileSync(path, iconv.encode(text, 'win1252'));
}

/** A real-data month, in GIAS's own shapes: what a county's register holds besides plain open schools. */
export interface RegisterScenario {
  /** The LA's rows for the establishment file. */
  rows: GiasRow[];
  /** The links file's rows about them. */
  links: LinkRow[];
}

/**
 * Turns a list of schools into a register with the cases a real one has: `conversions` maintained schools
 * closed the day before the academy that keeps their LAESTAB opens under a new URN (linked both ways);
 * a school now listed under another LA; a proposed school with no establishment number yet; a school long
 * closed; a suppressed and a blank FSM figure.
 */
export function registerScenario(
  schools: GiasSchool[],
  opts: {
    la?: number;
    laName?: string;
    conversions: { urn: number; successorUrn: number; date: string }[];
    movedOut?: { urn: number; la: number; laName: string }[];
    proposed?: { urn: number; name: string; districtCode: string }[];
    suppressedFsm?: number[];
    blankFsm?: number[];
  },
): RegisterScenario {
  const la = opts.la ?? 886;
  const laName = opts.laName ?? 'Kent';
  const rows: GiasRow[] = [];
  const links: LinkRow[] = [];
  const conv = new Map(opts.conversions.map((c) => [c.urn, c]));
  const moved = new Map((opts.movedOut ?? []).map((m) => [m.urn, m]));
  for (const s of schools) {
    const m = moved.get(s.urn);
    if (m) {
      rows.push({ ...giasRowOf(s, m.la, m.laName), 'LA (code)': String(m.la), 'LA (name)': m.laName });
      continue;
    }
    const row = giasRowOf(s, la, laName);
    if (opts.suppressedFsm?.includes(s.urn)) row.PercentageFSM = 'SUPP';
    if (opts.blankFsm?.includes(s.urn)) row.PercentageFSM = '';
    const c = conv.get(s.urn);
    if (!c) {
      rows.push(row);
      continue;
    }
    const closeDate = new Date(Date.parse(c.date + 'T00:00:00Z') - 86400000).toISOString().slice(0, 10);
    const academyName = `${s.name.replace(/ School$/, '')} Academy`;
    rows.push({
      ...row,
      'EstablishmentStatus (name)': 'Closed',
      CloseDate: giasDate(closeDate),
      'ReasonEstablishmentClosed (name)': 'Academy Converter',
    });
    rows.push({
      ...giasRowOf(
        {
          ...s,
          urn: c.successorUrn,
          name: academyName,
          type: 'ACADEMY' as never,
          establishmentType: s.phase === 'SPECIAL' ? 'Academy special converter' : 'Academy converter',
          status: 'OPEN' as never,
          openDate: c.date,
          closeDate: null,
        },
        la,
        laName,
      ),
      'ReasonEstablishmentOpened (name)': 'Academy Converter',
    });
    links.push(...conversionLinks({ urn: s.urn, name: s.name }, { urn: c.successorUrn, name: academyName }, c.date));
  }
  for (const p of opts.proposed ?? []) {
    rows.push({
      ...giasRowOf(
        {
          ...schools[0],
          urn: p.urn,
          laestab: 0,
          name: p.name,
          type: 'FREE_SCHOOL' as never,
          establishmentType: 'Free schools',
          status: 'PROPOSED_TO_OPEN' as never,
          openDate: null,
          closeDate: null,
          districtCode: p.districtCode,
          pupilsOnRoll: null,
          percentFsm: null,
        },
        la,
        laName,
      ),
      EstablishmentNumber: '',
    });
  }
  return { rows, links };
}
