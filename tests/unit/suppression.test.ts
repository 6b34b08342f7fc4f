import { suppressCells, suppressOne } from '../../server/modules/caseload/suppression';

const cell = (group: string, count: number, exempt = false) => ({ group, count, exempt });

describe('statistical disclosure control', () => {
  it('hides counts from 1 to 4 and shows 0 and 5 upwards', () => {
    expect(suppressOne(0, false)).toEqual({ count: 0, suppressed: false });
    expect(suppressOne(1, false)).toEqual({ count: null, suppressed: true });
    expect(suppressOne(4, false)).toEqual({ count: null, suppressed: true });
    expect(suppressOne(5, false)).toEqual({ count: 5, suppressed: false });
  });

  it('shows small counts to a viewer who is exempt for them', () => {
    expect(suppressOne(3, true)).toEqual({ count: 3, suppressed: false });
  });

  it('hides a second cell when one hidden cell could be recovered from the total', () => {
    const { cells, totals } = suppressCells([cell('T1', 3), cell('T1', 12), cell('T1', 7), cell('T1', 30)], { totalsExempt: false });
    expect(cells.map((c) => c.count)).toEqual([null, 12, null, 30]);
    expect(totals.get('T1')).toEqual({ count: 52, suppressed: false });
    // No published figure lets the reader solve for the 3: 52 - 12 - 30 = 10 = 3 + 7.
  });

  it('needs no secondary suppression when two cells are already hidden', () => {
    const { cells } = suppressCells([cell('T1', 2), cell('T1', 4), cell('T1', 9)], { totalsExempt: false });
    expect(cells.map((c) => c.count)).toEqual([null, null, 9]);
  });

  it('hides the total when a lone hidden cell has no partner to hide', () => {
    const { cells, totals } = suppressCells([cell('T1', 2), cell('T1', 9, true)], { totalsExempt: false });
    expect(cells.map((c) => c.count)).toEqual([null, 9]);
    expect(totals.get('T1')).toEqual({ count: null, suppressed: true });
  });

  it('hides a total from 1 to 4', () => {
    const { totals } = suppressCells([cell('T1', 0), cell('T1', 3)], { totalsExempt: false });
    expect(totals.get('T1')!.suppressed).toBe(true);
  });

  it('treats each period as its own table', () => {
    const { cells } = suppressCells([cell('T1', 2), cell('T1', 20), cell('T2', 20), cell('T2', 30)], { totalsExempt: false });
    expect(cells.map((c) => c.count)).toEqual([null, null, 20, 30]);
  });

  it('prefers a non-zero complementary cell, since a hidden zero is easy to guess', () => {
    const { cells } = suppressCells([cell('T1', 2), cell('T1', 0), cell('T1', 8), cell('T1', 6)], { totalsExempt: false });
    expect(cells.map((c) => c.count)).toEqual([null, 0, 8, null]);
  });

  it('never lets total minus visible cells equal a hidden cell (randomised check)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + Math.floor(rand() * 8);
      const input = Array.from({ length: n }, () => cell('G', Math.floor(rand() * 12), rand() < 0.2));
      const { cells, totals } = suppressCells(input, { totalsExempt: false });
      const total = totals.get('G')!;
      const hidden = cells.map((c, i) => (c.suppressed ? i : -1)).filter((i) => i >= 0);
      for (const [i, c] of input.entries()) if (!c.exempt && c.count >= 1 && c.count <= 4) expect(cells[i].suppressed).toBe(true);
      if (!total.suppressed && hidden.length === 1) throw new Error('a single hidden cell is recoverable from the total');
    }
  });
});
