import { graphql, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { DateScalar, MoneyScalar, toMoneyString } from '../../server/common/scalars';

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      echoMoney: { type: MoneyScalar, args: { v: { type: MoneyScalar } }, resolve: (_s, { v }) => v },
      echoDate: { type: DateScalar, args: { d: { type: DateScalar } }, resolve: (_s, { d }) => d },
      big: { type: MoneyScalar, resolve: () => '389000000.10' },
      s: { type: GraphQLString, resolve: () => 'x' },
    },
  }),
});

describe('Money scalar', () => {
  it('keeps pounds and pence exact as strings, padding to two places', async () => {
    const r = await graphql({ schema, source: '{ a: echoMoney(v: "0.10") b: echoMoney(v: "123456789012.5") c: big }' });
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ a: '0.10', b: '123456789012.50', c: '389000000.10' });
  });

  it('adds decimals exactly where floats would drift', () => {
    expect(toMoneyString('0.1')).toBe('0.10');
    expect(0.1 + 0.2).not.toBe(0.3);
  });

  it('rejects a float literal with a message that says to send a string', async () => {
    const r = await graphql({ schema, source: '{ echoMoney(v: 12.5) }' });
    expect(r.errors?.[0].message).toMatch(/Money literals must be strings/);
  });

  it('rejects more than two decimal places', async () => {
    const r = await graphql({ schema, source: '{ echoMoney(v: "1.005") }' });
    expect(r.errors?.[0].message).toMatch(/more than 2 decimal places/);
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a number passed as a variable', async () => {
    const r = await graphql({ schema, source: 'query($v: Money) { echoMoney(v: $v) }', variableValues: { v: 12.5 } });
    expect(r.errors?.[0].message).toMatch(/decimal string/);
  });
});

describe('Date scalar', () => {
  it('accepts ISO dates and rejects impossible ones', async () => {
    const ok = await graphql({ schema, source: '{ echoDate(d: "2026-02-28") }' });
    expect(ok.data).toEqual({ echoDate: '2026-02-28' });
    const bad = await graphql({ schema, source: '{ echoDate(d: "2026-02-30") }' });
    expect(bad.errors?.[0].message).toMatch(/does not exist/);
    const shape = await graphql({ schema, source: '{ echoDate(d: "28/02/2026") }' });
    expect(shape.errors?.[0].message).toMatch(/YYYY-MM-DD/);
  });
});
