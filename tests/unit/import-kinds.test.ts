import type { EntityManager } from 'typeorm';
import { applyRecords } from '../../server/modules/imports/apply';
import type {
  ImportKind,
  PublishedImport,
  RecordChange,
  RecordsImport,
  RecordStore,
  Refs,
  ReplaceImport,
  Stored,
} from '../../server/modules/imports/kinds';
import type { PeriodCatalogue } from '../../server/modules/period/period.service';
import { IMPORT_KINDS, requireKind } from '../../server/modules/imports/registry';
import { tableOf } from '../helpers/table';
import { validateTable } from '../../server/modules/imports/validate';
import { ErrorList } from '../../server/modules/imports/report';

const INFO = { kind: 'example', title: 'Example', description: 'An example.', fields: [], key: [] };
const STORE: RecordStore = { load: async () => new Map(), write: async () => undefined };

describe('the import definition shape', () => {
  it('asks of each mode what it needs, at compile time', () => {
    const records: RecordsImport = {
      ...INFO,
      mode: 'records',
      check: () => undefined,
      records: () => [],
      store: STORE,
    };
    const replace: ReplaceImport = {
      ...INFO,
      mode: 'replace',
      check: () => undefined,
      apply: async () => ({ created: 0, updated: 0, unchanged: 0, audit: [] }),
    };
    const published: PublishedImport = {
      ...INFO,
      mode: 'published',
      validate: async () => ({ rows: [], errors: new ErrorList(), ignoredColumns: [], records: [] }),
      store: STORE,
    };
    // @ts-expect-error a records import without a store has nowhere to write its records
    const noStore: RecordsImport = { ...INFO, mode: 'records', check: () => undefined, records: () => [] };
    // @ts-expect-error a replace import must replace its sets itself
    const noApply: ReplaceImport = { ...INFO, mode: 'replace', check: () => undefined };
    // @ts-expect-error a published layout is read by its own reader
    const noReader: PublishedImport = { ...INFO, mode: 'published', store: STORE };
    // @ts-expect-error a kind says which mode it is
    const noMode: ImportKind = { ...INFO, check: () => undefined, records: () => [], store: STORE };
    expect([records, replace, published, noStore, noApply, noReader, noMode].map((k) => k.kind)).toEqual(
      Array(7).fill('example'),
    );
  });

  it('gives every registered kind a mode and what the mode needs, and no two kinds one name', () => {
    const byMode = (mode: ImportKind['mode']) => IMPORT_KINDS.filter((k) => k.mode === mode).map((k) => k.kind);
    expect(byMode('replace')).toEqual(['caseloads', 'areas', 'community-memberships']);
    expect(byMode('published')).toEqual(['apt-budgets', 's251', 'place-numbers', 'baselines-by-year']);
    expect(byMode('records')).toHaveLength(IMPORT_KINDS.length - 7);
    for (const k of IMPORT_KINDS) {
      if (k.mode === 'replace') expect(typeof k.apply).toBe('function');
      else expect([typeof k.store.load, typeof k.store.write]).toEqual(['function', 'function']);
    }
    expect(new Set(IMPORT_KINDS.map((k) => k.kind)).size).toBe(IMPORT_KINDS.length);
  });

  it('writes the published layouts through the stores of the template kinds they stand for', () => {
    const store = (name: string) => {
      const k = requireKind(name);
      return k.mode === 'replace' ? null : k.store;
    };
    expect(store('apt-budgets')).toBe(store('notional-sen'));
    expect(store('s251')).toBe(store('hn-block-lines'));
    expect(store('baselines-by-year')).toBe(store('baseline-funding'));
  });
});

const term = (code: string) => ({ code, startDate: '2026-09-01', endDate: '2026-12-31' });
const periods = {
  financialYears: [],
  academicYears: [],
  fundingTerms: [term('AUTUMN-2026')],
  schoolTerms: [],
  fundingTermByCode: new Map([['AUTUMN-2026', term('AUTUMN-2026')]]),
  financialYearByCode: new Map(),
  schoolTermByCode: new Map(),
} as unknown as PeriodCatalogue;
const refs: Refs = {
  periods,
  schools: new Set(),
  communities: new Set(['ASH-01', 'ASH-02']),
  districts: new Set(),
  unplacedDistricts: new Set(),
  areas: new Set(),
  workers: new Set(),
  settings: new Set(),
};

describe('the validator', () => {
  const pots = requireKind('community-pots');
  if (pots.mode !== 'records') throw new Error('community-pots is a records import');

  it('parses every cell by its field kind and keeps the rows that pass, with their typed values', () => {
    const v = validateTable(
      pots,
      tableOf(
        ['communityCode', 'term', 'amount', 'note'],
        [
          ['ASH-01', 'AUTUMN-2026', '412,000.50', 'x'],
          ['ASH-02', 'AUTUMN-2026', '15', ''],
        ],
      ),
      refs,
    );
    expect(v.errors.count).toBe(0);
    expect(v.ignoredColumns).toEqual(['note']);
    expect(v.rows).toEqual([
      { line: 2, values: { communityCode: 'ASH-01', term: 'AUTUMN-2026', amount: '412000.50' } },
      { line: 3, values: { communityCode: 'ASH-02', term: 'AUTUMN-2026', amount: '15.00' } },
    ]);
    expect(pots.records(v.rows)).toEqual([
      { id: 'ASH-01|AUTUMN-2026', after: { amount: '412000.50' } },
      { id: 'ASH-02|AUTUMN-2026', after: { amount: '15.00' } },
    ]);
  });

  it('reports every problem of every row, and a key given twice on both its lines', () => {
    const v = validateTable(
      pots,
      tableOf(
        ['communityCode', 'term', 'amount'],
        [
          ['ASH-01', 'AUTUMN-2026', '1.00'],
          ['NOPE', 'WINTER', 'ten'],
          ['ASH-01', 'AUTUMN-2026', '2.00'],
        ],
      ),
      refs,
    );
    expect(v.rows.map((r) => r.line)).toEqual([2]);
    expect(v.errors.items.map((e) => [e.line, e.column, e.value])).toEqual([
      [3, 'amount', 'ten'],
      [3, 'communityCode', 'NOPE'],
      [3, 'term', 'WINTER'],
      [4, 'communityCode, term', 'ASH-01|AUTUMN-2026'],
    ]);
    expect([...v.errors.rejectedLines].sort()).toEqual([2, 3, 4]);
  });
});

/** A store held in memory, as a table would hold it: what the apply step reads and writes through. */
class MemoryStore implements RecordStore {
  readonly rows = new Map<string, Stored>();
  readonly writes: string[][] = [];
  async load(_tx: EntityManager, ids: string[]) {
    return new Map(ids.filter((id) => this.rows.has(id)).map((id) => [id, { ...this.rows.get(id) }]));
  }
  async write(_tx: EntityManager, changed: RecordChange[]) {
    this.writes.push(changed.map((c) => c.id));
    for (const c of changed) this.rows.set(c.id, { ...c.after });
  }
}

describe('the apply step', () => {
  const tx = {} as EntityManager;
  const src = { file: 'pots.csv', by: 'Test' };

  it('writes only the records that are new or differ (as exact decimals), and audits each one', async () => {
    const store = new MemoryStore();
    store.rows.set('A', { amount: '15.00' });
    store.rows.set('B', { amount: '10.00' });
    const records = [
      { id: 'A', after: { amount: '15' } },
      { id: 'B', after: { amount: '10.01' } },
      { id: 'C', after: { amount: '1.00' } },
    ];
    const r = await applyRecords(tx, 'community-pots', store, records, src);
    expect(r).toMatchObject({ created: 1, updated: 1, unchanged: 1 });
    expect(store.writes).toEqual([['B', 'C']]);
    expect(r.audit).toEqual([
      {
        entity: 'IMPORT',
        entityId: 'community-pots:B',
        action: 'UPDATE',
        before: { amount: '10.00' },
        after: { amount: '10.01' },
      },
      { entity: 'IMPORT', entityId: 'community-pots:C', action: 'CREATE', before: null, after: { amount: '1.00' } },
    ]);
    const again = await applyRecords(tx, 'community-pots', store, records, src);
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 3, audit: [] });
    expect(store.writes).toHaveLength(1);
  });
});
