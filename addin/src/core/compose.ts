/**
 * Composes several single-root-field operations from schema/operations into one aliased request, so the
 * operations the add-in sends stay the validated files rather than strings built ad hoc.
 */
export interface ParsedOperation {
  name: string;
  kind: 'query' | 'mutation';
  variables: { name: string; type: string }[];
  /** The root selection (one field with its arguments and selection set). */
  root: string;
}

export function parseOperation(text: string): ParsedOperation {
  const src = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const m = /\b(query|mutation)\s+(\w+)\s*(\(([^)]*)\))?\s*\{/.exec(src);
  if (!m) throw new Error('operation header not found');
  const variables = [...(m[4] ?? '').matchAll(/\$(\w+)\s*:\s*([^\s,)=]+)/g)].map((v) => ({ name: v[1], type: v[2] }));
  const start = m.index + m[0].length;
  const end = src.lastIndexOf('}');
  return { name: m[2], kind: m[1] as 'query' | 'mutation', variables, root: src.slice(start, end).trim() };
}

export interface AliasedCall {
  alias: string;
  op: ParsedOperation;
  variables: Record<string, unknown>;
}

export function composeQuery(
  name: string,
  calls: AliasedCall[],
): { query: string; variables: Record<string, unknown> } {
  const defs: string[] = [];
  const fields: string[] = [];
  const variables: Record<string, unknown> = {};
  for (const c of calls) {
    let root = c.op.root;
    for (const v of c.op.variables) {
      const renamed = `${c.alias}_${v.name}`;
      defs.push(`$${renamed}: ${v.type}`);
      variables[renamed] = c.variables[v.name] ?? null;
      root = root.replace(new RegExp(`\\$${v.name}\\b`, 'g'), `$${renamed}`);
    }
    fields.push(`${c.alias}: ${root}`);
  }
  const header = defs.length ? `query ${name}(${defs.join(', ')})` : `query ${name}`;
  return { query: `${header} {\n${fields.join('\n')}\n}`, variables };
}
