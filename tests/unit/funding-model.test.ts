import { NotionalSenFactorCode as F } from '../../server/modules/funding/funding.entity';
import {
  DEFAULT_MODEL_PARAMETERS,
  bandedTopUp,
  bandingApplies,
  communityPots,
  largestRemainderSplit,
  money,
  notionalSenLines,
  potTotalForTerm,
  protectedAmount,
  protectionRate,
  type ModelParameters,
} from '../../server/modules/funding/model';

const P = DEFAULT_MODEL_PARAMETERS;

describe('DEFAULT_MODEL_PARAMETERS', () => {
  it("hold Kent's 2024-25 notional SEN percentages, 75% protection for four terms and banding from September 2026", () => {
    expect(P.notionalSenPercentages).toEqual({
      BASIC_ENTITLEMENT: '0.05',
      FSM_EVER6: '0.70',
      DEPRIVATION: '0.70',
      MOBILITY: '0.70',
      LOW_PRIOR_ATTAINMENT: '1.00',
      MINIMUM_PER_PUPIL_MFG: '0.43',
    });
    expect(P.protectionRate).toBe('0.75');
    expect(P.protectedTermCodes).toEqual(['SUMMER-2025', 'AUTUMN-2025', 'SPRING-2026', 'SUMMER-2026']);
    expect(P.bandingStartDate).toBe('2026-09-01');
    expect(Object.keys(P.bandValues)).toEqual(['A', 'B', 'C', 'D', 'E']);
  });
});

describe('money', () => {
  it('rounds half-up at the penny, without binary floating-point error', () => {
    expect(money('1.005')).toBe('1.01');
    expect(money('2.675')).toBe('2.68'); // 2.675 as a float is 2.67499999...
    expect(money('-1.005')).toBe('-1.01');
    expect(money('7')).toBe('7.00');
  });
});

describe('notionalSenLines', () => {
  const amounts = {
    [F.BASIC_ENTITLEMENT]: '798000.00',
    [F.FSM_EVER6]: '45675.00',
    [F.DEPRIVATION]: '24675.55',
    [F.MOBILITY]: '0.00',
    [F.LOW_PRIOR_ATTAINMENT]: '49140.00',
    [F.MINIMUM_PER_PUPIL_MFG]: '12345.67',
  };

  it('multiplies each formula amount by its SEN percentage, rounds each line half-up and totals the rounded lines', () => {
    const r = notionalSenLines(amounts, P.notionalSenPercentages);
    expect(r.lines).toEqual([
      { factor: F.BASIC_ENTITLEMENT, formulaAmount: '798000.00', senPercentage: '0.0500', senAmount: '39900.00' },
      { factor: F.FSM_EVER6, formulaAmount: '45675.00', senPercentage: '0.7000', senAmount: '31972.50' },
      // 24675.55 x 0.70 = 17272.885: half-up gives .89 (a float product would give .88).
      { factor: F.DEPRIVATION, formulaAmount: '24675.55', senPercentage: '0.7000', senAmount: '17272.89' },
      { factor: F.MOBILITY, formulaAmount: '0.00', senPercentage: '0.7000', senAmount: '0.00' },
      { factor: F.LOW_PRIOR_ATTAINMENT, formulaAmount: '49140.00', senPercentage: '1.0000', senAmount: '49140.00' },
      // 12345.67 x 0.43 = 5308.6381
      { factor: F.MINIMUM_PER_PUPIL_MFG, formulaAmount: '12345.67', senPercentage: '0.4300', senAmount: '5308.64' },
    ]);
    expect(r.total).toBe('143594.03');
  });

  it('uses whatever percentages it is given (a scenario), not the defaults', () => {
    const pct = { ...P.notionalSenPercentages, [F.BASIC_ENTITLEMENT]: '0.10' };
    const r = notionalSenLines(amounts, pct);
    expect(r.lines[0].senAmount).toBe('79800.00');
    expect(r.total).toBe('183494.03');
  });
});

describe('protectedAmount', () => {
  it('is 75% of the baseline in the four protected terms, rounded half-up at the penny', () => {
    for (const term of P.protectedTermCodes) expect(protectedAmount('20000.00', term, P)).toBe('15000.00');
    // 10000.02 x 0.75 = 7500.015 exactly: half-up gives 7500.02.
    expect(protectedAmount('10000.02', 'SUMMER-2025', P)).toBe('7500.02');
    expect(protectionRate('AUTUMN-2025', P)).toBe('0.7500');
  });

  it('is zero before and after the protected terms', () => {
    expect(protectedAmount('20000.00', 'SPRING-2025', P)).toBe('0.00');
    expect(protectedAmount('20000.00', 'AUTUMN-2026', P)).toBe('0.00');
    expect(protectedAmount('20000.00', 'SPRING-2027', P)).toBe('0.00');
    expect(protectionRate('AUTUMN-2026', P)).toBe('0.0000');
  });

  it('follows a scenario rate of 60%', () => {
    const scenario: ModelParameters = { ...P, protectionRate: '0.60' };
    expect(protectedAmount('20000.00', 'SUMMER-2025', scenario)).toBe('12000.00');
  });
});

describe('potTotalForTerm', () => {
  it("gives a term the financial year's pot x months / 12", () => {
    expect(potTotalForTerm({ financialYearCode: '2025-26', months: 5 }, P)).toBe('7500000.00');
    expect(potTotalForTerm({ financialYearCode: '2025-26', months: 4 }, P)).toBe('6000000.00');
    expect(potTotalForTerm({ financialYearCode: '2025-26', months: 3 }, P)).toBe('4500000.00');
    expect(potTotalForTerm({ financialYearCode: '2026-27', months: 4 }, P)).toBe('9000000.00');
    expect(potTotalForTerm({ financialYearCode: '2024-25', months: 5 }, P)).toBe('0.00');
  });

  it('rounds a pot that does not divide evenly half-up to the penny', () => {
    const scenario: ModelParameters = { ...P, communityPotAnnual: { '2025-26': '10000000.00' } };
    expect(potTotalForTerm({ financialYearCode: '2025-26', months: 5 }, scenario)).toBe('4166666.67');
  });
});

describe('largestRemainderSplit', () => {
  it('gives the leftover pennies to the largest remainders so the parts sum exactly to the total', () => {
    // 1000 pennies x 1/3 and 2/3 = 333.33 and 666.67: the penny goes to the larger remainder (.67).
    expect([
      ...largestRemainderSplit('10.00', [
        { key: 'a', weight: 1 },
        { key: 'b', weight: 2 },
      ]),
    ]).toEqual([
      ['a', '3.33'],
      ['b', '6.67'],
    ]);
  });

  it('breaks ties in favour of the earlier key, deterministically', () => {
    expect([
      ...largestRemainderSplit(
        '100.00',
        ['x', 'y', 'z'].map((key) => ({ key, weight: '1' })),
      ),
    ]).toEqual([
      ['x', '33.34'],
      ['y', '33.33'],
      ['z', '33.33'],
    ]);
    const tiny = largestRemainderSplit(
      '0.05',
      [1, 2, 3, 4, 5, 6].map((key) => ({ key, weight: 1 })),
    );
    expect([...tiny.values()]).toEqual(['0.01', '0.01', '0.01', '0.01', '0.01', '0.00']);
  });

  it('splits equally when every weight is zero, and refuses negative totals', () => {
    expect([
      ...largestRemainderSplit('1.00', [
        { key: 'a', weight: 0 },
        { key: 'b', weight: 0 },
      ]).values(),
    ]).toEqual(['0.50', '0.50']);
    expect(() => largestRemainderSplit('-1.00', [{ key: 'a', weight: 1 }])).toThrow(RangeError);
  });
});

describe('communityPots', () => {
  it('weights 70% by pupils and 30% by FSM pupils', () => {
    // A: 0.7 x 300/400 + 0.3 x 30/100 = 0.615; B: 0.7 x 100/400 + 0.3 x 70/100 = 0.385.
    const pots = communityPots(
      [
        { code: 'A', pupilsOnRoll: 300, fsmPupils: '30' },
        { code: 'B', pupilsOnRoll: 100, fsmPupils: '70' },
      ],
      '1000.00',
      P,
    );
    expect(Object.fromEntries(pots)).toEqual({ A: '615.00', B: '385.00' });
  });

  it('sums exactly to the pot total, the pennies going by largest remainder', () => {
    const inputs = [
      { code: 'C1', pupilsOnRoll: 1001, fsmPupils: '212.3' },
      { code: 'C2', pupilsOnRoll: 2999, fsmPupils: '98.77' },
      { code: 'C3', pupilsOnRoll: 1234, fsmPupils: '400.01' },
    ];
    const pots = communityPots(inputs, '7500000.00', P);
    const pennies = [...pots.values()].reduce((a, v) => a + BigInt(v.replace('.', '')), 0n);
    expect(pennies).toBe(750000000n);
    const equal = communityPots(
      ['a', 'b', 'c'].map((code) => ({ code, pupilsOnRoll: 10, fsmPupils: '1' })),
      '100.00',
      P,
    );
    expect(Object.fromEntries(equal)).toEqual({ a: '33.34', b: '33.33', c: '33.33' });
  });
});

describe('bandedTopUp', () => {
  it('is sum(plans x annual band value) x months / 12', () => {
    // (2 x 2000 + 6500 + 12000) x 4 / 12 = 7500
    expect(bandedTopUp({ A: 2, C: 1, E: 1 }, P.bandValues, 4)).toBe('7500.00');
    // 4000 x 5 / 12 = 1666.666...: rounded once, at the end.
    expect(bandedTopUp({ B: 1 }, P.bandValues, 5)).toBe('1666.67');
    expect(bandedTopUp({}, P.bandValues, 3)).toBe('0.00');
  });

  it('rejects a band that has no value', () => {
    expect(() => bandedTopUp({ Z: 1 }, P.bandValues, 4)).toThrow(/band Z/);
  });

  it('applies from 1 September 2026', () => {
    expect(bandingApplies('2026-04-01', P)).toBe(false);
    expect(bandingApplies('2026-09-01', P)).toBe(true);
  });
});
