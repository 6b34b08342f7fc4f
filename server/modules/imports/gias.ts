import type { Readable } from 'node:stream';
import Decimal from 'decimal.js';
import type { DataSource } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { writeAudit } from '../audit/audit.service';
import { SCHOOL_COLUMNS } from '../school/school.sql';
import { Phase, SchoolStatus, SchoolType } from '../school/school.entity';
import { DATE_REASON, readDateOrBlank, readDecimalCell } from './cells';
import { ErrorList, FileRejected, RowError } from './report';
import { streamCsv, TextEncoding } from './upload';
import { applyClosures, ClosureChange } from '../school/closure';
import { assertImportAllowed } from '../instance/instance';
import { authorize, ACTIONS } from '../../auth/policy';
import { localAuthority } from '../../common/local-authority';

/**
 * Import of the DfE register, GIAS "all establishment data" (edubasealldata<date>.csv): ~50,000 rows of
 * ~140 columns for all of England, Windows-1252, dd-mm-yyyy dates, columns in any order. The file is read
 * as a stream and only the chosen local authority's rows (a few hundred) are kept, so memory does not
 * grow with the file.
 */

export const GIAS_COLUMNS = {
  urn: 'URN',
  la: 'LA (code)',
  laName: 'LA (name)',
  estab: 'EstablishmentNumber',
  name: 'EstablishmentName',
  type: 'TypeOfEstablishment (name)',
  status: 'EstablishmentStatus (name)',
  phase: 'PhaseOfEducation (name)',
  openDate: 'OpenDate',
  closeDate: 'CloseDate',
  pupils: 'NumberOfPupils',
  fsm: 'PercentageFSM',
  ukprn: 'UKPRN',
  postcode: 'Postcode',
  district: 'DistrictAdministrative (code)',
  districtName: 'DistrictAdministrative (name)',
  rpOnRoll: 'ResourcedProvisionOnRoll',
  rpCapacity: 'ResourcedProvisionCapacity',
  unitOnRoll: 'SenUnitOnRoll',
  unitCapacity: 'SenUnitCapacity',
} as const;
type Key = keyof typeof GIAS_COLUMNS;
const REQUIRED: Key[] = ['urn', 'la', 'estab', 'name', 'type', 'status', 'phase', 'district'];

/** State-funded establishment types the hub keeps, with their governance type; every other type is skipped. */
export const STATE_FUNDED_TYPES: Record<string, { type: SchoolType; phase?: Phase }> = {
  'Community school': { type: SchoolType.MAINTAINED },
  'Voluntary aided school': { type: SchoolType.MAINTAINED },
  'Voluntary controlled school': { type: SchoolType.MAINTAINED },
  'Foundation school': { type: SchoolType.MAINTAINED },
  'Local authority nursery school': { type: SchoolType.MAINTAINED },
  'Community special school': { type: SchoolType.MAINTAINED, phase: Phase.SPECIAL },
  'Foundation special school': { type: SchoolType.MAINTAINED, phase: Phase.SPECIAL },
  'Pupil referral unit': { type: SchoolType.MAINTAINED, phase: Phase.PRU },
  'Academy converter': { type: SchoolType.ACADEMY },
  'Academy sponsor led': { type: SchoolType.ACADEMY },
  'Academy special converter': { type: SchoolType.ACADEMY, phase: Phase.SPECIAL },
  'Academy special sponsor led': { type: SchoolType.ACADEMY, phase: Phase.SPECIAL },
  'Academy alternative provision converter': { type: SchoolType.ACADEMY, phase: Phase.PRU },
  'Academy alternative provision sponsor led': { type: SchoolType.ACADEMY, phase: Phase.PRU },
  'Academy 16-19 converter': { type: SchoolType.ACADEMY, phase: Phase.SIXTEEN_PLUS },
  'Academy 16 to 19 sponsor led': { type: SchoolType.ACADEMY, phase: Phase.SIXTEEN_PLUS },
  'Free schools': { type: SchoolType.FREE_SCHOOL },
  'Free schools special': { type: SchoolType.FREE_SCHOOL, phase: Phase.SPECIAL },
  'Free schools alternative provision': { type: SchoolType.FREE_SCHOOL, phase: Phase.PRU },
  'Free schools 16 to 19': { type: SchoolType.FREE_SCHOOL, phase: Phase.SIXTEEN_PLUS },
  'University technical college': { type: SchoolType.FREE_SCHOOL },
  'Studio schools': { type: SchoolType.FREE_SCHOOL },
};

export const GIAS_PHASES: Record<string, Phase> = {
  Nursery: Phase.NURSERY,
  Primary: Phase.PRIMARY,
  'Middle deemed primary': Phase.PRIMARY,
  Secondary: Phase.SECONDARY,
  'Middle deemed secondary': Phase.SECONDARY,
  'All-through': Phase.ALL_THROUGH,
  '16 plus': Phase.SIXTEEN_PLUS,
};

export const GIAS_STATUSES: Record<string, SchoolStatus> = {
  Open: SchoolStatus.OPEN,
  Closed: SchoolStatus.CLOSED,
  'Open, but proposed to close': SchoolStatus.PROPOSED_TO_CLOSE,
  'Proposed to open': SchoolStatus.PROPOSED_TO_OPEN,
};

/** The register fields the hub keeps, normalised so that equal values compare equal. */
export interface GiasSchool {
  urn: number;
  laestab: number;
  name: string;
  phase: Phase;
  type: SchoolType;
  establishmentType: string;
  status: SchoolStatus;
  openDate: string | null;
  closeDate: string | null;
  districtCode: string;
  postcode: string | null;
  ukprn: number | null;
  pupilsOnRoll: number | null;
  percentFsm: string | null;
  srpCapacity: number | null;
  srpOnRoll: number | null;
}
export const COMPARED_FIELDS = [
  'laestab',
  'name',
  'phase',
  'type',
  'establishmentType',
  'status',
  'openDate',
  'closeDate',
  'districtCode',
  'postcode',
  'ukprn',
  'pupilsOnRoll',
  'percentFsm',
  'srpCapacity',
  'srpOnRoll',
] as const;

// UTF-8 multi-byte sequences seen through Windows-1252 ("St Mary’s" becomes "St Maryâ€™s"), or the
// replacement character of a byte the encoding does not define.
const MOJIBAKE =
  /â€|Ã[\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013-\u2122]|Â[\u00A0-\u00BF]|\uFFFD/;

export type ColumnIndex = Record<Key, number>;

/** Maps the header to column positions by name (the order varies between downloads); reports every missing required column. */
export function indexHeader(header: string[]): ColumnIndex {
  const names = header.map((h) => h.replace(/^\uFEFF/, '').trim());
  if (names.includes('LinkURN') && names.includes('LinkType') && !names.includes('EstablishmentName'))
    throw new FileRejected(
      "The file is GIAS's links file (links_edubasealldata), not its establishment file: give edubasealldata<date>.csv here, and the links file with --links (API: POST /import/gias-links) after it.",
      [{ line: 1, column: null, value: null, reason: 'header of the links file' }],
    );
  const idx = {} as ColumnIndex;
  const missing: string[] = [];
  for (const [key, name] of Object.entries(GIAS_COLUMNS) as [Key, string][]) {
    idx[key] = names.indexOf(name);
    if (idx[key] < 0 && REQUIRED.includes(key)) missing.push(name);
  }
  if (missing.length) {
    throw new FileRejected(
      `The file is not a GIAS establishment download: it lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (line 1).`,
      missing.map((column) => ({ line: 1, column, value: null, reason: 'required column is missing from the header' })),
    );
  }
  return idx;
}

export type ParsedRow =
  | { kind: 'school'; school: GiasSchool; districtName: string | null }
  | { kind: 'skip'; reason: string }
  /** Reported in the notes and not imported (a proposed school with no establishment number yet). */
  | { kind: 'held' }
  | { kind: 'reject' };

/** GIAS marks a percentage it withholds (a handful of pupils) as SUPP. */
const SUPPRESSED = new Set(['SUPP', 'SUPPRESSED', 'X', 'C']);
/** An ONS code of a district: E07…, E06… (England), W06… (Wales). */
const ONS_CODE = /^[EWSN]\d{8}$/;

/**
 * Validates one row of the chosen local authority. Every problem in the row is reported, not only the first,
 * so one pass over the file finds them all. What is imported but worth a look (a suppressed FSM figure, a
 * proposed school with no establishment number yet) goes to `notes`, row by row, and never refuses the file.
 */
export function parseGiasRow(
  cells: string[],
  idx: ColumnIndex,
  la: number,
  line: number,
  errors: ErrorList,
  notes: ErrorList = new ErrorList(),
): ParsedRow {
  const get = (k: Key) => (idx[k] >= 0 ? (cells[idx[k]] ?? '').trim() : '');
  const bad = (k: Key, reason: string) => errors.add({ line, column: GIAS_COLUMNS[k], value: get(k), reason });
  const before = errors.count;

  const typeName = get('type');
  const known = STATE_FUNDED_TYPES[typeName];
  if (!known) return { kind: 'skip', reason: typeName || '(no type)' };

  for (const k of Object.keys(GIAS_COLUMNS) as Key[]) {
    if (MOJIBAKE.test(get(k)))
      bad(
        k,
        'looks like UTF-8 text read as Windows-1252: give the file as downloaded from GIAS, or pass --encoding utf8',
      );
  }
  const int = (k: Key, opts: { required?: boolean; min?: number; max?: number } = {}): number | null => {
    const v = get(k);
    if (v === '') {
      if (opts.required) bad(k, 'is required');
      return null;
    }
    if (
      !/^\d+$/.test(v) ||
      (opts.max !== undefined && Number(v) > opts.max) ||
      (opts.min !== undefined && Number(v) < opts.min)
    ) {
      bad(k, `must be a whole number${opts.max !== undefined ? ` from ${opts.min ?? 0} to ${opts.max}` : ''}`);
      return null;
    }
    return Number(v);
  };
  const date = (k: Key): string | null => {
    const d = readDateOrBlank(get(k));
    if (d === undefined) bad(k, DATE_REASON);
    return d ?? null;
  };

  const status = GIAS_STATUSES[get('status')];
  // A school proposed to open has a URN long before it has an establishment number: it waits for one.
  if (status === SchoolStatus.PROPOSED_TO_OPEN && get('estab') === '') {
    notes.add({
      line,
      column: GIAS_COLUMNS.estab,
      value: '',
      reason: `URN ${get('urn') || '(none)'} "${get('name')}" is proposed to open and has no establishment number yet: not imported; it will be once GIAS gives it one`,
    });
    return { kind: 'held' };
  }
  const urn = int('urn', { required: true, min: 100000, max: 999999 });
  const estab = int('estab', { required: true, min: 1000, max: 9999 });
  const name = get('name');
  if (name === '') bad('name', 'is required');
  else if (name.length > 200) bad('name', 'is longer than 200 characters');
  if (!status) bad('status', `is not a GIAS establishment status (${Object.keys(GIAS_STATUSES).join('; ')})`);
  let phase = known.phase ?? GIAS_PHASES[get('phase')];
  if (!phase)
    bad(
      'phase',
      `is not a phase of education for a ${typeName.toLowerCase()} (${Object.keys(GIAS_PHASES).join(', ')})`,
    );
  if (known.phase === Phase.SIXTEEN_PLUS) phase = Phase.SIXTEEN_PLUS;
  const district = get('district');
  if (!ONS_CODE.test(district)) bad('district', 'must be the ONS code of a district, e.g. E07000105');
  const districtName = get('districtName') || null;
  if (districtName && districtName.length > 80) bad('districtName', 'is longer than 80 characters');
  const openDate = date('openDate');
  const closeDate = date('closeDate');
  const fsmRaw = get('fsm');
  let percentFsm: string | null = null;
  if (SUPPRESSED.has(fsmRaw.toUpperCase())) {
    notes.add({
      line,
      column: GIAS_COLUMNS.fsm,
      value: fsmRaw,
      reason: 'is suppressed in GIAS: imported as no figure',
    });
  } else if (fsmRaw === '') {
    if (status && status !== SchoolStatus.CLOSED && idx.fsm >= 0)
      notes.add({ line, column: GIAS_COLUMNS.fsm, value: '', reason: 'is blank: imported as no figure' });
  } else {
    const read = readDecimalCell(fsmRaw, 'percentFsm', GIAS_COLUMNS.fsm);
    if (!read.ok || new Decimal(read.value).gt(100)) bad('fsm', 'must be a percentage from 0 to 100');
    else percentFsm = read.value;
  }
  const postcode = get('postcode') || null;
  if (postcode && postcode.length > 10) bad('postcode', 'is longer than 10 characters');
  const ukprn = int('ukprn', { min: 10000000, max: 19999999 });
  const pupils = int('pupils', { max: 10000 });
  const rpCap = int('rpCapacity', { max: 1000 });
  const unitCap = int('unitCapacity', { max: 1000 });
  const rpRoll = int('rpOnRoll', { max: 1000 });
  const unitRoll = int('unitOnRoll', { max: 1000 });
  const sum = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));

  if (errors.count > before) return { kind: 'reject' };
  return {
    kind: 'school',
    districtName,
    school: {
      urn: urn!,
      laestab: la * 10000 + estab!,
      name,
      phase: phase!,
      type: known.type,
      establishmentType: typeName,
      status: status!,
      openDate,
      closeDate,
      districtCode: district,
      postcode,
      ukprn,
      pupilsOnRoll: pupils,
      percentFsm,
      srpCapacity: sum(rpCap, unitCap),
      srpOnRoll: sum(rpRoll, unitRoll),
    },
  };
}

export interface GiasReport {
  applied: boolean;
  dryRun: boolean;
  la: number;
  sha256: string;
  /** Data rows in the file, all local authorities. */
  rowsRead: number;
  /** Rows of the chosen local authority. */
  rowsForLa: number;
  /** Rows of the local authority that are not state-funded schools (independent schools, colleges, children's centres…), by type. */
  skipped: Record<string, number>;
  added: number;
  updated: number;
  closed: number;
  unchanged: number;
  rejected: number;
  errorCount: number;
  errors: RowError[];
  /**
   * Rows imported or left out on their own, never a reason to refuse the file, each with its line, column,
   * value and reason: a suppressed or blank FSM figure, a proposed school with no establishment number, a school
   * now listed under another local authority.
   */
  notes: RowError[];
  noteCount: number;
  /** Districts of the LA's schools the hub did not hold (created) or held under another name (renamed). */
  districts: { added: { code: string; name: string }[]; renamed: { code: string; from: string; to: string }[] };
  /** Schools the hub holds for this LA that the file lists under another local authority. */
  movedOut: { urn: number; line: number; la: string; laName: string; action: 'CLOSED' | 'LEFT_AS_IS' }[];
  /** URNs per outcome, for the audit log and for people checking a run. */
  changes: { urn: number; action: 'ADDED' | 'UPDATED' | 'CLOSED'; name: string; fields: string[] }[];
  /** What each closure did (applied imports only): memberships ended, allocations left in later terms. */
  closures?: ClosureChange[];
  /** The figures of record recomputed after closures. */
  recomputed?: { termsRecomputed: string[]; schoolTermRowsChanged: number; potsChanged: number } | null;
  message: string;
}

export interface GiasImportOptions {
  /** DfE LA code; the hub's own (HUB_LA) when not given. */
  la?: number;
  viewer: Viewer;
  source: 'API' | 'IMPORT';
  fileName: string;
  dryRun?: boolean;
  encoding?: TextEncoding;
  /** Refuse to close more than this share of the open schools unless told to: a truncated file would otherwise close half the county. */
  maxCloseShare?: number;
  onProgress?: (bytes: number, rows: number) => void;
}

/** Open in the sense of the LAESTAB index: open, or open but proposed to close. */
export const isOpen = (status: SchoolStatus) =>
  status === SchoolStatus.OPEN || status === SchoolStatus.PROPOSED_TO_CLOSE;

/** A school the hub holds for this LA that the file now lists under another local authority. */
export interface MovedOut {
  urn: number;
  line: number;
  la: string;
  laName: string;
  status: SchoolStatus | null;
  closeDate: string | null;
}

/** Streams the file and returns the chosen LA's schools, validated; throws FileRejected for whole-file problems. */
export async function readGias(
  input: Readable,
  opts: { la: number } & Pick<GiasImportOptions, 'encoding' | 'onProgress'>,
  /** URNs the hub holds for this LA: one listed under another LA is reported, not taken as missing. */
  hubUrns: ReadonlySet<number> = new Set(),
): Promise<{
  schools: Map<number, { school: GiasSchool; line: number }>;
  districts: Map<string, { name: string | null; line: number }>;
  movedOut: MovedOut[];
  errors: ErrorList;
  notes: ErrorList;
  rowsRead: number;
  rowsForLa: number;
  skipped: Record<string, number>;
  sha256: string;
}> {
  const errors = new ErrorList();
  const notes = new ErrorList();
  const schools = new Map<number, { school: GiasSchool; line: number }>();
  const districts = new Map<string, { name: string | null; line: number }>();
  const openLaestab = new Map<number, { urn: number; line: number }>();
  const movedOut: MovedOut[] = [];
  const skipped: Record<string, number> = {};
  let rowsRead = 0;
  let rowsForLa = 0;
  let idx: ColumnIndex | null = null;
  let width = 0;
  const laText = String(opts.la);
  const misfit = (line: number, n: number) =>
    errors.add({
      line,
      column: null,
      value: null,
      reason: `has ${n} fields where the header has ${width}: a quote or comma is out of place`,
    });

  const { sha256 } = await streamCsv(
    input,
    { encoding: opts.encoding, onProgress: (bytes) => opts.onProgress?.(bytes, rowsRead), what: 'the GIAS CSV' },
    (record, line) => {
      if (!idx) {
        idx = indexHeader(record);
        width = record.length;
        return;
      }
      rowsRead++;
      const cell = (i: number) => (i >= 0 ? (record[i] ?? '').trim() : '');
      if (cell(idx.la) !== laText) {
        if (record.length !== width && record.length > 1) {
          misfit(line, record.length);
          return;
        }
        const urn = Number(cell(idx.urn));
        if (hubUrns.has(urn)) {
          movedOut.push({
            urn,
            line,
            la: cell(idx.la),
            laName: cell(idx.laName),
            status: GIAS_STATUSES[cell(idx.status)] ?? null,
            closeDate: readDateOrBlank(cell(idx.closeDate)) ?? null,
          });
        }
        return;
      }
      rowsForLa++;
      if (record.length !== width) return misfit(line, record.length);
      const parsed = parseGiasRow(record, idx, opts.la, line, errors, notes);
      if (parsed.kind === 'skip') skipped[parsed.reason] = (skipped[parsed.reason] ?? 0) + 1;
      if (parsed.kind !== 'school') return;
      const s = parsed.school;
      const dup = schools.get(s.urn);
      if (dup) {
        errors.add({
          line,
          column: GIAS_COLUMNS.urn,
          value: String(s.urn),
          reason: `URN ${s.urn} appears twice, on lines ${dup.line} and ${line}: keep one`,
        });
        errors.rejectedLines.add(dup.line);
        return;
      }
      if (isOpen(s.status)) {
        const sameEstab = openLaestab.get(s.laestab);
        if (sameEstab) {
          errors.add({
            line,
            column: GIAS_COLUMNS.estab,
            value: String(s.laestab % 10000),
            reason: `establishment number ${s.laestab % 10000} is also open URN ${sameEstab.urn}'s, on line ${sameEstab.line}, and this open URN ${s.urn}'s, on line ${line}: two open schools cannot share a LAESTAB`,
          });
          errors.rejectedLines.add(sameEstab.line);
          return;
        }
        openLaestab.set(s.laestab, { urn: s.urn, line });
      }
      schools.set(s.urn, { school: s, line });
      const d = districts.get(s.districtCode);
      if (!d || (!d.name && parsed.districtName))
        districts.set(s.districtCode, { name: parsed.districtName ?? d?.name ?? null, line: d?.line ?? line });
    },
  );
  return { schools, districts, movedOut, errors, notes, rowsRead, rowsForLa, skipped, sha256 };
}

type DbSchool = GiasSchool;

function changedFields(a: DbSchool, b: GiasSchool): string[] {
  return COMPARED_FIELDS.filter((f) => {
    const x = a[f];
    const y = b[f];
    if (f === 'percentFsm')
      return (x === null) !== (y === null) || (x !== null && !new Decimal(x as string).eq(y as string));
    return (x ?? null) !== (y ?? null);
  });
}

/**
 * Imports the register for one local authority: upserts by URN, closes open schools that the file no
 * longer lists, never deletes (schools carry money and allocations), and creates the districts of the LA's
 * schools it does not hold yet (areas come from the areas import). All or nothing, in one transaction,
 * audited. A second run of the same file finds every school unchanged and writes nothing.
 *
 * Nothing here moves figures between URNs: a school's money stays with its own URN, and a new URN (an
 * academy that succeeds a maintained school, or a URN that happens to match one the hub held before) starts
 * with none.
 */
export async function importGias(ds: DataSource, input: Readable, opts: GiasImportOptions): Promise<GiasReport> {
  authorize(opts.viewer, ACTIONS.import, 'import');
  await assertImportAllowed(ds);
  const la = opts.la ?? localAuthority().code;
  const laSchools: { urn: number }[] = await ds.query(`SELECT urn FROM school WHERE laestab BETWEEN $1 AND $2`, [
    la * 10000,
    la * 10000 + 9999,
  ]);
  const read = await readGias(input, { ...opts, la }, new Set(laSchools.map((r) => r.urn)));
  const { errors } = read;
  const base = {
    applied: false,
    dryRun: Boolean(opts.dryRun),
    la,
    sha256: read.sha256,
    rowsRead: read.rowsRead,
    rowsForLa: read.rowsForLa,
    skipped: read.skipped,
  };
  if (read.rowsForLa === 0 && errors.count === 0) {
    throw new FileRejected(
      `The file has no establishments of LA ${la}: check --la (the hub's own is ${localAuthority().code}, ${localAuthority().name}; HUB_LA sets it) and that this is the national download.`,
      [],
    );
  }

  return ds.transaction(async (tx) => {
    // Lock the register against a concurrent import: the diff below must stay true until commit.
    await tx.query(`LOCK TABLE school IN SHARE ROW EXCLUSIVE MODE`);
    const existing: DbSchool[] = await tx.query(
      `SELECT ${SCHOOL_COLUMNS} FROM school s WHERE s.laestab BETWEEN $1 AND $2`,
      [la * 10000, la * 10000 + 9999],
    );
    const byUrn = new Map(existing.map((s) => [s.urn, s]));

    // Districts: the file names the LA's own; the hub creates those it lacks and follows GIAS's names.
    const heldDistricts: { code: string; name: string }[] = await tx.query(
      `SELECT ons_code AS code, name FROM district`,
    );
    const heldName = new Map(heldDistricts.map((d) => [d.code, d.name]));
    const districtsAdded: { code: string; name: string }[] = [];
    const districtsRenamed: { code: string; from: string; to: string }[] = [];
    for (const [code, d] of read.districts) {
      const held = heldName.get(code);
      if (held === undefined) {
        if (!d.name)
          errors.add({
            line: d.line,
            column: GIAS_COLUMNS.districtName,
            value: '',
            reason: `is blank, and the hub does not hold district ${code} yet: give its name`,
          });
        else districtsAdded.push({ code, name: d.name });
      } else if (d.name && d.name !== held) districtsRenamed.push({ code, from: held, to: d.name });
    }

    // Schools now listed under another LA: reported; closed when GIAS closes them, else left as they are.
    const movedOut: GiasReport['movedOut'] = [];
    const movedClosed = new Map<number, string>();
    for (const m of read.movedOut) {
      const held = byUrn.get(m.urn)!;
      const closes = m.status === SchoolStatus.CLOSED && held.status !== SchoolStatus.CLOSED;
      const wasClosed = held.status === SchoolStatus.CLOSED;
      if (closes) movedClosed.set(m.urn, m.closeDate ?? held.closeDate ?? new Date().toISOString().slice(0, 10));
      movedOut.push({ urn: m.urn, line: m.line, la: m.la, laName: m.laName, action: closes ? 'CLOSED' : 'LEFT_AS_IS' });
      read.notes.add({
        line: m.line,
        column: GIAS_COLUMNS.la,
        value: m.la,
        reason:
          `URN ${m.urn} "${held.name}" is now listed under LA ${m.la}${m.laName ? ` (${m.laName})` : ''}: ` +
          (closes
            ? `GIAS closes it, so the hub closes it on ${movedClosed.get(m.urn)}`
            : wasClosed
              ? 'it is closed in the hub, and left so'
              : 'not counted as missing, and left as it is; check with that authority whether the hub should still fund it'),
      });
    }

    const upserts: GiasSchool[] = [];
    const changes: GiasReport['changes'] = [];
    let added = 0;
    let updated = 0;
    let closed = 0;
    let unchanged = 0;
    for (const { school } of read.schools.values()) {
      const before = byUrn.get(school.urn);
      if (!before) {
        added++;
        upserts.push(school);
        changes.push({ urn: school.urn, action: 'ADDED', name: school.name, fields: [] });
        continue;
      }
      const fields = changedFields(before, school);
      if (fields.length === 0) {
        unchanged++;
        continue;
      }
      upserts.push(school);
      const closing = school.status === SchoolStatus.CLOSED && before.status !== SchoolStatus.CLOSED;
      if (closing) closed++;
      else updated++;
      changes.push({ urn: school.urn, action: closing ? 'CLOSED' : 'UPDATED', name: school.name, fields });
    }
    const movedUrns = new Set(read.movedOut.map((m) => m.urn));
    const missing = existing.filter(
      (s) => !read.schools.has(s.urn) && !movedUrns.has(s.urn) && s.status !== SchoolStatus.CLOSED,
    );
    const open = existing.filter((s) => s.status !== SchoolStatus.CLOSED).length;
    const maxShare = opts.maxCloseShare ?? 0.2;
    if (missing.length > 0 && missing.length > open * maxShare && errors.count === 0) {
      throw new FileRejected(
        `The file would close ${missing.length} of ${open} open schools in LA ${la} because it does not list them: is it truncated or filtered? ` +
          `Nothing was imported. Pass --allow-mass-close (API: allowMassClose=true) if this is intended.`,
        [],
      );
    }
    for (const s of missing) {
      closed++;
      changes.push({ urn: s.urn, action: 'CLOSED', name: s.name, fields: ['status'] });
    }
    for (const [urn] of movedClosed) {
      closed++;
      changes.push({ urn, action: 'CLOSED', name: byUrn.get(urn)!.name, fields: ['status'] });
    }

    // LAESTAB is unique among open schools: check the register as it will stand, with the lines to fix.
    const openAfter = new Map<number, { urn: number; line: number | null }>();
    const willClose = new Set([...missing.map((s) => s.urn), ...movedClosed.keys()]);
    for (const s of existing) {
      if (read.schools.has(s.urn) || willClose.has(s.urn) || !isOpen(s.status)) continue;
      openAfter.set(s.laestab, { urn: s.urn, line: null });
    }
    for (const { school, line } of read.schools.values()) {
      if (!isOpen(school.status)) continue;
      const holder = openAfter.get(school.laestab);
      if (holder) {
        const where = movedUrns.has(holder.urn)
          ? `, which the file lists under another local authority (line ${read.movedOut.find((m) => m.urn === holder.urn)!.line}) and does not close`
          : '';
        errors.add({
          line,
          column: GIAS_COLUMNS.estab,
          value: String(school.laestab % 10000),
          reason: `LAESTAB ${school.laestab} is held in the hub by open URN ${holder.urn}${where}: two open schools cannot share a LAESTAB`,
        });
        continue;
      }
      openAfter.set(school.laestab, { urn: school.urn, line });
    }

    const rejected = errors.rejectedLines.size || (errors.count > 0 ? errors.count : 0);
    const report: GiasReport = {
      ...base,
      added,
      updated,
      closed,
      unchanged,
      rejected,
      errorCount: errors.count,
      errors: errors.items,
      notes: read.notes.items,
      noteCount: read.notes.count,
      districts: { added: districtsAdded, renamed: districtsRenamed },
      movedOut,
      changes,
      message: '',
    };
    const noted = read.notes.count
      ? ` ${read.notes.count} row${read.notes.count > 1 ? 's' : ''} noted (see notes).`
      : '';
    if (errors.count > 0) {
      report.added = report.updated = report.closed = 0;
      report.districts = { added: [], renamed: [] };
      report.message = `Nothing imported: ${errors.count} problem${errors.count > 1 ? 's' : ''} in ${rejected} row${rejected > 1 ? 's' : ''}. Fix them and import the file again.`;
      return report;
    }
    const districtText = districtsAdded.length
      ? ` ${districtsAdded.length} district${districtsAdded.length > 1 ? 's' : ''} created (${districtsAdded.map((d) => d.name).join(', ')}).`
      : '';
    report.message =
      (opts.dryRun
        ? `Dry run: would add ${added}, update ${updated}, close ${closed}; ${unchanged} unchanged.`
        : `Imported: added ${added}, updated ${updated}, closed ${closed}; ${unchanged} unchanged.`) +
      districtText +
      noted;
    if (opts.dryRun || (changes.length === 0 && districtsAdded.length === 0 && districtsRenamed.length === 0))
      return report;

    if (districtsAdded.length || districtsRenamed.length) {
      const all = [...districtsAdded, ...districtsRenamed.map((d) => ({ code: d.code, name: d.to }))];
      await tx.query(
        `INSERT INTO district (ons_code, name, area_code) SELECT c, n, NULL FROM unnest($1::text[], $2::text[]) x(c, n)
         ON CONFLICT (ons_code) DO UPDATE SET name = EXCLUDED.name`,
        [all.map((d) => d.code), all.map((d) => d.name)],
      );
    }
    // A school the file no longer lists closes today, unless the hub already knows an earlier close date.
    // Closures first, then the schools closing in the file, then the rest: the open-LAESTAB index holds at each row.
    const today = new Date().toISOString().slice(0, 10);
    if (missing.length)
      await tx.query(
        `UPDATE school SET status = 'CLOSED', close_date = coalesce(close_date, $2::date) WHERE urn = ANY($1::int[])`,
        [missing.map((s) => s.urn), today],
      );
    for (const [urn, date] of movedClosed)
      await tx.query(`UPDATE school SET status = 'CLOSED', close_date = $2::date WHERE urn = $1`, [urn, date]);
    const closingFirst = upserts.filter((u) => !isOpen(u.status));
    const rest = upserts.filter((u) => isOpen(u.status));
    for (const part of [closingFirst, rest])
      for (let i = 0; i < part.length; i += 1000) await upsertSchools(tx, part.slice(i, i + 1000));
    const closing = changes
      .filter((c) => c.action === 'CLOSED')
      .map((c) => ({
        urn: c.urn,
        closeDate:
          read.schools.get(c.urn)?.school.closeDate ?? movedClosed.get(c.urn) ?? byUrn.get(c.urn)?.closeDate ?? today,
      }));
    const closures = await applyClosures(tx, closing, 'Closing these schools');
    report.closures = closures.changes;
    report.recomputed = closures.recomputed
      ? {
          termsRecomputed: closures.recomputed.termsRecomputed,
          schoolTermRowsChanged: closures.recomputed.schoolTermRowsChanged,
          potsChanged: closures.recomputed.potsChanged,
        }
      : null;
    const pending = closures.changes.reduce((n, c) => n + c.allocationsAfterClosure.length, 0);
    if (closures.recomputed) {
      report.message +=
        ` Memberships of ${closures.changes.filter((c) => c.membershipsEnded.length || c.membershipsRemoved.length).length} closed school(s) end on their close date; ` +
        `shares recomputed for ${closures.recomputed.termsRecomputed.join(', ') || 'no open term'} (${closures.recomputed.schoolTermRowsChanged} school-term rows changed).`;
    }
    if (pending)
      report.message += ` ${pending} allocation(s) for closed schools in terms after their closure remain: withdraw them.`;
    await writeAudit(
      tx,
      { viewer: opts.viewer, source: opts.source, reason: `GIAS register import of ${opts.fileName}` },
      [
        {
          entity: 'IMPORT',
          entityId: `GIAS-${la}-${read.sha256.slice(0, 16)}`,
          action: 'IMPORT_GIAS',
          before: {
            schools: changes.filter((c) => c.action !== 'ADDED').map((c) => pick(byUrn.get(c.urn)!, c.fields)),
            districts: districtsRenamed.map((d) => ({ code: d.code, name: d.from })),
          },
          after: {
            file: opts.fileName,
            sha256: read.sha256,
            summary: { added, updated, closed, unchanged },
            districts: { added: districtsAdded, renamed: districtsRenamed },
            movedOut,
            notes: read.notes.items,
            closures: closures.changes,
            schools: changes.map((c) => ({
              action: c.action,
              ...(c.action === 'ADDED'
                ? read.schools.get(c.urn)!.school
                : pick(read.schools.get(c.urn)?.school ?? { status: 'CLOSED' }, c.fields)),
              urn: c.urn,
            })),
          },
        },
      ],
    );
    report.applied = true;
    return report;
  });
}

function pick(o: object, fields: string[]): Record<string, unknown> {
  const src = o as Record<string, unknown>;
  return Object.fromEntries(
    [['urn', src.urn], ...fields.map((f) => [f, src[f] ?? null])].filter(([, v]) => v !== undefined),
  );
}

async function upsertSchools(tx: import('typeorm').EntityManager, rows: GiasSchool[]): Promise<void> {
  const col = <K extends keyof GiasSchool>(k: K) => rows.map((r) => r[k]);
  await tx.query(
    `INSERT INTO school (urn, laestab, name, phase, type, establishment_type, status, open_date, close_date, district_code, postcode, ukprn,
                         pupils_on_roll, percent_fsm, srp_capacity, srp_on_roll)
     SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[], $9::date[], $10::text[],
                          $11::text[], $12::int[], $13::int[], $14::numeric[], $15::int[], $16::int[])
     ON CONFLICT (urn) DO UPDATE SET laestab = EXCLUDED.laestab, name = EXCLUDED.name, phase = EXCLUDED.phase, type = EXCLUDED.type,
       establishment_type = EXCLUDED.establishment_type, status = EXCLUDED.status, open_date = EXCLUDED.open_date, close_date = EXCLUDED.close_date,
       district_code = EXCLUDED.district_code, postcode = EXCLUDED.postcode, ukprn = EXCLUDED.ukprn, pupils_on_roll = EXCLUDED.pupils_on_roll,
       percent_fsm = EXCLUDED.percent_fsm, srp_capacity = EXCLUDED.srp_capacity, srp_on_roll = EXCLUDED.srp_on_roll`,
    [
      col('urn'),
      col('laestab'),
      col('name'),
      col('phase'),
      col('type'),
      col('establishmentType'),
      col('status'),
      col('openDate'),
      col('closeDate'),
      col('districtCode'),
      col('postcode'),
      col('ukprn'),
      col('pupilsOnRoll'),
      col('percentFsm'),
      col('srpCapacity'),
      col('srpOnRoll'),
    ],
  );
}
