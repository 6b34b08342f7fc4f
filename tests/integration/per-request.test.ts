import { startTestHub, TestHub } from '../helpers/hub';

// The complexity estimate is computed once per document when it cannot depend on the variables; these
// documents' estimates do depend on them, so each request must be estimated with its own.
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const NODE =
  'urn name laestab phase status district { name area { name } } community(asOf: "2025-10-01") { code name chairName pot(term: "AUTUMN-2025") { amount approved } }';
const BY_FIRST = `query Wide($n: Int!) { ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: $n) { nodes { ${NODE} } }`).join(' ')} }`;
const BY_INCLUDE = `query Maybe($all: Boolean!) { ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: 1000) @include(if: $all) { nodes { ${NODE} } }`).join(' ')} areas { code } }`;

describe('the query size limit on one document with different variables', () => {
  it("estimates `first: $n` from each request's own value", async () => {
    for (const [n, ok] of [
      [1, true],
      [1000, false],
      [1, true],
      [1000, false],
    ] as const) {
      const r = await t.gql(BY_FIRST, { n });
      if (ok) {
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data.s0.nodes).toHaveLength(1);
      } else {
        expect(r.status).toBe(400);
        expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      }
    }
  });

  it("estimates @include(if: $var) from each request's own value", async () => {
    for (const [all, ok] of [
      [false, true],
      [true, false],
      [false, true],
    ] as const) {
      const r = await t.gql(BY_INCLUDE, { all });
      if (ok) expect(r.body.data).toEqual({ areas: expect.any(Array) });
      else expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    }
  });

  it('refuses a too-large document with no variables every time it is sent', async () => {
    const wide = `{ ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: 1000) { nodes { ${NODE} } }`).join(' ')} }`;
    for (let i = 0; i < 3; i++) expect((await t.gql(wide)).body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });
});
