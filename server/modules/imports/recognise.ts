import type { ImportKind } from './kinds';
import { describeFile } from './published';
import type { Table } from './table';

/**
 * What a file given as the wrong kind looks like, said after "expected …" so the officer knows which import to
 * use instead: another of the hub's templates whose required columns it has, else a public file the hub knows
 * (`describeFile`: GIAS, its links file, the APT, S251, place numbers), else the start of its header.
 */
export function looksLike(
  table: Pick<Table, 'header' | 'sheets'>,
  expected: ImportKind,
  kinds: readonly ImportKind[],
): string {
  const h = new Set(table.header.map((c) => c.trim()).filter(Boolean));
  const other = kinds.find(
    // A layout read by its own sheet and header rules is recognised by describeFile, not by template columns.
    (k) =>
      k !== expected &&
      !(k.mode === 'published' && k.table) &&
      k.fields.filter((f) => f.required).every((f) => h.has(f.name)),
  );
  if (other) return ` It looks like a ${other.kind} file (${other.title}): import it as ${other.kind}.`;
  const known = describeFile(table);
  if (known) return ` It looks like ${known.text}.`;
  const shown = [...h].slice(0, 6).join(', ');
  return shown ? ` The file's header is: ${shown}${h.size > 6 ? ', …' : ''}.` : '';
}
