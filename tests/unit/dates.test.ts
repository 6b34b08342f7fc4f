import { isIsoDate } from '../../server/common/dates';
import { readDate } from '../../server/modules/imports/cells';
import { parseParams } from '../../server/modules/exports/params';

describe('the one test of an ISO calendar date', () => {
  it.each(['2024-02-29', '2026-09-01', '1999-12-31'])('accepts %s', (d) => expect(isIsoDate(d)).toBe(true));
  it.each(['2025-02-29', '2026-13-01', '2026-04-31', '26-09-01', '2026-9-1', '2026-09-01T00:00:00Z', ''])(
    'refuses %j',
    (d) => expect(isIsoDate(d)).toBe(false),
  );
  it('is what import cells and export parameters apply', () => {
    expect(readDate('2025-02-29')).toBeNull();
    expect(readDate('29/02/2024')).toBe('2024-02-29');
    const spec = [{ name: 'asOf', kind: 'date' as const, description: '' }];
    expect(() => parseParams(spec, new URLSearchParams({ asOf: '2025-02-29' }), 'schools')).toThrow(
      /is not a date "YYYY-MM-DD"/,
    );
    expect(parseParams(spec, new URLSearchParams({ asOf: '2024-02-29' }), 'schools').asOf).toBe('2024-02-29');
  });
});
