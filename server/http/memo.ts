import type { DocumentNode } from 'graphql';

/**
 * Per-request work that depends only on something the next request repeats, done once. Both memos are bounded:
 * whatever callers send, they cannot grow without limit.
 */

/**
 * `fn` of a string, kept for keys up to `maxKeyLength` characters, at most `maxEntries` of them (when full, the
 * oldest goes). For a value derived from a request header (the rate limiter's hashed token key).
 */
export function memoByString<T>(
  fn: (key: string) => T,
  opts: { maxEntries: number; maxKeyLength: number },
): (key: string) => T {
  const kept = new Map<string, T>();
  return (key) => {
    if (key.length > opts.maxKeyLength) return fn(key);
    if (kept.has(key)) return kept.get(key)!;
    const value = fn(key);
    if (kept.size >= opts.maxEntries) kept.delete(kept.keys().next().value!);
    kept.set(key, value);
    return value;
  };
}

/**
 * `fn` of a parsed document, kept for as long as the document lives: Apollo keeps each validated document in its
 * cache and hands the same object to every request that sends the same text, so a check that reads only the
 * document (its literals, its directives) runs once per distinct query.
 */
export function memoByDocument<T>(fn: (document: DocumentNode) => T): (document: DocumentNode) => T {
  const kept = new WeakMap<DocumentNode, { value: T }>();
  return (document) => {
    const hit = kept.get(document);
    if (hit) return hit.value;
    const value = fn(document);
    kept.set(document, { value });
    return value;
  };
}
