import type { EntityManager } from 'typeorm';
import type { AuditEntry } from '../audit/audit.service';
import { BANDS } from '../funding/model';
import { WorkerRole } from '../caseload/caseload.entity';
import { SettingKind } from '../early-years/early-years.entity';
import { communityOn, type MembershipSpan } from '../community/membership';
import { loadPeriodCatalogue } from '../period/period.service';
import { followPotShares, recomputeRecord } from '../scenario/parameters.service';
import type { ErrorList } from './report';
import type { ApplyResult, Bad, ImportKind, ImportRow, RecordsImport, Refs, ReplaceImport } from './kinds';
import { columnStore, loadBy, upsert, URN_FIELD } from './kind-parts';

/**
 * Reference data from the authority's own sources, through the one import machinery (validate.ts, apply.ts: the
 * same validation, all-or-nothing transaction, audit, templates, CLI and HTTP routes): areas, communities and
 * their effective-dated memberships, the LA's school-term dates, caseload workers, early years settings and
 * EHCP band counts. Districts come from GIAS; financial years, academic years and funding terms are generated
 * by the hub (`npm run periods`, server/modules/period/period.calendar.ts).
 */

const ONS_RE = /^[EWSN]\d{8}$/;

const splitCodes = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((c) => c.trim())
    .filter(Boolean);

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

function schoolExists(refs: Refs, row: ImportRow, bad: Bad) {
  const u = row.values.schoolUrn as number | null;
  if (u !== null && u !== undefined && !refs.schools.has(u))
    bad('schoolUrn', 'is not a school in the hub (schools come from the GIAS import)');
}
function districtExists(refs: Refs, field: string, v: unknown, bad: Bad) {
  if (typeof v === 'string' && !refs.districts.has(v))
    bad(field, 'is not a district in the hub (districts come from the GIAS import)');
}
function maxLength(field: string, v: unknown, n: number, bad: Bad) {
  if (typeof v === 'string' && v.length > n) bad(field, `is longer than ${n} characters`);
}

// ---------------------------------------------------------------------------------------------------------
// Areas

const areas: ReplaceImport = {
  kind: 'areas',
  mode: 'replace',
  title: 'Areas and their districts',
  description:
    "The authority's areas (each with an Area Board) and the districts in each. Districts come from the GIAS import; " +
    'this file places each listed district in its area. Districts not listed stay where they are.',
  fields: [
    { name: 'areaCode', kind: 'code', required: true, description: 'Short area code, e.g. NORTH.', example: 'NORTH' },
    { name: 'name', kind: 'text', required: true, maxLength: 80, description: 'Area name.', example: 'North' },
    {
      name: 'districtCodes',
      kind: 'text',
      required: true,
      maxLength: 2000,
      description: "ONS codes of the area's districts, separated by semicolons or spaces.",
      example: 'E07000105; E07000107',
    },
  ],
  key: ['areaCode'],
  check(row, refs, bad) {
    const v = row.values;
    maxLength('areaCode', v.areaCode, 16, bad);
    if (typeof v.districtCodes !== 'string') return;
    const codes = splitCodes(v.districtCodes);
    const malformed = codes.filter((c) => !ONS_RE.test(c));
    if (malformed.length)
      bad('districtCodes', `holds ${malformed.join(', ')}, not ONS district codes (e.g. E07000105)`);
    const unknown = codes.filter((c) => ONS_RE.test(c) && !refs.districts.has(c));
    if (unknown.length)
      bad(
        'districtCodes',
        `names ${unknown.join(', ')}: not districts in the hub (districts come from the GIAS import)`,
      );
  },
  async checkAgainstStore(_tx, rows, errors) {
    const first = new Map<string, { line: number; area: string }>();
    for (const r of rows) {
      for (const d of splitCodes(r.values.districtCodes as string)) {
        const seen = first.get(d);
        if (seen && seen.area !== r.values.areaCode) {
          errors.add({
            line: r.line,
            column: 'districtCodes',
            value: d,
            reason: `district ${d} is also in area ${seen.area} on line ${seen.line}: a district is in one area`,
          });
          errors.rejectedLines.add(seen.line);
        } else first.set(d, { line: r.line, area: r.values.areaCode as string });
      }
    }
  },
  async apply(tx, rows) {
    const stored: { code: string; name: string }[] = await tx.query(`SELECT code, name FROM area`);
    const byCode = new Map(stored.map((a) => [a.code, a.name]));
    const districts: { code: string; name: string; area: string }[] = await tx.query(
      `SELECT ons_code AS code, name, area_code AS area FROM district`,
    );
    const districtBy = new Map(districts.map((d) => [d.code, d]));
    const audit: AuditEntry[] = [];
    const notes: string[] = [];
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    const areaRows = rows.map((r) => ({ code: r.values.areaCode as string, name: r.values.name as string }));
    await upsert(
      tx,
      'area',
      ['code'],
      [
        ['code', 'text'],
        ['name', 'text'],
      ],
      areaRows,
    );
    const moves: { code: string; area: string }[] = [];
    for (const r of rows) {
      const code = r.values.areaCode as string;
      const was = byCode.get(code);
      const placed = splitCodes(r.values.districtCodes as string).filter((d) => districtBy.get(d)!.area !== code);
      for (const d of placed) {
        const from = districtBy.get(d)!.area;
        moves.push({ code: d, area: code });
        notes.push(
          from
            ? `District ${d} (${districtBy.get(d)!.name}) moves from area ${from} to ${code}.`
            : `District ${d} (${districtBy.get(d)!.name}) is placed in area ${code}.`,
        );
        audit.push({
          entity: 'IMPORT',
          entityId: `areas:district:${d}`,
          action: 'UPDATE',
          before: { areaCode: from },
          after: { areaCode: code },
        });
      }
      if (was === undefined) created++;
      else if (was !== r.values.name || placed.length) updated++;
      else unchanged++;
      if (was !== r.values.name)
        audit.push({
          entity: 'IMPORT',
          entityId: `areas:${code}`,
          action: was === undefined ? 'CREATE' : 'UPDATE',
          before: was === undefined ? null : { name: was },
          after: { name: r.values.name },
        });
    }
    if (moves.length)
      await tx.query(
        `UPDATE district d SET area_code = x.area FROM unnest($1::text[], $2::text[]) AS x(code, area) WHERE d.ons_code = x.code`,
        [moves.map((m) => m.code), moves.map((m) => m.area)],
      );
    // A community's area is its primary district's.
    await tx.query(
      `UPDATE community c SET area_code = d.area_code FROM district d WHERE d.ons_code = c.primary_district_code AND c.area_code <> d.area_code`,
    );
    return { created, updated, unchanged, audit, notes };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Communities

const communities: RecordsImport = {
  kind: 'communities',
  mode: 'records',
  title: 'Communities of Schools',
  description:
    "Each Community of Schools: code, name, primary district (its area follows the district's), the Chair and the aligned " +
    'NHS Primary Care Network. Members come from the community-memberships import.',
  fields: [
    { name: 'communityCode', kind: 'code', required: true, description: 'Community code.', example: 'ASH-01' },
    {
      name: 'name',
      kind: 'text',
      required: true,
      maxLength: 120,
      description: 'Community name.',
      example: 'Ashford 1',
    },
    {
      name: 'primaryDistrictCode',
      kind: 'code',
      required: true,
      description: "ONS code of the community's primary district.",
      example: 'E07000105',
    },
    {
      name: 'chairName',
      kind: 'text',
      required: false,
      maxLength: 120,
      description: 'Name of the Chair (a serving school leader).',
      example: 'A. Head',
    },
    {
      name: 'chairContact',
      kind: 'text',
      required: false,
      maxLength: 200,
      description: "The Chair's work e-mail or telephone.",
      example: 'chair@school.example',
    },
    {
      name: 'chairSchoolUrn',
      kind: 'int',
      required: false,
      description: "URN of the Chair's school.",
      example: '118001',
    },
    {
      name: 'pcnName',
      kind: 'text',
      required: true,
      maxLength: 120,
      description: 'Name of the aligned NHS Primary Care Network.',
      example: 'Ashford Rural PCN',
    },
  ],
  key: ['communityCode'],
  check(row, refs, bad) {
    const v = row.values;
    maxLength('communityCode', v.communityCode, 16, bad);
    districtExists(refs, 'primaryDistrictCode', v.primaryDistrictCode, bad);
    if (refs.unplacedDistricts.has(v.primaryDistrictCode as string))
      bad(
        'primaryDistrictCode',
        "is in no area yet (a community's area is its district's): import the areas file first",
      );
    const u = v.chairSchoolUrn as number | null | undefined;
    if (typeof u === 'number' && !refs.schools.has(u)) bad('chairSchoolUrn', 'is not a school in the hub');
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: v.communityCode as string,
      after: {
        name: v.name,
        primaryDistrictCode: v.primaryDistrictCode,
        chairName: v.chairName ?? null,
        chairContact: v.chairContact ?? null,
        chairSchoolUrn: v.chairSchoolUrn ?? null,
        pcnName: v.pcnName,
      },
    })),
  store: columnStore({
    table: 'community',
    id: ['code', 'text'],
    columns: {
      name: ['name', 'text'],
      primaryDistrictCode: ['primary_district_code', 'text'],
      chairName: ['chair_name', 'text'],
      chairContact: ['chair_contact', 'text'],
      chairSchoolUrn: ['chair_school_urn', 'int'],
      pcnName: ['pcn_name', 'text'],
    },
    extra: {
      column: 'area_code',
      expr: '(SELECT d.area_code FROM district d WHERE d.ons_code = x.primary_district_code)',
    },
  }),
};

// ---------------------------------------------------------------------------------------------------------
// Community memberships

interface Span extends MembershipSpan {
  id: number;
}
type Op =
  | { op: 'insert'; span: MembershipSpan }
  | { op: 'update'; id: number; span: MembershipSpan; before: MembershipSpan }
  | { op: 'delete'; id: number; before: MembershipSpan };

const overlaps = (a: MembershipSpan, from: string, to: string | null) =>
  a.effectiveFrom < (to ?? '9999-12-31') && (a.effectiveTo ?? '9999-12-31') > from;
const spanText = (s: MembershipSpan) =>
  `${s.communityCode} from ${s.effectiveFrom}${s.effectiveTo ? ` to ${s.effectiveTo}` : ''}`;
const dayBefore = (iso: string) => new Date(Date.parse(`${iso}T00:00:00Z`) - 86400000).toISOString().slice(0, 10);

/**
 * What a memberships file does to the stored spans, row by row in date order per school: a row with a stored
 * span's start date updates that span; any other overlap is an error unless the row asks to replace it, and then
 * the overlapped spans are cut back, split around the row, moved on or deleted. Every move is said in words.
 */
function planMemberships(
  stored: Span[],
  rows: ImportRow[],
  names: Map<number, string>,
): {
  ops: Op[];
  notes: string[];
  errors: { line: number; column: string; value: string; reason: string }[];
  unchanged: number;
} {
  const ops: Op[] = [];
  const notes: string[] = [];
  const errors: { line: number; column: string; value: string; reason: string }[] = [];
  let unchanged = 0;
  const bySchool = new Map<number, Span[]>();
  for (const s of stored) bySchool.set(s.schoolUrn, [...(bySchool.get(s.schoolUrn) ?? []), { ...s }]);
  let nextTemp = -1;
  const sorted = [...rows].sort(
    (a, b) =>
      (a.values.schoolUrn as number) - (b.values.schoolUrn as number) ||
      String(a.values.effectiveFrom).localeCompare(String(b.values.effectiveFrom)),
  );
  // Rows of one school in one file may not overlap each other.
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1].values;
    const b = sorted[i].values;
    if (
      a.schoolUrn === b.schoolUrn &&
      overlaps(a as never as MembershipSpan, b.effectiveFrom as string, str(b.effectiveTo))
    ) {
      errors.push({
        line: sorted[i].line,
        column: 'effectiveFrom',
        value: String(b.effectiveFrom),
        reason: `overlaps line ${sorted[i - 1].line} of this file for school ${b.schoolUrn} (${a.communityCode} from ${a.effectiveFrom}${a.effectiveTo ? ` to ${a.effectiveTo}` : ''}): end one before the other starts`,
      });
    }
  }
  if (errors.length) return { ops, notes, errors, unchanged };
  for (const r of sorted) {
    const v = r.values;
    const urn = v.schoolUrn as number;
    const row: MembershipSpan = {
      schoolUrn: urn,
      communityCode: v.communityCode as string,
      effectiveFrom: v.effectiveFrom as string,
      effectiveTo: str(v.effectiveTo),
    };
    const replace = v.replaceOverlapping === true;
    const spans = bySchool.get(urn) ?? [];
    const who = `School ${urn}${names.get(urn) ? ` (${names.get(urn)})` : ''}`;
    const same = spans.find((s) => s.effectiveFrom === row.effectiveFrom);
    const others = spans.filter((s) => s !== same && overlaps(s, row.effectiveFrom, row.effectiveTo));
    if (same && same.communityCode === row.communityCode && same.effectiveTo === row.effectiveTo && !others.length) {
      unchanged++;
      continue;
    }
    if (others.length && !replace) {
      errors.push({
        line: r.line,
        column: 'effectiveFrom',
        value: row.effectiveFrom,
        reason: `overlaps the school's stored membership of ${others.map(spanText).join(' and of ')}: set replaceOverlapping to TRUE to replace the overlapped period`,
      });
      continue;
    }
    const prev = communityOn(spans, dayBefore(row.effectiveFrom)).get(urn) ?? null;
    for (const o of others) {
      const before = { ...o };
      const endsAfter = row.effectiveTo !== null && (o.effectiveTo === null || o.effectiveTo > row.effectiveTo);
      if (o.effectiveFrom < row.effectiveFrom) {
        o.effectiveTo = row.effectiveFrom;
        ops.push({ op: 'update', id: o.id, span: { ...o }, before });
        notes.push(`${who}: its membership of ${spanText(before)} now ends on ${row.effectiveFrom}.`);
        if (endsAfter) {
          const rest: Span = { ...before, id: nextTemp--, effectiveFrom: row.effectiveTo! };
          spans.push(rest);
          ops.push({ op: 'insert', span: rest });
          notes.push(`${who} returns to ${rest.communityCode} on ${rest.effectiveFrom}.`);
        }
      } else if (endsAfter) {
        o.effectiveFrom = row.effectiveTo!;
        ops.push({ op: 'update', id: o.id, span: { ...o }, before });
        notes.push(`${who}: its membership of ${spanText(before)} now starts on ${o.effectiveFrom}.`);
      } else {
        spans.splice(spans.indexOf(o), 1);
        ops.push({ op: 'delete', id: o.id, before });
        notes.push(`${who}: its membership of ${spanText(before)} is replaced.`);
      }
    }
    if (same) {
      const before = { ...same };
      Object.assign(same, row);
      ops.push({ op: 'update', id: same.id, span: row, before });
    } else {
      const span: Span = { ...row, id: nextTemp-- };
      spans.push(span);
      ops.push({ op: 'insert', span: row });
    }
    bySchool.set(urn, spans);
    if (prev === row.communityCode) {
      if (same)
        notes.push(`${who} stays in ${row.communityCode}${row.effectiveTo ? ` until ${row.effectiveTo}` : ''}.`);
    } else
      notes.push(`${who} ${prev ? `moves from ${prev} to` : 'joins'} ${row.communityCode} on ${row.effectiveFrom}.`);
    if (row.effectiveTo && !spans.some((s) => s.effectiveFrom === row.effectiveTo))
      notes.push(`${who} leaves ${row.communityCode} on ${row.effectiveTo}.`);
  }
  return { ops, notes, errors, unchanged };
}

async function storedSpans(tx: EntityManager, urns: number[]): Promise<Span[]> {
  return tx.query(
    `SELECT id, school_urn AS "schoolUrn", community_code AS "communityCode", effective_from::text AS "effectiveFrom",
            effective_to::text AS "effectiveTo" FROM community_membership WHERE school_urn = ANY($1::int[]) ORDER BY id FOR UPDATE`,
    [urns],
  );
}

async function schoolNames(tx: EntityManager, urns: number[]): Promise<Map<number, string>> {
  const rows: { urn: number; name: string }[] = await tx.query(
    `SELECT urn, name FROM school WHERE urn = ANY($1::int[])`,
    [urns],
  );
  return new Map(rows.map((r) => [r.urn, r.name]));
}

const urnsOf = (rows: ImportRow[]) => [...new Set(rows.map((r) => r.values.schoolUrn as number))];

const memberships: ReplaceImport = {
  kind: 'community-memberships',
  mode: 'replace',
  title: 'Community of Schools memberships',
  description:
    'Which community each school belongs to, from a date (inclusive) to a date (exclusive; empty while current). A row ' +
    "with the start date of a stored membership changes it. A row overlapping another of the school's stored memberships is " +
    'refused unless replaceOverlapping is TRUE; then the overlapped period is cut back or replaced. The report says every move. ' +
    'Pot shares of open terms follow the new members.',
  fields: [
    URN_FIELD,
    { name: 'communityCode', kind: 'code', required: true, description: 'Community code.', example: 'ASH-01' },
    {
      name: 'effectiveFrom',
      kind: 'date',
      required: true,
      description: 'First day of membership (YYYY-MM-DD or DD/MM/YYYY).',
      example: '2025-04-01',
    },
    {
      name: 'effectiveTo',
      kind: 'date',
      required: false,
      description: 'Day the membership ends (exclusive); empty while current.',
      example: '',
    },
    {
      name: 'replaceOverlapping',
      kind: 'bool',
      required: false,
      description:
        "TRUE to replace the school's stored memberships this row overlaps (a move); empty or FALSE to refuse.",
      example: 'FALSE',
    },
  ],
  key: ['schoolUrn', 'effectiveFrom'],
  check(row, refs, bad) {
    const v = row.values;
    schoolExists(refs, row, bad);
    if (typeof v.communityCode === 'string' && !refs.communities.has(v.communityCode))
      bad('communityCode', 'is not a Community of Schools in the hub (import communities first)');
    if (typeof v.effectiveTo === 'string' && typeof v.effectiveFrom === 'string' && v.effectiveTo <= v.effectiveFrom)
      bad('effectiveTo', `must be after effectiveFrom (${v.effectiveFrom})`);
  },
  async checkAgainstStore(tx, rows, errors: ErrorList) {
    await tx.query(`LOCK TABLE community_membership IN SHARE ROW EXCLUSIVE MODE`);
    const urns = urnsOf(rows);
    const plan = planMemberships(await storedSpans(tx, urns), rows, new Map());
    for (const e of plan.errors) errors.add(e);
  },
  async apply(tx, rows): Promise<ApplyResult> {
    const urns = urnsOf(rows);
    const stored = await storedSpans(tx, urns);
    const plan = planMemberships(stored, rows, await schoolNames(tx, urns));
    const audit: AuditEntry[] = [];
    // Deletes and cut-backs first, so the (school, start) index never sees two spans at once.
    for (const o of plan.ops.filter((x) => x.op === 'delete')) {
      await tx.query(`DELETE FROM community_membership WHERE id = $1`, [o.id]);
    }
    for (const o of plan.ops.filter((x) => x.op === 'update')) {
      if (o.op !== 'update') continue;
      await tx.query(
        `UPDATE community_membership SET community_code = $2, effective_from = $3, effective_to = $4 WHERE id = $1`,
        [o.id, o.span.communityCode, o.span.effectiveFrom, o.span.effectiveTo],
      );
    }
    const inserts = plan.ops.filter((x): x is Extract<Op, { op: 'insert' }> => x.op === 'insert');
    if (inserts.length)
      await tx.query(
        `INSERT INTO community_membership (school_urn, community_code, effective_from, effective_to)
         SELECT * FROM unnest($1::int[], $2::text[], $3::date[], $4::date[])`,
        [
          inserts.map((o) => o.span.schoolUrn),
          inserts.map((o) => o.span.communityCode),
          inserts.map((o) => o.span.effectiveFrom),
          inserts.map((o) => o.span.effectiveTo),
        ],
      );
    const label = (s: MembershipSpan) => `community-memberships:${s.schoolUrn}|${s.effectiveFrom}`;
    const plain = (s: MembershipSpan) => ({
      communityCode: s.communityCode,
      effectiveFrom: s.effectiveFrom,
      effectiveTo: s.effectiveTo,
    });
    for (const o of plan.ops) {
      if (o.op === 'insert')
        audit.push({ entity: 'IMPORT', entityId: label(o.span), action: 'CREATE', before: null, after: plain(o.span) });
      else if (o.op === 'update')
        audit.push({
          entity: 'IMPORT',
          entityId: label(o.before),
          action: 'UPDATE',
          before: plain(o.before),
          after: plain(o.span),
        });
      else
        audit.push({
          entity: 'IMPORT',
          entityId: label(o.before),
          action: 'DELETE',
          before: plain(o.before),
          after: null,
        });
    }
    // Pot shares of open terms follow the new members, for every community a school left or joined.
    const touched = plan.ops.flatMap((o) =>
      o.op === 'delete' ? [o.before] : o.op === 'update' ? [o.before, o.span] : [o.span],
    );
    if (touched.length) {
      const from = touched.map((s) => s.effectiveFrom).sort()[0];
      const pots: { communityCode: string; term: string; amount: string }[] = await tx.query(
        `SELECT p.community_code AS "communityCode", p.term_code AS term, p.amount::text AS amount
           FROM community_pot p JOIN funding_term t ON t.code = p.term_code
          WHERE p.community_code = ANY($1::text[]) AND NOT t.closed AND t.end_date >= $2::date`,
        [[...new Set(touched.map((s) => s.communityCode))], from],
      );
      await followPotShares(tx, pots);
    }
    const rowsChanged = rows.length - plan.unchanged;
    const created = plan.ops.filter((o) => o.op === 'insert').length;
    return {
      created: Math.min(created, rowsChanged),
      updated: Math.max(0, rowsChanged - created),
      unchanged: plan.unchanged,
      audit,
      notes: plan.notes,
    };
  },
};

// ---------------------------------------------------------------------------------------------------------
// School terms

const schoolTerms: RecordsImport = {
  kind: 'school-terms',
  mode: 'records',
  title: "The LA's school term dates",
  description:
    "The authority's six school terms a year (T1-T6) with their first and last days. Each term belongs to the funding term " +
    'its first day falls in: generate the periods first (npm run periods -- FIRST-YEAR LAST-YEAR).',
  fields: [
    {
      name: 'academicYear',
      kind: 'code',
      required: true,
      description: 'Academic year code, e.g. 2025/26.',
      example: '2025/26',
    },
    {
      name: 'termNumber',
      kind: 'int',
      required: true,
      description: 'Term 1 to 6 (T1 starts in September).',
      example: '1',
    },
    { name: 'startDate', kind: 'date', required: true, description: 'First day of the term.', example: '2025-09-03' },
    { name: 'endDate', kind: 'date', required: true, description: 'Last day of the term.', example: '2025-10-24' },
  ],
  key: ['academicYear', 'termNumber'],
  check(row, refs, bad) {
    const v = row.values;
    const ay = refs.periods.academicYears.find((y) => y.code === v.academicYear);
    if (typeof v.academicYear === 'string' && !ay)
      bad(
        'academicYear',
        `is not an academic year in the hub (${refs.periods.academicYears.map((y) => y.code).join(', ') || 'none yet: generate the periods first with npm run periods'})`,
      );
    if (typeof v.termNumber === 'number' && (v.termNumber < 1 || v.termNumber > 6)) bad('termNumber', 'must be 1 to 6');
    const start = v.startDate as string | undefined;
    const end = v.endDate as string | undefined;
    if (start && end && end < start) bad('endDate', `is before startDate (${start})`);
    if (ay && start && (start < ay.startDate || start > ay.endDate))
      bad('startDate', `is outside academic year ${ay.code} (${ay.startDate} to ${ay.endDate})`);
    if (start && !refs.periods.fundingTerms.some((t) => t.startDate <= start && start <= t.endDate))
      bad(
        'startDate',
        'falls in no funding term the hub holds: generate the periods for its financial year first (npm run periods)',
      );
  },
  async checkAgainstStore(_tx, rows, errors) {
    const byYear = new Map<string, ImportRow[]>();
    for (const r of rows)
      byYear.set(r.values.academicYear as string, [...(byYear.get(r.values.academicYear as string) ?? []), r]);
    for (const list of byYear.values()) {
      list.sort((a, b) => (a.values.termNumber as number) - (b.values.termNumber as number));
      for (let i = 1; i < list.length; i++) {
        const a = list[i - 1].values;
        const b = list[i].values;
        if ((b.startDate as string) <= (a.endDate as string))
          errors.add({
            line: list[i].line,
            column: 'startDate',
            value: String(b.startDate),
            reason: `T${b.termNumber} starts on or before the end of T${a.termNumber} (${a.endDate}, line ${list[i - 1].line})`,
          });
      }
    }
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: `${v.academicYear}-T${v.termNumber}`,
      after: { academicYearCode: v.academicYear, number: v.termNumber, startDate: v.startDate, endDate: v.endDate },
    })),
  store: columnStore({
    table: 'school_term',
    id: ['code', 'text'],
    columns: {
      academicYearCode: ['academic_year_code', 'text'],
      number: ['number', 'int'],
      startDate: ['start_date', 'date'],
      endDate: ['end_date', 'date'],
    },
    // Each term belongs to the funding term its first day falls in.
    extra: {
      column: 'funding_term_code',
      expr: '(SELECT t.code FROM funding_term t WHERE x.start_date BETWEEN t.start_date AND t.end_date)',
    },
  }),
};

// ---------------------------------------------------------------------------------------------------------
// Caseload workers, early years settings, EHCP band counts

const caseloadWorkers: RecordsImport = {
  kind: 'caseload-workers',
  mode: 'records',
  title: 'Caseload workers',
  description:
    'The workers who hold caseloads, by pseudonymous code (never a name), with their role, team and area. Caseload counts ' +
    'name these codes.',
  fields: [
    { name: 'workerCode', kind: 'code', required: true, description: 'Pseudonymous worker code.', example: 'LW-017' },
    {
      name: 'role',
      kind: 'enum',
      required: true,
      values: Object.values(WorkerRole),
      description: 'Role.',
      example: 'LINK_WORKER',
    },
    {
      name: 'team',
      kind: 'text',
      required: true,
      maxLength: 80,
      description: 'Team or patch name.',
      example: 'Ashford',
    },
    {
      name: 'areaCode',
      kind: 'code',
      required: true,
      description: 'Area code (from the areas import).',
      example: 'EAST',
    },
  ],
  key: ['workerCode'],
  check(row, refs, bad) {
    maxLength('workerCode', row.values.workerCode, 12, bad);
    if (typeof row.values.areaCode === 'string' && !refs.areas.has(row.values.areaCode))
      bad('areaCode', 'is not an area in the hub (import areas first)');
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: v.workerCode as string,
      after: { role: v.role, team: v.team, areaCode: v.areaCode },
    })),
  store: columnStore({
    table: 'caseload_worker',
    id: ['code', 'text'],
    columns: { role: ['role', 'text'], team: ['team', 'text'], areaCode: ['area_code', 'text'] },
  }),
};

const earlyYearsSettings: RecordsImport = {
  kind: 'early-years-settings',
  mode: 'records',
  title: 'Early years settings',
  description:
    'Nurseries, pre-schools and childminders by Ofsted URN, with their kind and district (childminders are kept by URN only: ' +
    'leave their name empty).',
  fields: [
    {
      name: 'settingUrn',
      kind: 'code',
      required: true,
      description: 'Ofsted URN, e.g. EY512345.',
      example: 'EY512345',
    },
    {
      name: 'name',
      kind: 'text',
      required: false,
      maxLength: 200,
      description: 'Setting name (empty for a childminder).',
      example: 'Little Acorns Pre-School',
    },
    {
      name: 'kind',
      kind: 'enum',
      required: true,
      values: Object.values(SettingKind),
      description: 'Group setting or childminder.',
      example: 'GROUP',
    },
    { name: 'districtCode', kind: 'code', required: true, description: 'ONS district code.', example: 'E07000105' },
    {
      name: 'postcodeDistrict',
      kind: 'text',
      required: false,
      description: 'Outward code of the postcode only (never the full postcode).',
      example: 'TN23',
    },
  ],
  key: ['settingUrn'],
  check(row, refs, bad) {
    const v = row.values;
    maxLength('settingUrn', v.settingUrn, 12, bad);
    districtExists(refs, 'districtCode', v.districtCode, bad);
    if (typeof v.postcodeDistrict === 'string' && !/^[A-Z]{1,2}\d[A-Z\d]?$/i.test(v.postcodeDistrict))
      bad('postcodeDistrict', 'must be the outward code only, e.g. TN23');
    if (v.kind === SettingKind.CHILDMINDER && typeof v.name === 'string')
      bad('name', 'must be empty for a childminder (childminders are kept by URN only)');
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({
      id: v.settingUrn as string,
      after: {
        name: (v.name as string | null) ?? (v.settingUrn as string),
        kind: v.kind,
        districtCode: v.districtCode,
        postcodeDistrict: typeof v.postcodeDistrict === 'string' ? v.postcodeDistrict.toUpperCase() : null,
      },
    })),
  store: columnStore({
    table: 'early_years_setting',
    id: ['urn', 'text'],
    columns: {
      name: ['name', 'text'],
      kind: ['kind', 'text'],
      districtCode: ['district_code', 'text'],
      postcodeDistrict: ['postcode_district', 'text'],
    },
  }),
};

const ehcpBandCounts: RecordsImport = {
  kind: 'ehcp-band-counts',
  mode: 'records',
  title: 'EHCP band counts',
  description:
    'The number of EHCPs at each school in each funding band, per funding term (counts only, never a child). They drive ' +
    'the banded top-up from the banding start date.',
  fields: [
    URN_FIELD,
    {
      name: 'term',
      kind: 'code',
      required: true,
      description: 'Funding term code, e.g. AUTUMN-2026.',
      example: 'AUTUMN-2026',
    },
    { name: 'band', kind: 'enum', required: true, values: BANDS, description: 'Funding band.', example: 'B' },
    { name: 'plans', kind: 'int', required: true, description: 'Number of plans (0 or more).', example: '4' },
  ],
  key: ['schoolUrn', 'term', 'band'],
  check(row, refs, bad) {
    schoolExists(refs, row, bad);
    const t = row.values.term;
    if (typeof t === 'string' && !refs.periods.fundingTermByCode.has(t))
      bad(
        'term',
        `is not a funding term (${refs.periods.fundingTerms.map((x) => x.code).join(', ') || 'none yet: generate the periods first'})`,
      );
  },
  records: (rows) =>
    rows.map(({ values: v }) => ({ id: `${v.schoolUrn}|${v.term}|${v.band}`, after: { plans: v.plans } })),
  store: {
    async load(tx, ids) {
      return loadBy(
        tx,
        `SELECT b.school_urn || '|' || b.term_code || '|' || b.band AS id, b.plans FROM ehcp_band_count b
          WHERE b.school_urn || '|' || b.term_code || '|' || b.band = ANY($1::text[])`,
        [ids],
      );
    },
    async write(tx, changed) {
      const parts = changed.map((c) => c.id.split('|'));
      await upsert(
        tx,
        'ehcp_band_count',
        ['school_urn', 'term_code', 'band'],
        [
          ['school_urn', 'int'],
          ['term_code', 'text'],
          ['band', 'text'],
          ['plans', 'int'],
        ],
        changed.map((c, i) => ({
          school_urn: Number(parts[i][0]),
          term_code: parts[i][1],
          band: parts[i][2],
          plans: c.after.plans,
        })),
      );
      // The banded top-ups of record follow the counts: every open term from the earliest one the file changed.
      if (changed.length) {
        const periods = await loadPeriodCatalogue(tx);
        const from = parts.map((p) => periods.fundingTermByCode.get(p[1])!.startDate).sort()[0];
        await recomputeRecord(tx, { from, what: 'the ehcp-band-counts import' });
      }
    },
  },
};

export const REFERENCE_KINDS: ImportKind[] = [
  areas,
  communities,
  memberships,
  schoolTerms,
  caseloadWorkers,
  earlyYearsSettings,
  ehcpBandCounts,
];
