import { BadInput } from '../../errors';
import type { ImportKind } from './kinds';
import { FINANCE_KINDS } from './finance';
import { REFERENCE_KINDS } from './reference';
import { OFFICER_FILE_KINDS } from './officer-files';
import { SAFETY_VALVE_IMPORT_KINDS } from './safety-valve-imports';
import { RECOUPMENT_KIND } from './recoupment';

/** Every import the hub offers (POST /import/<kind>, npm run import, the templates), one file per family. */
export const IMPORT_KINDS: readonly ImportKind[] = [
  ...FINANCE_KINDS,
  ...REFERENCE_KINDS,
  // The files officers hold as the DfE publishes them; they write through the finance kinds' stores.
  ...OFFICER_FILE_KINDS,
  ...SAFETY_VALVE_IMPORT_KINDS,
  RECOUPMENT_KIND,
];

export const IMPORT_KIND_BY_NAME: ReadonlyMap<string, ImportKind> = new Map(IMPORT_KINDS.map((k) => [k.kind, k]));

export function requireKind(kind: string): ImportKind {
  const k = IMPORT_KIND_BY_NAME.get(kind);
  if (!k)
    throw new BadInput(`Unknown import "${kind}". Imports: ${IMPORT_KINDS.map((x) => x.kind).join(', ')}.`, 'kind', {
      validValues: [...IMPORT_KIND_BY_NAME.keys()],
    });
  return k;
}
