/**
 * Missing drivers are reported, never counted as 0 silently: computeBlock over a few providers with gaps.
 */
import { computeBlock, type BlockDrivers } from '../../server/modules/funding/block';
import { DEFAULT_MODEL_PARAMETERS } from '../../server/modules/funding/model';

const term = {
  code: 'AUTUMN-2026',
  startDate: '2026-09-01',
  months: 4,
  financialYearCode: '2026-27',
  academicYearCode: '2026/27',
};
const P = DEFAULT_MODEL_PARAMETERS;

function drivers(): BlockDrivers {
  return {
    providers: [
      { urn: 1, setting: 'SPECIAL' },
      { urn: 2, setting: 'SPECIAL' },
      { urn: 3, setting: 'SPECIAL' },
      { urn: 4, setting: 'AP' },
    ],
    places: new Map([
      ['1|2026/27', { SPECIAL_PRE16: 100 }],
      // School 2's only place numbers are AP places: none for its own setting.
      ['2|2026/27', { AP: 40 }],
      ['4|2026/27', { AP: 20 }],
    ]),
    topUpCounts: new Map([
      ['1|AUTUMN-2026|SPECIAL', { S1: 10 }],
      ['2|AUTUMN-2026|SPECIAL', { S1: 5 }],
      ['3|AUTUMN-2026|SPECIAL', { S1: 5 }],
    ]),
    placements: new Map([['2026-27|INDEPENDENT_NMSS', { placements: 10, unitCost: '50000.00' }]]),
  };
}

describe('missing drivers of the block', () => {
  it('reports every gap with its school, setting and period, and counts only what has drivers', () => {
    const r = computeBlock(drivers(), [term], () => P, ['2026-27']);
    expect(r.missing.map((m) => [m.kind, m.setting, m.schoolUrn, m.period])).toEqual([
      ['PLACES', 'SPECIAL', 2, '2026/27'],
      ['PLACES', 'SPECIAL', 3, '2026/27'],
      ['TOP_UP_COUNTS', 'AP', 4, 'AUTUMN-2026'],
      ['PLACEMENTS', 'POST_16_FE', null, '2026-27'],
      // The LA's children in other authorities' schools are a placement kind too: no numbers, no line.
      ['PLACEMENTS', 'OTHER_LA', null, '2026-27'],
    ]);
    expect(r.missing[0].message).toBe(
      "School 2 (SPECIAL) has place numbers in 2026/27 only of other settings' place types (AP): its place funding is not counted.",
    );
    const byUrn = new Map(r.providerTerms.map((p) => [p.schoolUrn, p]));
    // School 1: 100 places x the special rate x 4/12; the AP places of school 2 are not paid as special places.
    const rate = Number(P.block.placeRates.SPECIAL_PRE16);
    expect(byUrn.get(1)!.placeFunding).toBe((Math.round(((100 * rate * 4) / 12) * 100) / 100).toFixed(2));
    expect([byUrn.get(2)!.placeFunding, byUrn.get(2)!.places]).toEqual(['0.00', '0']);
    expect(byUrn.get(4)!.topUp).toBe('0.00');
    expect(r.lines.get('2026-27')!.POST_16).toBeUndefined();
    expect(r.lines.get('2026-27')!.OTHER_LA_PLACEMENTS).toBeUndefined();
  });
});
