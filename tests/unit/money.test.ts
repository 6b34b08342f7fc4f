import { MoneyError, parseMoney, readMoney } from '../../server/common/money';
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
