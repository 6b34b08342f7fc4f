import type { Readable } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { authorize, ACTIONS } from '../../auth/policy';
import { writeAudit } from '../audit/audit.service';
import { recomputeRecord } from '../scenario/parameters.service';
import { GIAS_LINK_TYPES } from '../school/school-link.entity';
import { ErrorList, FileRejected, RowError } from './report';
import { DATE_REASON, readDateOrBlank } from './cells';
import { inTransaction } from './transaction';
import { streamCsv, TextEncoding } from './upload';

/**
 * Import of GIAS's links file (links_edubasealldata<date>.csv: URN, LinkURN, LinkName, LinkType,
 * LinkEstablishedDate; Windows-1252, dd-mm-yyyy), after the establishment file. The national file links every
 * establishment England has had; the hub keeps the links between schools it holds, replacing its set with
 * the file's (all or nothing, audited, with provenance).
 *
 * On a conversion (a closed predecessor linked to an open successor, such as a maintained school and the
 * academy that replaced it) the report names the predecessor's community, and the successor joins that
 * community from the conversion date (LinkEstablishedDate, else the successor's open date), unless Finance
 * says not to (followCommunity: false, or the successor's URN in noFollow). Each conversion is acted on
 * once: a later import of the same links leaves the successor's membership to Finance.
 */

export const LINK_COLUMNS = {
  urn: 'URN',
  linkUrn: 'LinkURN',
  linkName: 'LinkName',
  linkType: 'LinkType',
  date: 'LinkEstablishedDate',
} as const;
type LinkKey = keyof typeof LINK_COLUMNS;
const REQUIRED: LinkKey[] = ['urn', 'linkUrn', 'linkType', 'date'];
const TYPES = new Set<string>(GIAS_LINK_TYPES);

export interface GiasLinksOptions {
  viewer: Viewer;
  source: 'API' | 'IMPORT';
  fileName: string;
  dryRun?: boolean;
  encoding?: TextEncoding;
  /** The successor joins its predecessor's community from the conversion date (default true). */
  followCommunity?: boolean;
  /** Successor URNs that do not follow, whatever followCommunity says. */
  noFollow?: number[];
  onProgress?: (bytes: number, rows: number) => void;
}

export type ConversionAction = 'JOINED' | 'NOT_FOLLOWED' | 'ALREADY_MEMBER' | 'PREDECESSOR_IN_NO_COMMUNITY';

export interface Conversion {
  predecessorUrn: number;
  predecessorName: string;
  successorUrn: number;
  successorName: string;
  linkType: string;
  /** The conversion date: LinkEstablishedDate, else the successor's open date, else the day after the predecessor closed. */
  date: string;
  /** The predecessor's community before it closed, or null. */
  predecessorCommunity: string | null;
  /** The successor's community from the conversion date on, after this import. */
  successorCommunity: string | null;
  action: ConversionAction;
  detail: string;
}

export interface GiasLinksReport {
  applied: boolean;
  dryRun: boolean;
  sha256: string;
  rowsRead: number;
  /** Rows linking two schools the hub holds. */
  kept: number;
  /** Rows about establishments the hub does not hold at all (other authorities, independent schools…). */
  notForHub: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  errorCount: number;
  errors: RowError[];
  /** Rows left out on their own (a link to a school the hub does not hold), each with line, column, value and reason. */
  notes: RowError[];
  noteCount: number;
  conversions: Conversion[];
  recomputed: { termsRecomputed: string[]; schoolTermRowsChanged: number; potsChanged: number } | null;
  message: string;
}

interface LinkRow {
  urn: number;
  linkUrn: number;
  linkType: string;
  establishedDate: string | null;
}
const keyOf = (l: { urn: number; linkUrn: number; linkType: string }) => `${l.urn}|${l.linkUrn}|${l.linkType}`;

function indexLinkHeader(header: string[]): Record<LinkKey, number> {
  const names = header.map((h) => h.replace(/^\uFEFF/, '').trim());
  if (names.includes('EstablishmentName') && names.includes('LA (code)') && !names.includes('LinkURN'))
    throw new FileRejected(
      'The file is the GIAS establishment file (edubasealldata), not its links file: import it with POST /import/gias, and give links_edubasealldata<date>.csv here.',
      [{ line: 1, column: null, value: null, reason: 'header of the establishment file' }],
    );
  const idx = {} as Record<LinkKey, number>;
  const missing: string[] = [];
  for (const [k, name] of Object.entries(LINK_COLUMNS) as [LinkKey, string][]) {
    idx[k] = names.indexOf(name);
    if (idx[k] < 0 && REQUIRED.includes(k)) missing.push(name);
  }
  if (missing.length)
    throw new FileRejected(
      `The file is not a GIAS links download (links_edubasealldata<date>.csv): it lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (line 1).`,
      missing.map((column) => ({ line: 1, column, value: null, reason: 'required column is missing from the header' })),
    );
  return idx;
}

export async function importGiasLinks(
  ds: DataSource,
  input: Readable,
  opts: GiasLinksOptions,
): Promise<GiasLinksReport> {
  authorize(opts.viewer, ACTIONS.import, 'import');
  const held: { urn: number; name: string }[] = await ds.query(`SELECT urn, name FROM school`);
  const hub = new Set(held.map((s) => s.urn));
  const errors = new ErrorList();
  const notes = new ErrorList();
  const links = new Map<string, LinkRow & { line: number }>();
  let idx: Record<LinkKey, number> | null = null;
  let rowsRead = 0;
  let notForHub = 0;

  const { sha256 } = await streamCsv(
    input,
    {
      encoding: opts.encoding,
      onProgress: (bytes) => opts.onProgress?.(bytes, rowsRead),
      what: 'the GIAS links CSV',
    },
    (record, line) => {
      if (!idx) {
        idx = indexLinkHeader(record);
        return;
      }
      rowsRead++;
      const at = idx;
      const get = (k: LinkKey) => (at[k] >= 0 ? (record[at[k]] ?? '').trim() : '');
      const urnText = get('urn');
      const linkText = get('linkUrn');
      const urn = /^\d{6}$/.test(urnText) ? Number(urnText) : null;
      const linkUrn = /^\d{6}$/.test(linkText) ? Number(linkText) : null;
      const mine = (urn !== null && hub.has(urn)) || (linkUrn !== null && hub.has(linkUrn));
      if (!mine) {
        // Rows about other establishments are not the hub's to check, unless they are not rows at all.
        if (urn === null && linkUrn === null)
          errors.add({ line, column: LINK_COLUMNS.urn, value: urnText, reason: 'must be a six-digit URN' });
        else notForHub++;
        return;
      }
      const before = errors.count;
      const bad = (k: LinkKey, reason: string) => errors.add({ line, column: LINK_COLUMNS[k], value: get(k), reason });
      if (urn === null) bad('urn', 'must be a six-digit URN');
      if (linkUrn === null) bad('linkUrn', 'must be a six-digit URN');
      const linkType = get('linkType');
      if (!TYPES.has(linkType)) bad('linkType', `is not a GIAS link type (${GIAS_LINK_TYPES.join('; ')})`);
      const date = readDateOrBlank(get('date'));
      if (date === undefined) bad('date', DATE_REASON);
      if (urn !== null && urn === linkUrn) bad('linkUrn', 'links the school to itself');
      if (errors.count > before) return;
      const other = hub.has(urn!) ? linkUrn! : urn!;
      if (!hub.has(other)) {
        const column = hub.has(urn!) ? LINK_COLUMNS.linkUrn : LINK_COLUMNS.urn;
        notes.add({
          line,
          column,
          value: String(other),
          reason: `is not a school the hub holds (another authority's, not state-funded, or closed before the register was loaded): link not kept`,
        });
        return;
      }
      const row = { urn: urn!, linkUrn: linkUrn!, linkType, establishedDate: date ?? null, line };
      const dup = links.get(keyOf(row));
      if (dup) {
        errors.add({
          line,
          column: LINK_COLUMNS.linkType,
          value: linkType,
          reason: `the link ${urn} → ${linkUrn} (${linkType}) appears twice, on lines ${dup.line} and ${line}: keep one`,
        });
        return;
      }
      links.set(keyOf(row), row);
    },
  );

  const report: GiasLinksReport = {
    applied: false,
    dryRun: Boolean(opts.dryRun),
    sha256,
    rowsRead,
    kept: links.size,
    notForHub,
    added: 0,
    changed: 0,
    removed: 0,
    unchanged: 0,
    errorCount: errors.count,
    errors: errors.items,
    notes: notes.items,
    noteCount: notes.count,
    conversions: [],
    recomputed: null,
    message: '',
  };
  if (errors.count > 0) {
    const lines = errors.rejectedLines.size;
    report.message = `Nothing imported: ${errors.count} problem${errors.count > 1 ? 's' : ''} in ${lines} row${lines > 1 ? 's' : ''}. Fix them and import the file again.`;
    return report;
  }

  // A dry run goes the whole way, audit included, in a transaction rolled back at the end.
  return inTransaction(ds, { rollback: Boolean(opts.dryRun) }, async (tx) => {
    await tx.query(`LOCK TABLE school_link IN SHARE ROW EXCLUSIVE MODE`);
    const stored: LinkRow[] = await tx.query(
      `SELECT urn, link_urn AS "linkUrn", link_type AS "linkType", to_char(established_date, 'YYYY-MM-DD') AS "establishedDate" FROM school_link`,
    );
    const storedByKey = new Map(stored.map((l) => [keyOf(l), l]));
    const added = [...links.values()].filter((l) => !storedByKey.has(keyOf(l)));
    const changed = [...links.values()].filter((l) => {
      const s = storedByKey.get(keyOf(l));
      return s && s.establishedDate !== l.establishedDate;
    });
    const removed = stored.filter((l) => !links.has(keyOf(l)));
    report.added = added.length;
    report.changed = changed.length;
    report.removed = removed.length;
    report.unchanged = links.size - added.length - changed.length;

    if (removed.length)
      await tx.query(
        `DELETE FROM school_link l USING unnest($1::int[], $2::int[], $3::text[]) x(u, k, t)
            WHERE l.urn = x.u AND l.link_urn = x.k AND l.link_type = x.t`,
        [removed.map((l) => l.urn), removed.map((l) => l.linkUrn), removed.map((l) => l.linkType)],
      );
    const writes = [...added, ...changed];
    if (writes.length)
      await tx.query(
        `INSERT INTO school_link (urn, link_urn, link_type, established_date, source_kind, source_file, source_by, source_at)
           SELECT u, k, t, d, 'IMPORTED', $5, $6, now() FROM unnest($1::int[], $2::int[], $3::text[], $4::date[]) x(u, k, t, d)
           ON CONFLICT (urn, link_urn, link_type) DO UPDATE SET established_date = EXCLUDED.established_date,
             source_file = EXCLUDED.source_file, source_by = EXCLUDED.source_by, source_at = EXCLUDED.source_at`,
        [
          writes.map((l) => l.urn),
          writes.map((l) => l.linkUrn),
          writes.map((l) => l.linkType),
          writes.map((l) => l.establishedDate),
          opts.fileName,
          opts.viewer.name,
        ],
      );

    const { conversions, earliestJoin } = await followConversions(tx, opts);
    report.conversions = conversions;
    if (earliestJoin) {
      const r = await recomputeRecord(tx, {
        from: earliestJoin,
        what: "Successor schools joining their predecessors' communities",
      });
      report.recomputed = {
        termsRecomputed: r.termsRecomputed,
        schoolTermRowsChanged: r.schoolTermRowsChanged,
        potsChanged: r.potsChanged,
      };
    }
    const joined = conversions.filter((c) => c.action === 'JOINED').length;
    report.message =
      `${opts.dryRun ? 'Dry run: would keep' : 'Links imported:'} ${links.size} link${links.size === 1 ? '' : 's'} between the hub's schools ` +
      `(added ${report.added}, changed ${report.changed}, removed ${report.removed}, unchanged ${report.unchanged}); ` +
      `${conversions.length} conversion${conversions.length === 1 ? '' : 's'}, ${joined} successor${joined === 1 ? '' : 's'} joining the predecessor's community.` +
      (notes.count ? ` ${notes.count} row${notes.count > 1 ? 's' : ''} noted (see notes).` : '');
    const nothing = writes.length === 0 && removed.length === 0 && conversions.length === 0;
    if (!nothing)
      await writeAudit(
        tx,
        { viewer: opts.viewer, source: opts.source, reason: `GIAS links import of ${opts.fileName}` },
        [
          {
            entity: 'IMPORT',
            entityId: `GIAS-LINKS-${sha256.slice(0, 16)}`,
            action: 'IMPORT_GIAS_LINKS',
            before: { removed, changed: changed.map((l) => storedByKey.get(keyOf(l))) },
            after: {
              file: opts.fileName,
              sha256,
              summary: {
                added: report.added,
                changed: report.changed,
                removed: report.removed,
                unchanged: report.unchanged,
              },
              added: added.map(({ line: _line, ...l }) => l),
              changed: changed.map(({ line: _line, ...l }) => l),
              conversions,
            },
          },
        ],
      );
    report.applied = !opts.dryRun && !nothing;
    return report;
  });
}

const dayAfter = (iso: string) => new Date(Date.parse(iso + 'T00:00:00Z') + 86400000).toISOString().slice(0, 10);

/**
 * Every conversion not yet acted on: a closed predecessor linked to an open successor. The successor joins the
 * community the predecessor was in before it closed, from the conversion date, unless told not to or it
 * already has a community from then on; the pair is marked handled either way.
 */
async function followConversions(
  tx: EntityManager,
  opts: Pick<GiasLinksOptions, 'followCommunity' | 'noFollow'>,
): Promise<{ conversions: Conversion[]; earliestJoin: string | null }> {
  const pairs: {
    pred: number;
    succ: number;
    predName: string;
    succName: string;
    linkType: string;
    established: string | null;
    succOpen: string | null;
    predClose: string | null;
  }[] = await tx.query(
    `WITH pair AS (
       SELECT link_urn AS pred, urn AS succ, link_type, established_date, conversion_handled_at FROM school_link WHERE link_type LIKE 'Predecessor%'
       UNION ALL
       SELECT urn AS pred, link_urn AS succ, link_type, established_date, conversion_handled_at FROM school_link WHERE link_type LIKE 'Successor%'
     )
     SELECT x.pred, x.succ, p.name AS "predName", s.name AS "succName",
            min(x.link_type) AS "linkType", to_char(max(x.established_date), 'YYYY-MM-DD') AS established,
            to_char(s.open_date, 'YYYY-MM-DD') AS "succOpen", to_char(p.close_date, 'YYYY-MM-DD') AS "predClose"
       FROM pair x JOIN school p ON p.urn = x.pred JOIN school s ON s.urn = x.succ
      WHERE p.status = 'CLOSED' AND s.status IN ('OPEN', 'PROPOSED_TO_CLOSE')
      GROUP BY x.pred, x.succ, p.name, s.name, s.open_date, p.close_date
     HAVING bool_and(x.conversion_handled_at IS NULL)
      ORDER BY x.succ, x.pred`,
  );
  const follow = opts.followCommunity ?? true;
  const noFollow = new Set(opts.noFollow ?? []);
  const conversions: Conversion[] = [];
  let earliestJoin: string | null = null;
  for (const p of pairs) {
    const date =
      p.established ?? p.succOpen ?? (p.predClose ? dayAfter(p.predClose) : new Date().toISOString().slice(0, 10));
    // The predecessor's community: its last membership that began before the conversion.
    const [was] = await tx.query(
      `SELECT community_code AS code FROM community_membership WHERE school_urn = $1 AND effective_from < $2::date
        ORDER BY effective_from DESC LIMIT 1`,
      [p.pred, date],
    );
    const [has] = await tx.query(
      `SELECT community_code AS code FROM community_membership WHERE school_urn = $1 AND (effective_to IS NULL OR effective_to > $2::date)
        ORDER BY effective_from LIMIT 1`,
      [p.succ, date],
    );
    const predecessorCommunity: string | null = was?.code ?? null;
    let action: ConversionAction;
    let detail: string;
    let successorCommunity: string | null = has?.code ?? null;
    const names = `${p.succ} "${p.succName}" succeeds ${p.pred} "${p.predName}" (${p.linkType}, ${date})`;
    if (!predecessorCommunity) {
      action = 'PREDECESSOR_IN_NO_COMMUNITY';
      detail = `${names}; the predecessor was in no community, so the successor joins none.`;
    } else if (has) {
      action = 'ALREADY_MEMBER';
      detail = `${names}; the predecessor was in ${predecessorCommunity}; the successor is already in ${has.code} from then on, and stays.`;
    } else if (!follow || noFollow.has(p.succ)) {
      action = 'NOT_FOLLOWED';
      detail = `${names}; the predecessor was in ${predecessorCommunity}; Finance asked that the successor not follow it: it is in no community until a membership is imported.`;
    } else {
      await tx.query(
        `INSERT INTO community_membership (school_urn, community_code, effective_from, effective_to) VALUES ($1, $2, $3::date, NULL)`,
        [p.succ, predecessorCommunity, date],
      );
      action = 'JOINED';
      successorCommunity = predecessorCommunity;
      detail = `${names}; the predecessor was in ${predecessorCommunity}, which the successor joins from ${date}.`;
      if (!earliestJoin || date < earliestJoin) earliestJoin = date;
    }
    await tx.query(
      `UPDATE school_link SET conversion_handled_at = now()
        WHERE (urn = $2 AND link_urn = $1 AND link_type LIKE 'Predecessor%') OR (urn = $1 AND link_urn = $2 AND link_type LIKE 'Successor%')`,
      [p.pred, p.succ],
    );
    conversions.push({
      predecessorUrn: p.pred,
      predecessorName: p.predName,
      successorUrn: p.succ,
      successorName: p.succName,
      linkType: p.linkType,
      date,
      predecessorCommunity,
      successorCommunity,
      action,
      detail,
    });
  }
  return { conversions, earliestJoin };
}
