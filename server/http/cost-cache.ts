import {
  DocumentNode,
  GraphQLSchema,
  isAbstractType,
  getNamedType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  ValueNode,
} from 'graphql';
import type { DataBounds } from './cost';
import { costOf } from './complexity';

/** What the complexity limit estimates for an operation (complexity.ts). */
export interface CostEstimate {
  /** Rows x fields. */
  complexity: number;
  /** Whole-county model computations. */
  computations: number;
}

/** Keys longer than this (a variable holding a long list) are not kept: the estimate is computed each time. */
const MAX_KEY_LENGTH = 2000;
/** Distinct variable values kept per document (e.g. `first: $n` from many callers). */
const MAX_ENTRIES_PER_DOCUMENT = 64;

/** Which variables can change a document's estimate: their names, or every variable when that cannot be told. */
type Sensitive = string[] | 'all';

function variablesIn(value: ValueNode, out: Set<string>): void {
  visit(value, {
    Variable(node) {
      out.add(node.name.value);
    },
  });
}

/**
 * The variables an estimate reads. The estimators (complexity.ts) read a field's arguments only through its
 * declared list size when that size is a function (`first`, `urns`…), and graphql-query-complexity reads
 * variables only for those arguments and for @skip/@include; every other argument (a URN, a term, a date) cannot
 * change the estimate. A field the schema does not resolve statically (on an interface or union) makes every
 * variable count.
 */
function sensitiveVariables(schema: GraphQLSchema, document: DocumentNode): Sensitive {
  const names = new Set<string>();
  let all = false;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive(node) {
        for (const arg of node.arguments ?? []) variablesIn(arg.value, names);
      },
      Field(node) {
        const parent = typeInfo.getParentType();
        const def = typeInfo.getFieldDef();
        if (!def || (parent && isAbstractType(getNamedType(parent)))) {
          all = true;
          return;
        }
        if (typeof costOf(def)?.listSize === 'function')
          for (const arg of node.arguments ?? []) variablesIn(arg.value, names);
      },
    }),
  );
  return all ? 'all' : [...names].sort();
}

/**
 * Cost estimates kept per parsed document, so a query sent again is not walked again: the estimate depends only on
 * the document, the operation, the values of the variables that can change it (sensitiveVariables) and the data's
 * bounds. Keyed by the bounds object itself: trackBounds (cost.ts) keeps one object for as long as the counts it
 * read stay the same and makes a new one when they change, so a refresh that finds the data grown estimates again
 * and one that finds it unchanged keeps what it has. Documents are held weakly (Apollo's document cache owns them).
 */
export function createCostCache(
  schema: GraphQLSchema,
  onEstimate: (result: 'computed' | 'cached') => void = () => undefined,
) {
  const byDocument = new WeakMap<
    DocumentNode,
    { sensitive: Sensitive; bounds: DataBounds | null; entries: Map<string, CostEstimate> }
  >();
  return {
    get(
      document: DocumentNode,
      operationName: string | null | undefined,
      variables: Record<string, unknown> | undefined,
      bounds: DataBounds,
      estimate: () => CostEstimate,
    ): CostEstimate {
      let doc = byDocument.get(document);
      if (!doc) {
        doc = { sensitive: sensitiveVariables(schema, document), bounds, entries: new Map() };
        byDocument.set(document, doc);
      }
      if (doc.bounds !== bounds) {
        doc.bounds = bounds;
        doc.entries.clear();
      }
      const vars = variables ?? {};
      const names = doc.sensitive === 'all' ? Object.keys(vars).sort() : doc.sensitive;
      // [present, value] per name: an absent variable (its default applies) differs from one sent as null.
      const key = JSON.stringify([operationName ?? null, names.map((n) => (n in vars ? [vars[n]] : []))]);
      const hit = doc.entries.get(key);
      if (hit) {
        onEstimate('cached');
        return hit;
      }
      const value = estimate();
      onEstimate('computed');
      if (key.length <= MAX_KEY_LENGTH) {
        if (doc.entries.size >= MAX_ENTRIES_PER_DOCUMENT) doc.entries.delete(doc.entries.keys().next().value!);
        doc.entries.set(key, value);
      }
      return value;
    },
  };
}
export type CostCache = ReturnType<typeof createCostCache>;
