import { getNamedType, getNullableType, GraphQLObjectType, isListType, isObjectType } from 'graphql';
import { getSchema } from '../../server/schema';
import { costOf, rowsOf } from '../../server/http/complexity';
import { trackBounds } from '../../server/http/cost';
import { startTestHub, TestHub } from '../helpers/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ requestBudgetMs: 100 });
}, 180_000);
afterAll(() => t?.stop());

describe('an honest cost for every query', () => {
  it('declares a size on every list field of the schema', async () => {
    const schema = await getSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values((type as GraphQLObjectType).getFields())) {
        if (isListType(getNullableType(field.type)) && costOf(field)?.listSize === undefined)
          missing.push(`${type.name}.${field.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('sizes lists from the data: every declared size covers what the database really holds', async () => {
    const schema = await getSchema();
    const tracker = trackBounds(t.db.dataSource);
    await tracker.ready;
    tracker.stop();
    const b = tracker.current();
    const field = (type: string, name: string) => (schema.getType(type) as GraphQLObjectType).getFields()[name];
    const [{ n: caseloadRows }] = await t.db.dataSource.query(
      'SELECT max(n)::int AS n FROM (SELECT count(*) AS n FROM caseload_count GROUP BY kind) x',
    );
    const [{ n: schoolTerms }] = await t.db.dataSource.query(
      'SELECT count(*)::int * (SELECT count(*)::int FROM funding_term) AS n FROM school',
    );
    const [{ n: largest }] = await t.db.dataSource.query(
      'SELECT max(n)::int AS n FROM (SELECT count(*) AS n FROM community_membership GROUP BY community_code) x',
    );
    expect(caseloadRows).toBeGreaterThan(4000); // the demo's EHCP plans by school and term
    expect(rowsOf(field('CaseloadTable', 'rows'), {}, b)).toBeGreaterThanOrEqual(caseloadRows);
    expect(rowsOf(field('ScenarioResults', 'schools'), {}, b)).toBeGreaterThanOrEqual(schoolTerms);
    expect(rowsOf(field('ScenarioComparison', 'schools'), {}, b)).toBeGreaterThanOrEqual(schoolTerms);
    expect(rowsOf(field('Community', 'schools'), {}, b)).toBeGreaterThanOrEqual(largest);
    // ...and stays an honest bound, not a blanket (a school has a handful of caseload kinds in a term).
    expect(rowsOf(field('School', 'caseloads'), { period: '2025/26-T1' }, b)).toBeLessThan(20);
    // A page is sized by `first`, never more than the table holds.
    expect(rowsOf(field('Query', 'schools'), { first: 5 }, b)).toBe(5);
    expect(rowsOf(field('Query', 'schools'), { first: 1000 }, b)).toBeLessThanOrEqual(b.schools);
    expect(getNamedType(field('Query', 'schools').type).name).toBe('SchoolConnection');
  });

  it('stops a request that runs past its time budget with 503 SERVICE_UNAVAILABLE', async () => {
    // A budget well under what the whole county's scenario results and comparison take, three times over (each
    // alias reads and serialises thousands of rows): however fast the database, the request runs past it.
    const tight = await startTestHub({ db: t.db, requestBudgetMs: 25 });
    try {
      const created = await t.gql('mutation { createScenario(name: "budget") { id } }', {}, t.tokens.SUBGROUP);
      const id = created.body.data.createScenario.id;
      const heavy = [1, 2, 3]
        .map(
          (i) =>
            `r${i}: results { schools { schoolUrn total } } c${i}: comparison(includeUnchanged: true) { schools { schoolUrn difference } }`,
        )
        .join(' ');
      const r = await tight.gql(`{ scenario(id: "${id}") { ${heavy} } }`, {}, t.tokens.SUBGROUP);
      expect(r.status).toBe(503);
      expect(r.body.errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'TIME_BUDGET' });
      // The hub still answers the next request at once.
      expect((await tight.gql('{ me { role } }')).status).toBe(200);
    } finally {
      await tight.hub.stop();
    }
  });
});
