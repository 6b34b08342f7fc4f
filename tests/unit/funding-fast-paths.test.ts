/**
 * The model's integer fast paths must give exactly the figures of the decimal arithmetic they replace. Each
 * reference below is the decimal.js code the model ran before the fast paths (copied, not imported; the
 * split's is exact BigInt code, see refSplit), and fast-check compares them over money, rates, weights and counts, edge cases included.
 */
import fc from 'fast-check';
import Decimal from 'decimal.js';
import { NotionalSenFactorCode as F } from '../../server/modules/funding/funding.entity';
import {
  bandedTopUp,
  formatPennies,
  grownBandedTopUp,
  largestRemainderSplit,
  money,
  moneyDiff,
  moneyTimesRate,
  notionalSenLines,
  penniesOf,
  sumMoney,
} from '../../server/modules/funding/model';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

const refSum = (xs: string[]) => xs.reduce((a, x) => a.plus(x), new D(0)).toFixed(2);
const refTimesRate = (amount: string, rate: string) => money(new Decimal(amount).times(rate));
const refNotional = (amounts: Record<string, string>, pct: Record<string, string>) => {
  let total = new D(0);
  const lines = Object.values(F).map((f) => {
    const a = money(amounts[f] ?? '0');
    const s = new D(a).times(new D(pct[f] ?? '0')).toDecimalPlaces(2, D.ROUND_HALF_UP);
    total = total.plus(s);
    return s.toFixed(2);
  });
  return { lines, total: total.toFixed(2) };
};
// Whole weights only, in BigInt, so every remainder is exact: the decimal code the model ran before the
// fast path divided first and rounded each quotient to 40 digits, which can break an exact tie the wrong
// way (66,648,011.85 over weights 3, 938, 2599: the first and last parts tie on 2115/3540).
const refSplit = (total: string, weights: number[]) => {
  const pennies = BigInt(new D(money(total)).times(100).toFixed(0));
  let ws = weights.map((w) => BigInt(w));
  let wTotal = ws.reduce((a, b) => a + b, 0n);
  if (wTotal === 0n) {
    ws = ws.map(() => 1n);
    wTotal = BigInt(ws.length);
  }
  const parts = ws.map((w, i) => ({ i, floor: (pennies * w) / wTotal, rem: (pennies * w) % wTotal }));
  let left = pennies - parts.reduce((a, p) => a + p.floor, 0n);
  const order = [...parts].sort((a, b) => (a.rem === b.rem ? a.i - b.i : b.rem > a.rem ? 1 : -1));
  for (let k = 0; left > 0n; k = (k + 1) % order.length, left--) order[k].floor += 1n;
  return parts.map((p) => new D(p.floor.toString()).dividedBy(100).toFixed(2));
};

const pennies = fc.integer({ min: -99_999_999_999, max: 99_999_999_999 });
const moneyText = pennies.map((p) => new D(p).dividedBy(100).toFixed(2));
const rate4 = fc.integer({ min: 0, max: 10000 }).map((r) => new D(r).dividedBy(10000).toFixed(4));
const anyRate = fc.oneof(rate4, fc.constantFrom('0', '1', '0.75', '0.333333', '1.25', '0.00005', '0.12345678'));

describe('integer fast paths give the decimal figures exactly', () => {
  it('penniesOf and formatPennies round-trip every two-decimal amount, and refuse anything else', () => {
    fc.assert(fc.property(moneyText, (t) => formatPennies(penniesOf(t)!) === t));
    expect(penniesOf('-0.00')).toBe(0);
    expect(formatPennies(-5)).toBe('-0.05');
    for (const bad of ['1.5', '1', '1.234', '1e3', '', '--1.00', '12345678901234.00'])
      expect(penniesOf(bad)).toBeNull();
  });

  it('sumMoney equals the decimal sum, with mixed and non-money inputs falling back', () => {
    fc.assert(fc.property(fc.array(moneyText, { maxLength: 40 }), (xs) => sumMoney(xs) === refSum(xs)));
    expect(sumMoney(['0.10', '0.20', '1.005'])).toBe(refSum(['0.10', '0.20', '1.005']));
    expect(sumMoney(['90000000000000.00', '90000000000000.00'])).toBe('180000000000000.00');
    expect(sumMoney([])).toBe('0.00');
  });

  it('moneyDiff equals the decimal difference', () => {
    fc.assert(fc.property(moneyText, moneyText, (a, b) => moneyDiff(a, b) === new D(b).minus(a).toFixed(2)));
    expect(moneyDiff('1.005', '2')).toBe(new D('2').minus('1.005').toFixed(2));
    expect(moneyDiff('0.10', '0.10')).toBe('0.00');
  });

  it('moneyTimesRate equals money(amount x rate), half-up on exact halves', () => {
    fc.assert(fc.property(moneyText, anyRate, (a, r) => moneyTimesRate(a, r) === refTimesRate(a, r)));
    expect(moneyTimesRate('0.02', '0.2500')).toBe('0.01');
    expect(moneyTimesRate('-0.02', '0.2500')).toBe(refTimesRate('-0.02', '0.2500'));
  });

  it("notionalSenLines equals each line rounded to the penny and the lines' sum", () => {
    const factors = Object.values(F);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(moneyText, fc.constantFrom('12.345', '7')), {
          minLength: factors.length,
          maxLength: factors.length,
        }),
        fc.array(anyRate, { minLength: factors.length, maxLength: factors.length }),
        (amounts, rates) => {
          const a = Object.fromEntries(factors.map((f, i) => [f, amounts[i]])) as Record<F, string>;
          const p = Object.fromEntries(factors.map((f, i) => [f, rates[i]])) as Record<F, string>;
          const got = notionalSenLines(a, p);
          const want = refNotional(a, p);
          return got.total === want.total && got.lines.every((l, i) => l.senAmount === want.lines[i]);
        },
      ),
    );
  });

  it('largestRemainderSplit with whole weights equals the exact split on the fast and the decimal path, ties to the earlier key', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_999_999_999 }).map((p) => new D(p).dividedBy(100).toFixed(2)),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        (total, ws) => {
          const got = [
            ...largestRemainderSplit(
              total,
              ws.map((w, i) => ({ key: i, weight: w })),
            ).values(),
          ];
          const decimal = [
            ...largestRemainderSplit(
              total,
              ws.map((w, i) => ({ key: i, weight: String(w) })),
            ).values(),
          ];
          const want = refSplit(total, ws).join();
          return got.join() === want && decimal.join() === want && sumMoney(got) === money(total);
        },
      ),
    );
    // An exact tie between parts of different size goes to the earlier key on both paths.
    const tie = ['56481.37', '17659840.43', '48931690.05'];
    for (const weight of [(w: number) => w, (w: number) => String(w), (w: number) => new D(w)])
      expect([
        ...largestRemainderSplit(
          '66648011.85',
          [3, 938, 2599].map((w, i) => ({ key: i, weight: weight(w) })),
        ).values(),
      ]).toEqual(tie);
    expect([
      ...largestRemainderSplit('0.02', [
        { key: 'a', weight: 1 },
        { key: 'b', weight: 1 },
        { key: 'c', weight: 1 },
      ]).values(),
    ]).toEqual(['0.01', '0.01', '0.00']);
    expect([
      ...largestRemainderSplit('1.00', [
        { key: 'a', weight: 0 },
        { key: 'b', weight: 0 },
      ]).values(),
    ]).toEqual(['0.50', '0.50']);
  });

  it('grownBandedTopUp equals growing the counts first and calling bandedTopUp', () => {
    const values = { A: '2100.00', B: '4200.50', C: '6800.01', D: '9400.99', E: '12500.00' };
    const valueSets = fc
      .array(fc.integer({ min: 0, max: 50_000_000 }), { minLength: 5, maxLength: 5 })
      .map((ps) => Object.fromEntries(['A', 'B', 'C', 'D', 'E'].map((b, i) => [b, formatPennies(ps[i])])));
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D', 'E'), fc.integer({ min: 0, max: 400 })),
        fc.oneof(
          fc.constantFrom('0', '0.05', '0.08', '-0.5', '0.0333333', '1', '0.123456789012', '0.0000000001'),
          fc.integer({ min: -5000, max: 10000 }).map((g) => new Decimal(g).dividedBy(10000).toString()),
        ),
        fc.integer({ min: 1, max: 12 }),
        fc.oneof(fc.constant(values), valueSets),
        (counts, growth, months, values) => {
          const factor = new Decimal(1).plus(growth);
          const grown = Object.fromEntries(
            Object.entries(counts).map(([b, n]) => [b, new Decimal(n).times(factor).toString()]),
          );
          return grownBandedTopUp(counts, factor, values, months) === bandedTopUp(grown, values, months);
        },
      ),
    );
    expect(() => grownBandedTopUp({ Z: 1 }, new Decimal(1), values, 4)).toThrow(/band Z/);
    // An exact half penny rounds up: 1 plan x £0.03 x 2 months / 12 = £0.005.
    expect(grownBandedTopUp({ A: 1 }, new Decimal(1), { A: '0.03' }, 2)).toBe('0.01');
  });
});
