import { GIAS_COLUMNS, indexHeader, parseGiasRow } from '../../server/modules/imports/gias';
import { DATE_REASON } from '../../server/modules/imports/cells';
import { GIAS_HEADER } from '../../server/modules/imports/gias-sample';
import { ErrorList, FileRejected } from '../../server/modules/imports/report';

const header = [...GIAS_HEADER].reverse();
const idx = indexHeader(header);

function row(values: Record<string, string>): string[] {
  const base: Record<string, string> = {
    URN: '118001',
    'LA (code)': '886',
    EstablishmentNumber: '2001',
    EstablishmentName: 'Ashford Oaks Primary School',
    'TypeOfEstablishment (name)': 'Community school',
    'EstablishmentStatus (name)': 'Open',
    'PhaseOfEducation (name)': 'Primary',
    'DistrictAdministrative (code)': 'E07000105',
    'DistrictAdministrative (name)': 'Ashford',
    OpenDate: '01-09-1975',
    PercentageFSM: '23.45',
    ...values,
  };
  return header.map((h) => base[h] ?? '');
}
const parse = (values: Record<string, string> = {}) => {
  const errors = new ErrorList();
  const notes = new ErrorList();
  return {
    result: parseGiasRow(row(values), idx, 886, 7, errors, notes),
    errors: errors.items,
    notes: notes.items,
  };
};

describe('GIAS dates', () => {
  it('reads them with the one date reader, a day that does not exist refused with its reason', () => {
    expect(parse({ OpenDate: '01-09-2025', CloseDate: '' }).result).toMatchObject({
      school: { openDate: '2025-09-01', closeDate: null },
    });
    expect(parse({ OpenDate: '31-02-2025' }).errors).toEqual([
      { line: 7, column: 'OpenDate', value: '31-02-2025', reason: DATE_REASON },
    ]);
  });
});

describe('GIAS header', () => {
  it('finds columns by name in any order', () => {
    expect(header[idx.urn]).toBe('URN');
    expect(header[idx.district]).toBe('DistrictAdministrative (code)');
  });

  it('names every missing required column', () => {
    expect(() => indexHeader(['URN', 'EstablishmentName'])).toThrow(FileRejected);
    try {
      indexHeader(['URN', 'EstablishmentName']);
    } catch (e) {
      expect((e as FileRejected).errors.map((x) => x.column)).toEqual([
        'LA (code)',
        'EstablishmentNumber',
        'TypeOfEstablishment (name)',
        'EstablishmentStatus (name)',
        'PhaseOfEducation (name)',
        'DistrictAdministrative (code)',
      ]);
    }
  });
});

describe('a file of the wrong kind', () => {
  it('says when the establishment file is really the links file', () => {
    expect(() => indexHeader(['URN', 'LinkURN', 'LinkName', 'LinkType', 'LinkEstablishedDate'])).toThrow(
      /is GIAS's links file \(links_edubasealldata\), not its establishment file: .* with --links/,
    );
  });
});

describe('GIAS rows', () => {
  it('maps a maintained primary school, normalising the FSM percentage to two places', () => {
    const { result, errors } = parse();
    expect(errors).toEqual([]);
    expect(result).toEqual({
      kind: 'school',
      districtName: 'Ashford',
      school: expect.objectContaining({
        urn: 118001,
        laestab: 8862001,
        phase: 'PRIMARY',
        type: 'MAINTAINED',
        status: 'OPEN',
        openDate: '1975-09-01',
        percentFsm: '23.45',
        srpCapacity: null,
      }),
    });
  });

  it.each([
    ['Academy special converter', 'Not applicable', 'SPECIAL', 'ACADEMY'],
    ['Pupil referral unit', 'Not applicable', 'PRU', 'MAINTAINED'],
    ['Free schools 16 to 19', '16 plus', 'SIXTEEN_PLUS', 'FREE_SCHOOL'],
    ['Academy converter', 'Middle deemed secondary', 'SECONDARY', 'ACADEMY'],
  ])('maps %s (%s) to %s %s', (type, phase, expectedPhase, expectedType) => {
    const { result } = parse({ 'TypeOfEstablishment (name)': type, 'PhaseOfEducation (name)': phase });
    expect(result).toMatchObject({ kind: 'school', school: { phase: expectedPhase, type: expectedType } });
  });

  it('adds resourced provision and SEN unit places together', () => {
    const { result } = parse({
      ResourcedProvisionCapacity: '12',
      SenUnitCapacity: '8',
      ResourcedProvisionOnRoll: '10',
    });
    expect(result).toMatchObject({ school: { srpCapacity: 20, srpOnRoll: 10 } });
  });

  it('skips establishments the hub does not fund, by type', () => {
    expect(parse({ 'TypeOfEstablishment (name)': 'Other independent school' }).result).toEqual({
      kind: 'skip',
      reason: 'Other independent school',
    });
  });

  it('rejects a mainstream school with no phase, and UTF-8 text read as Windows-1252', () => {
    const { result, errors } = parse({
      'PhaseOfEducation (name)': 'Not applicable',
      EstablishmentName: 'St Maryâ€™s School',
    });
    expect(result).toEqual({ kind: 'reject' });
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [7, GIAS_COLUMNS.name],
      [7, GIAS_COLUMNS.phase],
    ]);
  });

  it('carries the district name GIAS gives, and refuses a district code that is not an ONS code', () => {
    expect(parse().result).toMatchObject({
      kind: 'school',
      districtName: 'Ashford',
      school: { districtCode: 'E07000105' },
    });
    const { result, errors } = parse({ 'DistrictAdministrative (code)': 'Ashford' });
    expect(result).toEqual({ kind: 'reject' });
    expect(errors).toEqual([
      {
        line: 7,
        column: 'DistrictAdministrative (code)',
        value: 'Ashford',
        reason: 'must be the ONS code of a district, e.g. E07000105',
      },
    ]);
  });

  it('imports a suppressed FSM figure as no figure, and notes it with its line', () => {
    const { result, errors, notes } = parse({ PercentageFSM: 'SUPP' });
    expect(errors).toEqual([]);
    expect(result).toMatchObject({ kind: 'school', school: { percentFsm: null } });
    expect(notes).toEqual([
      { line: 7, column: 'PercentageFSM', value: 'SUPP', reason: 'is suppressed in GIAS: imported as no figure' },
    ]);
  });

  it('notes a blank FSM figure of an open school, but not of a closed one', () => {
    expect(parse({ PercentageFSM: '' }).notes).toEqual([
      { line: 7, column: 'PercentageFSM', value: '', reason: 'is blank: imported as no figure' },
    ]);
    expect(parse({ PercentageFSM: '', 'EstablishmentStatus (name)': 'Closed' }).notes).toEqual([]);
  });

  it('holds back a school proposed to open that has no establishment number yet, with a note, not an error', () => {
    const { result, errors, notes } = parse({
      'EstablishmentStatus (name)': 'Proposed to open',
      EstablishmentNumber: '',
    });
    expect(result).toEqual({ kind: 'held' });
    expect(errors).toEqual([]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ line: 7, column: 'EstablishmentNumber', value: '' });
    expect(notes[0].reason).toMatch(
      /URN 118001 "Ashford Oaks Primary School" is proposed to open and has no establishment number yet/,
    );
    // An open school without one is still an error: it cannot be told apart from a broken row.
    expect(parse({ EstablishmentNumber: '' }).errors).toEqual([
      { line: 7, column: 'EstablishmentNumber', value: '', reason: 'is required' },
    ]);
  });
});
