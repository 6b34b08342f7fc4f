/**
 * Excel on the web refuses a request above 5 MB, and every instruction on a new range costs hundreds of
 * bytes of it: a fill set cell by cell for 10,000 rows is past the limit. These turn cell lists into
 * contiguous blocks, so a format or a value goes to a whole run of cells in one instruction.
 */

/** Adjacent runs of column indices: [0,1,2,5,6] → {0,3} {5,2}. */
export function runs(indices: number[]): { start: number; length: number }[] {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const out: { start: number; length: number }[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && last.start + last.length === i) last.length++;
    else out.push({ start: i, length: 1 });
  }
  return out;
}

/** Runs of consecutive rows that share a key (column and colour): one instruction per run. */
export function blocks<T extends { row: number }>(
  items: T[],
  key: (t: T) => string,
): { item: T; start: number; length: number }[] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(it);
  }
  const out: { item: T; start: number; length: number }[] = [];
  for (const list of groups.values()) {
    const rows = [...new Set(list.map((x) => x.row))].sort((a, b) => a - b);
    for (const r of runs(rows)) out.push({ item: list[0], start: r.start, length: r.length });
  }
  return out;
}
