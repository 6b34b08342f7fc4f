import { parse } from 'graphql';
import { memoByDocument, memoByString } from '../../server/http/memo';

describe('memoByString', () => {
  it('computes a key once, and again only after it was pushed out by newer keys', () => {
    const calls: string[] = [];
    const f = memoByString(
      (k) => {
        calls.push(k);
        return k.toUpperCase();
      },
      { maxEntries: 2, maxKeyLength: 10 },
    );
    expect([f('a'), f('a'), f('b'), f('a')]).toEqual(['A', 'A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);
    f('c'); // full: 'a', the oldest, goes
    f('b');
    f('a');
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('never keeps a key longer than the limit', () => {
    let n = 0;
    const f = memoByString(() => ++n, { maxEntries: 10, maxKeyLength: 3 });
    expect([f('abcd'), f('abcd'), f('abc'), f('abc')]).toEqual([1, 2, 3, 3]);
  });
});

describe('memoByDocument', () => {
  it('computes once per document object, however often it is asked', () => {
    let n = 0;
    const f = memoByDocument((d) => `${d.definitions.length}:${++n}`);
    const a = parse('{ a }');
    const b = parse('{ a }');
    expect([f(a), f(a), f(b), f(a)]).toEqual(['1:1', '1:1', '1:2', '1:1']);
  });
});
