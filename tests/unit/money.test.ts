import { MoneyError, parseMoney, readDecimal, readMoney } from '../../server/common/money';
import { normaliseMoney, parseMoney as addinParseMoney } from '../../addin/src/core/money-cells';

const ok = (text: string, allowNegative = false) => parseMoney(text, { field: 'amount', allowNegative });
const reason = (text: unknown, allowNegative = false) => {
  const r = readMoney(text, { field: 'amount', allowNegative });
  if (r.ok) throw new Error(`${JSON.stringify(text)} was accepted as ${r.value}`);
  return r.problem;
};

describe('the one money parser', () => {
  it('reads plain amounts, thousands in groups of three, a leading £ and surrounding spaces, to a canonical string', () => {
    expect(ok('1250')).toBe('1250.00');
    expect(ok('1250.5')).toBe('1250.50');
    expect(ok('1,250.00')).toBe('1250.00');
    expect(ok('12,345,678.9')).toBe('12345678.90');
    expect(ok('£1,250')).toBe('1250.00');
    expect(ok('  0.99 ')).toBe('0.99');
    expect(ok('007.10')).toBe('7.10');
    expect(ok('0')).toBe('0.00');
    expect(ok('999999999999.99')).toBe('999999999999.99');
    expect(ok('-£1,250.00', true)).toBe('-1250.00');
    expect(ok('-0.00', true)).toBe('0.00');
  });

  it.each([
    ['12,50', /comma that is not a thousands separator/],
    ['0,99', /comma that is not a thousands separator/],
    ['1,2,3,4', /comma that is not a thousands separator/],
    ['412000,50', /comma that is not a thousands separator/],
    ['1250,00', /comma that is not a thousands separator/],
    ['1,2500', /comma that is not a thousands separator/],
    [',125', /starts with a comma/],
    ['1.2.3', /more than one point/],
    ['1.234', /more than 2 decimal places/],
    ['1.5,0', /comma after the point/],
    ['1e3', /exponent/],
    ['1E-2', /exponent/],
    ['12 50', /space inside/],
    ['£ 12', /space inside/],
    ['12£', /£ sign in the wrong place/],
    ['£-5', /sign in the wrong place/],
    ['+5', /sign in the wrong place/],
    ['5-', /sign in the wrong place/],
    ['$5', /character "\$"/],
    ['12.5p', /character "p"/],
    ['.5', /no digits before the point/],
    ['5.', /ends with a point/],
    ['', /is empty/],
    ['   ', /is empty/],
    ['ten pounds', /character "t"/],
    ['1234567890123', /more than 12 digits/],
    ['0x10', /character "x"/],
    ['Infinity', /character "I"/],
    ['NaN', /character "N"/],
  ])('refuses %j as BAD_AMOUNT: %s', (text, why) => {
    const p = reason(text);
    expect(p.code).toBe('BAD_AMOUNT');
    expect(p.reason).toMatch(why);
    expect(p.message).toBe(
      `amount ${JSON.stringify(text)} is not an amount of pounds and pence: it ${p.reason}. Write it as 1250.00 or 1,250.00.`,
    );
  });

  it('refuses a negative amount unless the field takes them, and a number that is not text', () => {
    expect(reason('-5').reason).toMatch(/negative/);
    expect(ok('-5', true)).toBe('-5.00');
    expect(reason(12.5).reason).toMatch(/is a number, not text/);
    expect(reason(null).reason).toMatch(/missing/);
  });

  it('throws a MoneyError naming the field and the value', () => {
    expect(() => parseMoney('12,50', { field: 'budget' })).toThrow(MoneyError);
    try {
      parseMoney('12,50', { field: 'budget' });
    } catch (e) {
      expect((e as MoneyError).field).toBe('budget');
      expect((e as MoneyError).value).toBe('12,50');
      expect((e as MoneyError).message).toMatch(/^budget "12,50" is not an amount of pounds and pence/);
    }
  });

  it('runs in linear time on hostile input (no backtracking)', () => {
    const long = '1,' + '111,'.repeat(50_000) + 'x';
    const started = Date.now();
    expect(readMoney(long, { field: 'amount' }).ok).toBe(false);
    expect(readMoney('9'.repeat(1_000_000), { field: 'amount' }).ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('is what the add-in uses: the same module, the same answers', () => {
    expect(addinParseMoney).toBe(parseMoney);
    expect(normaliseMoney('-12.5')).toBe('-12.50');
    expect(() => normaliseMoney('12,50')).toThrow(/is not an amount of pounds and pence/);
  });
});

describe('amounts as the DfE publishes them, through the same parser', () => {
  const published = (text: string, opts: { allowNegative?: boolean; timesTenTo?: number } = {}) =>
    readMoney(text, { field: 'amount', roundToPenny: true, ...opts });

  it("rounds Excel's unrounded decimals half up to the penny, and says it did", () => {
    expect(published('48,210.4166666667')).toEqual({ ok: true, value: '48210.42', rounded: true });
    expect(published('1234.5650')).toEqual({ ok: true, value: '1234.57', rounded: true });
    expect(published('-0.125', { allowNegative: true })).toEqual({ ok: true, value: '-0.13', rounded: true });
    expect(published('-0.004', { allowNegative: true })).toEqual({ ok: true, value: '0.00', rounded: true });
    expect(published('99.995')).toEqual({ ok: true, value: '100.00', rounded: true });
    expect(published('12.500')).toEqual({ ok: true, value: '12.50', rounded: false });
    expect(readMoney('12.50', { field: 'amount' })).toEqual({ ok: true, value: '12.50', rounded: false });
  });

  it('moves the point for amounts published in thousands or millions before rounding', () => {
    expect(published('1.2345', { timesTenTo: 3 })).toEqual({ ok: true, value: '1234.50', rounded: false });
    expect(published('1,234.5678', { timesTenTo: 3 })).toEqual({ ok: true, value: '1234567.80', rounded: false });
    expect(published('0.0001234', { timesTenTo: 6 })).toEqual({ ok: true, value: '123.40', rounded: false });
    expect(published('-£2.5', { timesTenTo: 6, allowNegative: true })).toEqual({
      ok: true,
      value: '-2500000.00',
      rounded: false,
    });
  });

  it.each([
    ['12,50', {}, /comma that is not a thousands separator/],
    ['1,2,3', { timesTenTo: 3 }, /comma that is not a thousands separator/],
    ['12,50.125', {}, /comma that is not a thousands separator/],
    ['1,2,3.456', {}, /comma that is not a thousands separator/],
    ['1e3', { timesTenTo: 3 }, /exponent/],
    ['999999999999.995', {}, /more than 12 digits before the point/],
    ['1000000', { timesTenTo: 6 }, /more than 12 digits before the point/],
    ['-5.125', {}, /negative/],
  ])('still refuses %j (%j) as BAD_AMOUNT: %s', (text, opts, why) => {
    const r = published(text, opts);
    if (r.ok) throw new Error(`${text} was accepted as ${r.value}`);
    expect(r.problem.code).toBe('BAD_AMOUNT');
    expect(r.problem.reason).toMatch(why);
    expect(r.problem.detail).toBe(
      `is not an amount of pounds and pence: it ${r.problem.reason}. Write it as 1250.00 or 1,250.00.`,
    );
  });
});

describe('the one reader of decimals that are not money (rates, shares, percentages, counts)', () => {
  const kpi = { field: 'actual', integerDigits: 14, decimals: 2, allowNegative: true };

  it('reads with the money rules for signs, spaces and thousands, to the column’s decimals', () => {
    expect(readDecimal('21,000', kpi)).toEqual({ ok: true, value: '21000.00', rounded: false });
    expect(readDecimal(' 37.5 ', kpi)).toEqual({ ok: true, value: '37.50', rounded: false });
    expect(readDecimal('-3', kpi)).toEqual({ ok: true, value: '-3.00', rounded: false });
    expect(readDecimal('99999999999999.99', kpi)).toEqual({ ok: true, value: '99999999999999.99', rounded: false });
    expect(readDecimal('0.7', { field: 'rate', integerDigits: 1, decimals: 4 })).toEqual({
      ok: true,
      value: '0.7000',
      rounded: false,
    });
    expect(readDecimal('23.456', { field: 'fsm', integerDigits: 3, decimals: 2, round: true })).toEqual({
      ok: true,
      value: '23.46',
      rounded: true,
    });
  });

  it.each([
    ['12,50', /comma that is not a thousands separator/],
    ['1,2,3', /comma that is not a thousands separator/],
    ['1.234', /more than 2 decimal places/],
    ['123456789012345', /more than 14 digits before the point/],
    ['£5', /character "£"/],
    ['1e3', /exponent/],
    ['', /is empty/],
  ])('refuses %j as BAD_NUMBER: %s', (text, why) => {
    const r = readDecimal(text, kpi);
    if (r.ok) throw new Error(`${text} was accepted as ${r.value}`);
    expect(r.problem.code).toBe('BAD_NUMBER');
    expect(r.problem.reason).toMatch(why);
    expect(r.problem.detail).toBe(`is not a number: it ${r.problem.reason}.`);
  });

  it('refuses a negative number where the column takes none', () => {
    const r = readDecimal('-0.5', { field: 'rate', integerDigits: 1, decimals: 4 });
    expect(r.ok ? r.value : r.problem.reason).toBe('is negative, and this number must be zero or more');
  });
});
