import { BadInput, cutText } from '../../errors';
import { unstorableText } from '../../http/guard';
import { isIsoDate } from '../../common/dates';

/** One query-string filter of an export: the same name and meaning as the GraphQL argument it feeds. */
export interface ParamSpec {
  name: string;
  kind: 'string' | 'int' | 'date' | 'enum' | 'enumList' | 'intList';
  required?: boolean;
  values?: readonly string[];
  description: string;
}

export type ParsedParams = Record<string, string | number | string[] | number[] | null>;

const INT_RE = /^-?\d{1,9}$/;

function fail(name: string, raw: string, reason: string): never {
  throw new BadInput(`Filter "${name}": ${JSON.stringify(cutText(raw, 200))} ${reason}`, name, {
    value: cutText(raw, 200),
  });
}

function parseOne(spec: ParamSpec, raw: string): string | number {
  switch (spec.kind) {
    case 'int':
    case 'intList':
      if (!INT_RE.test(raw)) fail(spec.name, raw, 'is not a whole number.');
      return Number(raw);
    case 'date': {
      if (!isIsoDate(raw)) fail(spec.name, raw, 'is not a date "YYYY-MM-DD".');
      return raw;
    }
    case 'enum':
    case 'enumList': {
      const v = raw.toUpperCase();
      if (!spec.values!.includes(v)) fail(spec.name, raw, `is not one of ${spec.values!.join(', ')}.`);
      return v;
    }
    default:
      return raw;
  }
}

/**
 * Lists take repeated parameters or commas (`phase=PRIMARY,SECONDARY`), as Power Query users write either.
 * An unknown parameter is an error, not ignored: a misspelt filter would otherwise export everything.
 */
export function parseParams(specs: ParamSpec[], query: URLSearchParams, dataset: string): ParsedParams {
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const [name, value] of query) {
    const reason = unstorableText(name) ?? unstorableText(value);
    if (reason)
      throw new BadInput(
        `Filter "${cutText(name, 60)}" ${reason}, which the database cannot store.`,
        cutText(name, 60),
      );
  }
  for (const name of new Set(query.keys())) {
    if (!byName.has(name)) {
      const valid = specs.map((s) => s.name);
      throw new BadInput(
        `Unknown filter "${cutText(name, 60)}" for the ${dataset} export. ${valid.length ? 'Valid filters: ' + valid.join(', ') + '.' : 'It takes no filters.'}`,
        cutText(name, 60),
        { validFilters: valid },
      );
    }
  }
  const out: ParsedParams = {};
  for (const spec of specs) {
    const raws = query
      .getAll(spec.name)
      .flatMap((r) => (spec.kind.endsWith('List') ? r.split(',') : [r]))
      .map((r) => r.trim())
      .filter((r) => r !== '');
    if (raws.length === 0) {
      if (spec.required)
        throw new BadInput(`The ${dataset} export needs the filter "${spec.name}": ${spec.description}`, spec.name);
      out[spec.name] = null;
      continue;
    }
    if (!spec.kind.endsWith('List') && raws.length > 1)
      throw new BadInput(`Filter "${spec.name}" takes one value; got ${raws.length}.`, spec.name);
    const values = raws.map((r) => parseOne(spec, r));
    out[spec.name] = spec.kind.endsWith('List') ? (values as string[] | number[]) : values[0];
  }
  return out;
}
