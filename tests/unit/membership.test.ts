import { communityOn, membersOn, type MembershipSpan } from '../../server/modules/community/membership';

const span = (
  schoolUrn: number,
  communityCode: string,
  effectiveFrom: string,
  effectiveTo: string | null = null,
): MembershipSpan => ({
  schoolUrn,
  communityCode,
  effectiveFrom,
  effectiveTo,
});

describe('membership on a date', () => {
  const memberships = [
    span(1, 'A', '2025-04-01'),
    span(2, 'A', '2025-04-01', '2026-09-01'),
    span(2, 'B', '2026-09-01'),
    span(3, 'B', '2025-09-01'), // overlaps the next one, listed first
    span(3, 'A', '2025-04-01'),
    span(4, 'B', '2026-01-01'),
  ];

  it('is in force from its first day and not on its last', () => {
    expect(communityOn(memberships, '2026-08-31').get(2)).toBe('A');
    expect(communityOn(memberships, '2026-09-01').get(2)).toBe('B');
    expect(communityOn(memberships, '2025-12-31').has(4)).toBe(false);
  });

  it('gives an overlapped school the membership that started last, whatever the order given', () => {
    expect(communityOn(memberships, '2025-06-01').get(3)).toBe('A');
    expect(communityOn(memberships, '2025-10-01').get(3)).toBe('B');
    expect(communityOn([...memberships].reverse(), '2025-10-01').get(3)).toBe('B');
  });

  it('lists each school under its one community, in the order given', () => {
    expect(Object.fromEntries(membersOn(memberships, '2025-10-01'))).toEqual({ A: [1, 2], B: [3] });
    expect(Object.fromEntries(membersOn(memberships, '2026-10-01'))).toEqual({ A: [1], B: [2, 3, 4] });
  });
});
