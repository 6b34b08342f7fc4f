import type { ImportKind } from './finance';
import { describeFile } from './published';
import type { Table } from './table';

/**
 * What a file given as the wrong kind looks like, said after "expected …" so the officer knows which import to
 * use instead: a public file the hub knows (`describeFile`: GIAS, its links file, the APT, S251, place numbers),
 * else another of the hub's templates whose required columns it has, else the start of its header.
 */
export function looksLike(table: Table, expected: ImportKind, kinds: readonly ImportKind[]): string {
  const known = describeFile(table);
  if (known) return ` It looks like ${known.text}.`;
  const h = new Set(table.header.map((c) => c.trim()).filter(Boolean));
  const other = kinds.find((k) => k !== expected && k.fields.filter((f) => f.required).every((f) => h.has(f.name)));
  if (other) return ` It looks like a ${other.kind} file (${other.title}): import it as ${other.kind}.`;
  const shown = [...h].slice(0, 6).join(', ');
  return shown ? ` The file's header is: ${shown}${h.size > 6 ? ', …' : ''}.` : '';
}
