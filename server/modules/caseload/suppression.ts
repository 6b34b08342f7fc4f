/**
 * Statistical disclosure control for published counts about children.
 *
 * Primary: a count from 1 to 4 is hidden unless the viewer is exempt for that cell.
 * Secondary (complementary): within a group whose total is published, one hidden cell could be recovered as
 * total minus the visible cells, so the next smallest cell the viewer is not exempt for is hidden too; when
 * there is no such cell, the total is hidden instead. A total from 1 to 4 is itself hidden.
 */
export interface CountCell {
  group: string;
  count: number;
  /** The viewer may see this exact count (their own community, or a role with exemption). */
  exempt: boolean;
}

export interface Published {
  count: number | null;
  suppressed: boolean;
}

export const SMALL_MIN = 1;
export const SMALL_MAX = 4;
const isSmall = (n: number) => n >= SMALL_MIN && n <= SMALL_MAX;

export function suppressCells(
  cells: CountCell[],
  opts: { totalsExempt: boolean },
): { cells: Published[]; totals: Map<string, Published> } {
  const hidden = cells.map((c) => !c.exempt && isSmall(c.count));
  const groups = new Map<string, number[]>();
  cells.forEach((c, i) => {
    if (!groups.has(c.group)) groups.set(c.group, []);
    groups.get(c.group)!.push(i);
  });
  const totals = new Map<string, Published>();
  for (const [group, idx] of groups) {
    const total = idx.reduce((sum, i) => sum + cells[i].count, 0);
    let totalHidden = !opts.totalsExempt && isSmall(total);
    const hiddenHere = idx.filter((i) => hidden[i]);
    if (hiddenHere.length === 1 && !totalHidden) {
      const candidates = idx
        .filter((i) => !hidden[i] && !cells[i].exempt)
        .sort((a, b) => (cells[a].count === 0 ? 1 : 0) - (cells[b].count === 0 ? 1 : 0) || cells[a].count - cells[b].count);
      if (candidates.length > 0) hidden[candidates[0]] = true;
      else totalHidden = true;
    }
    totals.set(group, totalHidden ? { count: null, suppressed: true } : { count: total, suppressed: false });
  }
  return {
    cells: cells.map((c, i) => (hidden[i] ? { count: null, suppressed: true } : { count: c.count, suppressed: false })),
    totals,
  };
}

/** A single count shown on its own (no published total beside it). */
export function suppressOne(count: number, exempt: boolean): Published {
  return !exempt && isSmall(count) ? { count: null, suppressed: true } : { count, suppressed: false };
}
