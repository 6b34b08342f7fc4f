/**
 * Names for new sheets and tables, within Excel's rules. Excel compares sheet and table names ignoring case,
 * so "community pots" and "Community pots" are the same sheet; a name that only differs in case must count
 * as taken.
 */
const SHEET_FORBIDDEN = new Set([':', '\\', '/', '?', '*', '[', ']']);
export const SHEET_NAME_MAX = 31;

/** A valid sheet name from any text: forbidden characters become spaces, no edge apostrophes, ≤ 31 characters. */
export function cleanSheetName(wanted: string): string {
  let s = Array.from(wanted, (ch) => (SHEET_FORBIDDEN.has(ch) || ch < ' ' ? ' ' : ch))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  while (s.startsWith("'")) s = s.slice(1);
  while (s.endsWith("'")) s = s.slice(0, -1);
  s = s.trim().slice(0, SHEET_NAME_MAX).trim();
  if (!s || s.toLowerCase() === 'history') s = 'HNH';
  return s;
}

/** The wanted sheet name, or "name 2", "name 3"… cut to fit 31 characters, unused by any existing sheet in any case. */
export function uniqueSheetName(wanted: string, existing: string[]): string {
  const taken = new Set(existing.map((e) => e.toLowerCase()));
  const base = cleanSheetName(wanted);
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) {
    const suffix = ` ${n}`;
    const name = `${base.slice(0, SHEET_NAME_MAX - suffix.length).trimEnd()}${suffix}`;
    if (!taken.has(name.toLowerCase())) return name;
  }
}

/** Table names: letters, digits, underscore and dot, starting with a letter or underscore; unique ignoring case. */
export function uniqueTableName(wanted: string, existing: string[]): string {
  const taken = new Set(existing.map((e) => e.toLowerCase()));
  let base = Array.from(wanted, (ch) => (/[A-Za-z0-9_.]/.test(ch) ? ch : '_'))
    .join('')
    .slice(0, 200);
  if (!/^[A-Za-z_]/.test(base)) base = `HNH_${base}`;
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}_${n}`.toLowerCase())) return `${base}_${n}`;
}
