import os from 'node:os';
import { Role, Viewer } from '../../auth/roles';
import type { GiasReport } from './gias';
import type { GiasLinksReport } from './gias-links';
import { formatRowError } from './report';

/** The person running the command is named in the audit log; the command line is Finance's tool. */
export function cliViewer(user = process.env.HUB_ACTOR ?? os.userInfo().username): Viewer {
  return {
    subject: `cli:${user}`,
    name: `${user} (command line)`,
    role: Role.FINANCE,
    communityCode: null,
    via: 'token',
  };
}

export function giasReportLines(r: GiasReport): string[] {
  const skipped = Object.entries(r.skipped)
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
  return [
    r.message,
    `  rows read: ${r.rowsRead} (LA ${r.la}: ${r.rowsForLa}${skipped ? `; skipped, not state-funded schools: ${skipped}` : ''})`,
    `  added ${r.added}, updated ${r.updated}, closed ${r.closed}, unchanged ${r.unchanged}, rejected ${r.rejected}`,
    ...r.changes
      .slice(0, 50)
      .map((c) => `  ${c.action.padEnd(7)} ${c.urn} ${c.name}${c.fields.length ? ` (${c.fields.join(', ')})` : ''}`),
    ...(r.changes.length > 50 ? [`  … and ${r.changes.length - 50} more changes`] : []),
    ...(r.districts?.added.length
      ? [`  districts created: ${r.districts.added.map((d) => `${d.code} ${d.name}`).join(', ')}`]
      : []),
    ...(r.districts?.renamed.length
      ? [`  districts renamed: ${r.districts.renamed.map((d) => `${d.code} ${d.from} → ${d.to}`).join(', ')}`]
      : []),
    ...r.errors.map((e) => `  ${formatRowError(e)}`),
    ...(r.errorCount > r.errors.length ? [`  … and ${r.errorCount - r.errors.length} more problems`] : []),
    ...(r.notes ?? []).map((e) => `  note: ${formatRowError(e)}`),
    ...((r.noteCount ?? 0) > (r.notes?.length ?? 0) ? [`  … and ${r.noteCount - r.notes.length} more notes`] : []),
  ];
}

export function giasLinksReportLines(r: GiasLinksReport): string[] {
  return [
    r.message,
    `  rows read: ${r.rowsRead} (between the hub's schools: ${r.kept}; about other establishments: ${r.notForHub})`,
    ...r.conversions.map((c) => `  ${c.action.padEnd(27)} ${c.detail}`),
    ...(r.recomputed
      ? [
          `  shares recomputed for ${r.recomputed.termsRecomputed.join(', ') || 'no open term'} (${r.recomputed.schoolTermRowsChanged} school-term rows changed)`,
        ]
      : []),
    ...r.errors.map((e) => `  ${formatRowError(e)}`),
    ...(r.errorCount > r.errors.length ? [`  … and ${r.errorCount - r.errors.length} more problems`] : []),
    ...r.notes.map((e) => `  note: ${formatRowError(e)}`),
    ...(r.noteCount > r.notes.length ? [`  … and ${r.noteCount - r.notes.length} more notes`] : []),
  ];
}

export function printGiasReport(r: GiasReport): void {
  console.log(giasReportLines(r).join('\n'));
}
