import type { ImportKind } from './finance';

/**
 * What a file given as the wrong kind looks like, from its header: a public file the hub knows (GIAS, its links
 * file, the APT, the DfE's long-format statistics), or another of the hub's templates. Said after "expected …" so the
 * officer knows which import to use instead.
 */
const PUBLIC_FILES: { what: string; use: string; test: (h: Set<string>) => boolean }[] = [
  {
    what: 'a GIAS establishment file (edubasealldata)',
    use: 'import it with `npm run import:gias -- FILE` or POST /import/gias',
    test: (h) => h.has('URN') && (h.has('EstablishmentName') || h.has('LA (code)') || h.has('EstablishmentNumber')),
  },
  {
    what: 'a GIAS links file (links_edubasealldata)',
    use: 'import it after the GIAS file with `npm run import:gias -- FILE --links LINKS` or POST /import/gias-links',
    test: (h) => h.has('URN') && h.has('LinkURN'),
  },
  {
    what: 'an Authority Proforma Tool (APT) school budget sheet',
    use: 'import it as the school budget data',
    test: (h) => [...h].some((c) => /^LAESTAB$/i.test(c)) && [...h].some((c) => /notional sen/i.test(c)),
  },
  {
    what: 'a DfE statistics file in long format (time_period, geographic_level, …: the S251 or place-number publications)',
    use: 'import it as the kind it holds',
    test: (h) => h.has('time_period') && h.has('geographic_level'),
  },
];

const an = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);

export function looksLike(header: string[], expected: ImportKind, kinds: readonly ImportKind[]): string {
  const h = new Set(header.map((c) => c.trim()).filter(Boolean));
  // Another of the hub's own templates first: its columns are an exact match.
  const other = kinds.find((k) => k !== expected && k.fields.filter((f) => f.required).every((f) => h.has(f.name)));
  if (other) return ` This looks like ${an(other.kind)} file (${other.title}): import it as ${other.kind}.`;
  const known = PUBLIC_FILES.find((p) => p.test(h));
  if (known) return ` This looks like ${known.what}, not ${an(expected.kind)} file: ${known.use}.`;
  const shown = [...h].slice(0, 6).join(', ');
  return shown ? ` The file's header is: ${shown}${h.size > 6 ? ', …' : ''}.` : '';
}
