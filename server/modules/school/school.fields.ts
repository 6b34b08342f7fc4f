import { School } from './school.entity';
import { addinKind, AddinKind, CatalogueField, catalogueOf, columnsSql, EXPORT_TYPE, ExportType } from './catalogue';

/**
 * The School field catalogue: read off school.entity.ts (catalogue.ts says how), and every list of School
 * fields derived from it here, once, at module load. tests/unit/school-catalogue.test.ts checks each
 * consumer against it and shows that a field added to an entity reaches all of them.
 */
export const SCHOOL_CATALOGUE: readonly CatalogueField[] = catalogueOf(School);

/** Columns of a School row (alias `s`) under their TypeScript names, for raw reads that skip entity hydration. */
export const SCHOOL_COLUMNS = columnsSql(SCHOOL_CATALOGUE, 's');

/** A dataset column: a catalogue field, or a value under one of School's relation fields. */
export interface SchoolDatasetColumn {
  /** The export's column key and the flat row's property. */
  key: string;
  header: string;
  /** Where the value is in a School answer: ['urn'], ['community', 'code']. */
  path: readonly string[];
  exportType: ExportType;
  addinKind: AddinKind;
  description: string;
  /** Other names =HNH.SCHOOL(urn, field) accepts for it. */
  aliases?: readonly string[];
}

/** The relation columns the schools datasets add, each placed after a catalogue field. */
interface RelatedColumn extends Omit<SchoolDatasetColumn, 'exportType' | 'addinKind'> {
  after: string;
}
const RELATED: readonly RelatedColumn[] = [
  {
    key: 'districtName',
    header: 'District',
    path: ['district', 'name'],
    after: 'districtCode',
    description: 'District name.',
  },
  {
    key: 'communityCode',
    header: 'Community',
    path: ['community', 'code'],
    after: 'districtCode',
    description: 'Community of Schools on asOf (empty for special schools, PRUs and closed schools).',
    aliases: ['community'],
  },
  {
    key: 'communityName',
    header: 'Community name',
    path: ['community', 'name'],
    after: 'districtCode',
    description: 'Community name.',
  },
];

/** The schools dataset's columns, for exports and the add-in alike: the catalogue's, with the relation columns. */
export function schoolDatasetColumns(
  catalogue: readonly CatalogueField[] = SCHOOL_CATALOGUE,
  related: readonly RelatedColumn[] = RELATED,
): SchoolDatasetColumn[] {
  const out: SchoolDatasetColumn[] = [];
  for (const f of catalogue) {
    if (f.notExported === undefined)
      out.push({
        key: f.name,
        header: f.header,
        path: [f.name],
        exportType: EXPORT_TYPE[f.kind],
        addinKind: addinKind(f),
        description: f.description,
      });
    for (const r of related.filter((x) => x.after === f.name)) {
      const { after: _after, ...col } = r;
      out.push({ ...col, exportType: 'text', addinKind: 'text' });
    }
  }
  return out;
}

const DATASET = schoolDatasetColumns();

/** The selection (inside `{ }` of a School) that answers every dataset column; `communityArgs` e.g. "(asOf: $asOf)". */
export function schoolSelection(
  communityArgs = '',
  columns: readonly SchoolDatasetColumn[] = DATASET,
  indent = '',
): string {
  const nested = new Map<string, string[]>();
  const lines: string[] = [];
  for (const c of columns) {
    if (c.path.length === 1) {
      lines.push(c.path[0]);
      continue;
    }
    const [field, sub] = c.path;
    if (!nested.has(field)) {
      nested.set(field, []);
      lines.push(field);
    }
    nested.get(field)!.push(sub);
  }
  return lines
    .map((l) => {
      const subs = nested.get(l);
      if (!subs) return `${indent}${l}`;
      const args = l === 'community' ? communityArgs : '';
      return `${indent}${l}${args} {\n${subs.map((s) => `${indent}  ${s}`).join('\n')}\n${indent}}`;
    })
    .join('\n');
}

/** The export's column list (key, type, description) for the schools dataset. */
export function schoolExportColumns(): { key: string; type: ExportType; description: string }[] {
  return DATASET.map((c) => ({ key: c.key, type: c.exportType, description: c.description }));
}

/** A School answer to schoolSelection() as one flat export row keyed by schoolExportColumns()' keys. */
export function schoolExportRow(node: Record<string, any>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of DATASET) row[c.key] = valueAt(node, c.path);
  return row;
}

function valueAt(node: Record<string, any>, path: readonly string[]): unknown {
  let v: any = node;
  for (const p of path) v = v?.[p];
  return v ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// Files generated from the catalogue (written by `npm run schema:emit`; the catalogue test fails when stale).

const REGENERATE = '`npm run schema:emit`, then `node addin/build.mjs --update`';

/** The add-in's school columns and =HNH.SCHOOL field names: the bundle cannot read the server's metadata. */
export function renderAddinSchoolFields(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  const cols = columns.map(
    (c) => `  { header: ${JSON.stringify(c.header)}, kind: '${c.addinKind}', path: ${JSON.stringify(c.path)} },`,
  );
  const fns: string[] = [];
  for (const c of columns)
    for (const name of [c.key, ...(c.aliases ?? [])]) fns.push(`  ${name.toLowerCase()}: ${JSON.stringify(c.path)},`);
  return [
    `// DO NOT EDIT: generated from server/modules/school/school.entity.ts by ${REGENERATE}.`,
    "import type { ColumnKind } from './types';",
    '',
    '/** The "Schools" dataset: header, kind and where the value is in a School of schema/operations/Schools.graphql. */',
    'export const SCHOOL_DATASET_COLUMNS: readonly { header: string; kind: ColumnKind; path: readonly string[] }[] = [',
    ...cols,
    '];',
    '',
    '/** =HNH.SCHOOL(urn, field): each field name (lower case, no spaces) and where its value is in a School. */',
    'export const SCHOOL_FUNCTION_FIELDS: Readonly<Record<string, readonly string[]>> = {',
    ...fns,
    '};',
    '',
  ].join('\n');
}

const OPS_HEADER = `# DO NOT EDIT: generated from server/modules/school/school.entity.ts by ${REGENERATE}.\n`;

export function renderSchoolsOperation(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  return `${OPS_HEADER}# One page of schools for the "Schools" dataset (paged by the add-in, 1,000 a page).
query Schools($first: Int!, $after: String, $filter: SchoolFilter) {
  schools(first: $first, after: $after, filter: $filter, orderBy: { field: URN, direction: ASC }) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
${schoolSelection('', columns, '      ')}
    }
  }
}
`;
}

export function renderFnSchoolsOperation(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  return `${OPS_HEADER}# Custom functions: =HNH.SCHOOL(urn, field). The batcher aliases this field once per request with all URNs.
query FnSchools($urns: [Int!]!) {
  schoolsByUrn(urns: $urns) {
${schoolSelection('', columns, '    ')}
  }
}
`;
}

/** Every generated file, by its path from the project root. */
export function schoolGeneratedFiles(): Record<string, string> {
  return {
    'addin/src/core/school-fields.generated.ts': renderAddinSchoolFields(),
    'schema/operations/Schools.graphql': renderSchoolsOperation(),
    'schema/operations/FnSchools.graphql': renderFnSchoolsOperation(),
  };
}
