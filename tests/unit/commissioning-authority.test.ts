/**
 * The commissioning and the providing authority (DfE high-needs operational guidance): the LA pays the top-up
 * for its children in other authorities' schools (OTHER_LA placements: count x unit cost on the
 * OTHER_LA_PLACEMENTS line); their place funding is the providing authority's, taken from the LA's allocation
 * by the import/export adjustment (£6,000 a pupil), which gains as much per pupil the LA's schools import.
 */
import Decimal from 'decimal.js';
import {
  computeBlock,
  exportedPupilsFor,
  incomeFor,
  type BlockDrivers,
  type IncomeDrivers,
} from '../../server/modules/funding/block';
import { DEFAULT_MODEL_PARAMETERS, type ModelParameters } from '../../server/modules/funding/model';

const P = DEFAULT_MODEL_PARAMETERS;
const withBlock = (b: Partial<ModelParameters['block']>): ModelParameters => ({ ...P, block: { ...P.block, ...b } });
const term = {
  code: 'AUTUMN-2026',
  startDate: '2026-09-01',
  months: 4,
  financialYearCode: '2026-27',
  academicYearCode: '2026/27',
};

function drivers(): BlockDrivers {
  return {
    providers: [],
    places: new Map(),
    topUpCounts: new Map(),
    placements: new Map([
      ['2026-27|INDEPENDENT_NMSS', { placements: 10, unitCost: '50000.00' }],
      ['2026-27|POST_16_FE', { placements: 3, unitCost: '9000.00' }],
      ['2026-27|OTHER_LA', { placements: 789, unitCost: '25712.37' }],
    ]),
  };
}

function income(exported: number | null = 1160, imported: number | null = 1310): IncomeDrivers {
  return {
    years: new Map([
      [
        '2026-27',
        {
          highNeedsAllocation: '300000000.00',
          schoolsBlock: '1450000000.00',
          laContribution: '13600000.00',
          importedPupils: imported,
          exportedPupils: exported,
        },
      ],
    ]),
    instalments: [],
    otherLaPlacements: new Map([['2026-27', 789]]),
  };
}

describe("the LA's children in other authorities' schools", () => {
  it('make the OTHER_LA_PLACEMENTS line as count x unit cost, to the penny', () => {
    const r = computeBlock(drivers(), [], () => P, ['2026-27']);
    // 789 x £25,712.37 = £20,287,059.93.
    expect(r.lines.get('2026-27')!.OTHER_LA_PLACEMENTS).toBe('20287059.93');
    expect(new Decimal(789).times('25712.37').toFixed(2)).toBe('20287059.93');
    expect(r.missing).toEqual([]);
  });

  it('moved back into the LA special schools: the line loses the share, special gains place and top-up, exports fall by as many pupils', () => {
    const p = withBlock({ placementShifts: [{ from: 'OTHER_LA', to: 'SPECIAL', share: '0.10', band: 'S3' }] });
    const r = computeBlock(drivers(), [term], () => p, ['2026-27']);
    // 789 x 90% = 710.1 placements x £25,712.37 = £18,258,353.937 -> £18,258,353.94.
    expect(r.lines.get('2026-27')!.OTHER_LA_PLACEMENTS).toBe('18258353.94');
    // 78.9 moved, Autumn 2026 (4 months): (£10,000 place + £15,000 S3) x 78.9 x 4/12 = £657,500.00.
    expect(r.lines.get('2026-27')!.SPECIAL_SCHOOLS).toBe('657500.00');
    expect(exportedPupilsFor('2026-27', income(), p)).toBe('1081.1');
    const y = incomeFor('2026-27', income(), p)!;
    // (1,310 - 1,081.1) x £6,000 = £1,373,400.00, against (1,310 - 1,160) x £6,000 = £900,000.00 of record.
    expect(y.importExportAdjustment).toBe('1373400.00');
    expect(incomeFor('2026-27', income(), P)!.importExportAdjustment).toBe('900000.00');
  });

  it('grown by EHCP growth for OTHER_LA: the line and exports grow together', () => {
    const p = withBlock({ growthBySetting: { OTHER_LA: '0.05' } });
    const r = computeBlock(drivers(), [], () => p, ['2026-27']);
    // 789 x 1.05 = 828.45 x £25,712.37 = £21,301,412.9265 -> £21,301,412.93.
    expect(r.lines.get('2026-27')!.OTHER_LA_PLACEMENTS).toBe('21301412.93');
    // Exports 1,160 + 39.45 = 1,199.45; (1,310 - 1,199.45) x £6,000 = £663,300.00.
    expect(incomeFor('2026-27', income(), p)!.importExportAdjustment).toBe('663300.00');
  });
});

describe('the import/export adjustment in the income', () => {
  it('adds (imported - exported) x the rate to the allocation, and counts in the total', () => {
    const y = incomeFor('2026-27', income(), P)!;
    expect(y).toMatchObject({
      highNeedsAllocation: '300000000.00',
      importedPupils: '1310',
      exportedPupils: '1160',
      importExportRate: '6000.00',
      importExportAdjustment: '900000.00',
      schoolsBlockTransfer: '17400000.00',
      laContribution: '13600000.00',
    });
    // 300,000,000 + 900,000 + 17,400,000 + 0 + 13,600,000.
    expect(y.total).toBe('331900000.00');
  });

  it('is negative for a net exporter and follows a changed rate', () => {
    const y = incomeFor('2026-27', income(1400, 1310), withBlock({ importExportRate: '6250.50' }))!;
    // (1,310 - 1,400) x £6,250.50 = -£562,545.00.
    expect(y.importExportAdjustment).toBe('-562545.00');
    expect(y.total).toBe(new Decimal('331000000.00').minus('562545.00').toFixed(2));
  });

  it('follows a change in the pupils imported and exported, on top of the OTHER_LA moves', () => {
    const p = withBlock({
      importChange: '-0.10',
      exportChange: '0.05',
      placementShifts: [{ from: 'OTHER_LA', to: 'SPECIAL', share: '0.10', band: 'S3' }],
    });
    const y = incomeFor('2026-27', income(), p)!;
    // Imports 1,310 x 0.9 = 1,179; exports 1,160 x 1.05 = 1,218 less the 78.9 moved = 1,139.1.
    expect([y.importedPupils, y.exportedPupils]).toEqual(['1179', '1139.1']);
    // (1,179 - 1,139.1) x £6,000 = £239,400.00.
    expect(y.importExportAdjustment).toBe('239400.00');
  });

  it('counts no adjustment where the pupils are not recorded, and says so with null', () => {
    const y = incomeFor('2026-27', income(null, null), P)!;
    expect([y.importedPupils, y.exportedPupils, y.importExportAdjustment]).toEqual([null, null, '0.00']);
    // One count alone is no adjustment either: imports without exports would overstate the allocation.
    expect(incomeFor('2026-27', income(null, 1310), P)!.importExportAdjustment).toBe('0.00');
    expect(incomeFor('2026-27', income(1160, null), P)!.importExportAdjustment).toBe('0.00');
  });
});
