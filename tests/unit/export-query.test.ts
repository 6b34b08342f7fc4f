import { ApolloServer } from '@apollo/server';
import { buildSchema, GraphQLError } from 'graphql';
import type { Context } from '../../server/context';
import { planExport, runExport, RunGraphQL } from '../../server/modules/exports/export-query';

/*
 * The export runner over a real Apollo Server and a small schema: its paging (by cursor and by offset) and its
 * all-or-nothing answer, with pages small enough to need several.
 */

const schema = buildSchema(`
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type Item { n: Int! label: String! parts: [Part!]! }
  type Part { name: String! }
  type ItemConnection { pageInfo: PageInfo! nodes: [Item!]! }
  type ItemList { nodes: [Item!]! }
  type Query {
    items(first: Int!, after: String, failAt: Int): ItemConnection!
    itemList(first: Int!, offset: Int!): ItemList!
  }
`);

const ITEMS = Array.from({ length: 25 }, (_, i) => ({ n: i + 1, label: `item ${i + 1}`, parts: [{ name: 'a' }] }));

const calls: Record<string, unknown>[] = [];
const rootValue = {
  items({ first, after, failAt }: { first: number; after: string | null; failAt: number | null }) {
    calls.push({ first, after });
    const start = after ? Number(after) : 0;
    const page = ITEMS.slice(start, start + first).map((item) => ({
      ...item,
      label: () => {
        if (item.n === failAt)
          throw new GraphQLError(`Item ${item.n} is refused.`, { extensions: { code: 'FORBIDDEN' } });
        return item.label;
      },
    }));
    const end = start + page.length;
    return { nodes: page, pageInfo: { hasNextPage: end < ITEMS.length, endCursor: String(end) } };
  },
  itemList({ first, offset }: { first: number; offset: number }) {
    calls.push({ first, offset });
    return { nodes: ITEMS.slice(offset, offset + first) };
  },
};

let apollo: ApolloServer<Context>;
let graphql: RunGraphQL;
beforeAll(async () => {
  apollo = new ApolloServer<Context>({ schema, rootValue, includeStacktraceInErrorResponses: false });
  await apollo.start();
  graphql = (request, contextValue) => apollo.executeOperation(request, { contextValue });
});
afterAll(() => apollo?.stop());
beforeEach(() => void calls.splice(0));

const ctx = () => ({ sql: { statements: 0 } }) as unknown as Context;

const BY_CURSOR = planExport(
  'items',
  `query ExportItems($first: Int!, $after: String, $failAt: Int) {
     items(first: $first, after: $after, failAt: $failAt) { pageInfo { hasNextPage endCursor } nodes { n label parts { name } } }
   }`,
  {
    paging: { by: 'cursor', connection: 'items', size: 10 },
    rows: [{ list: 'items.nodes.parts' }],
    columns: [
      { key: 'n', type: 'int', description: 'Number.' },
      { key: 'label', type: 'text', description: 'Label.' },
      { key: 'part', type: 'text', description: 'Part.', path: 'name' },
    ],
  },
);

describe('an export runs its document page by page', () => {
  it('follows the cursor to the last page and keeps every row in order', async () => {
    const { rows, variables } = await runExport(BY_CURSOR, { failAt: null }, ctx(), graphql);
    expect(calls).toEqual([
      { first: 10, after: null },
      { first: 10, after: '10' },
      { first: 10, after: '20' },
    ]);
    expect(rows.map((r) => r.n)).toEqual(ITEMS.map((i) => i.n));
    expect(rows[24]).toEqual({ n: 25, label: 'item 25', part: 'a' });
    expect(variables).toEqual({ failAt: null, first: 10, after: null });
  });

  it('moves the offset on by a page until a page comes back short', async () => {
    const plan = planExport(
      'item-list',
      `query ExportItemList($first: Int!, $offset: Int!) { itemList(first: $first, offset: $offset) { nodes { n } } }`,
      {
        paging: { by: 'offset', list: 'itemList.nodes', size: 10 },
        rows: [{ list: 'itemList.nodes' }],
        columns: [{ key: 'n', type: 'int', description: 'Number.' }],
      },
    );
    const { rows } = await runExport(plan, {}, ctx(), graphql);
    expect(calls.map((c) => c.offset)).toEqual([0, 10, 20]);
    expect(rows.map((r) => r.n)).toEqual(ITEMS.map((i) => i.n));
  });

  it('answers nothing but the error when a later page has one, with its code', async () => {
    const run = runExport(BY_CURSOR, { failAt: 17 }, ctx(), graphql);
    await expect(run).rejects.toThrow('Item 17 is refused.');
    await expect(runExport(BY_CURSOR, { failAt: 17 }, ctx(), graphql)).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    // The second page failed: the third was never asked for.
    expect(calls.filter((c) => c.after === '20')).toEqual([]);
  });

  it('refuses, when the dataset is defined, a column its document selects at two levels of the row', () => {
    expect(() =>
      planExport(
        'ambiguous',
        `query A($first: Int!) { items(first: $first) { nodes { label parts { label: name } } } }`,
        {
          rows: [{ list: 'items.nodes.parts' }],
          columns: [{ key: 'label', type: 'text', description: 'Which one?' }],
        },
      ),
    ).toThrow(/column "label" reads "label", which the document selects at more than one level/);
  });
});
