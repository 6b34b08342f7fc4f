import { parse, print } from 'graphql';
import { School } from './school.entity';
import { addinFundingFields, fundingLines, SCHOOL_FUNDING_CATALOGUE } from './funding.fields';
import {
  addinKind,
  AddinKind,
  CatalogueExportColumn,
  CatalogueField,
  catalogueOf,
  columnsSql,
  exportType,
  ExportType,
  selectionOf,
  ViewField,
} from './catalogue';

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
        exportType: exportType(f),
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

/**
 * The selection (inside the `{ }` of a School) that answers every dataset column, on one line:
 * `urn laestab … district { name } community(asOf: $asOf) { code name } …`; `communityArgs` e.g. "(asOf: $asOf)".
 */
export function schoolSelection(communityArgs = '', columns: readonly SchoolDatasetColumn[] = DATASET): string {
  const parts: (string | { field: string; subs: string[] })[] = [];
  for (const c of columns) {
    const [field, sub] = c.path;
    if (sub === undefined) parts.push(field);
    else {
      const group = parts.find((p) => typeof p !== 'string' && p.field === field) as { subs: string[] } | undefined;
      if (group) group.subs.push(sub);
      else parts.push({ field, subs: [sub] });
    }
  }
  return parts
    .map((p) =>
      typeof p === 'string' ? p : `${p.field}${p.field === 'community' ? communityArgs : ''} { ${p.subs.join(' ')} }`,
    )
    .join(' ');
}

/** Some of the schools dataset's columns, by key, in the catalogue's order (the School columns of a funding row). */
export function schoolDatasetSubset(...keys: string[]): SchoolDatasetColumn[] {
  const out = DATASET.filter((c) => keys.includes(c.key));
  const unknown = keys.filter((k) => !out.some((c) => c.key === k));
  if (unknown.length) throw new Error(`Not a column of the schools dataset: ${unknown.join(', ')}.`);
  return out;
}

/** The export's columns (key, type, description, and the path a relation column reads) for School columns. */
export function schoolExportColumns(columns: readonly SchoolDatasetColumn[] = DATASET): CatalogueExportColumn[] {
  return columns.map((c) => ({
    key: c.key,
    type: c.exportType,
    description: c.description,
    ...(c.path.join('.') === c.key ? {} : { path: c.path.join('.') }),
  }));
}

/**
 * The schools export as one GraphQL document, paged like the add-in's: variables `first`, `after`, `filter`
 * (SchoolFilter) and `asOf` (the community membership date; null for today). Each node answers every column of
 * schoolExportColumns() at the column's path.
 */
export function schoolExportDocument(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  return `query ExportSchools($first: Int!, $after: String, $filter: SchoolFilter, $asOf: Date) {
  schools(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } nodes { ${schoolSelection('(asOf: $asOf)', columns)} } }
}`;
}

// ---------------------------------------------------------------------------------------------------------
// Files generated from the catalogue (written by `npm run schema:emit`; the catalogue test fails when stale).

const REGENERATE = '`npm run schema:emit`, then `node addin/build.mjs --update`';

/** The add-in's school columns and =HNH.SCHOOL field names: the bundle cannot read the server's metadata. */
export function renderAddinSchoolFields(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  const cols = columns.map((c) =>
    JSON.stringify({
      header: c.header,
      kind: c.addinKind,
      path: c.path,
      names: [c.key, ...(c.aliases ?? [])].map((n) => n.toLowerCase()),
    }),
  );
  return [
    `// DO NOT EDIT: generated from server/modules/school/school.entity.ts by ${REGENERATE}.`,
    "import type { ColumnKind } from './types';",
    '',
    '/**',
    ' * The "Schools" dataset: header, kind and where the value is in a School of schema/operations/Schools.graphql,',
    ' * and the names =HNH.SCHOOL(urn, field) knows it by (lower case, no spaces).',
    ' */',
    'export const SCHOOL_DATASET_COLUMNS: readonly {',
    '  header: string;',
    '  kind: ColumnKind;',
    '  path: readonly string[];',
    '  names: readonly string[];',
    '}[] = [',
    ...cols.map((c) => `  ${c},`),
    '];',
    '',
  ].join('\n');
}

const OPS_HEADER = `# DO NOT EDIT: generated from server/modules/school/school.entity.ts by ${REGENERATE}.\n`;

/** An operation file: its comment lines, then the document as graphql-js prints it. */
const operation = (comment: string, document: string) => `${OPS_HEADER}# ${comment}\n${print(parse(document))}\n`;

export function renderSchoolsOperation(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  return operation(
    'One page of schools for the "Schools" dataset (paged by the add-in, 1,000 a page).',
    `query Schools($first: Int!, $after: String, $filter: SchoolFilter) { schools(first: $first, after: $after, filter: $filter, orderBy: { field: URN, direction: ASC }) {
      totalCount pageInfo { hasNextPage endCursor } nodes { ${schoolSelection('', columns)} } } }`,
  );
}

export function renderFnSchoolsOperation(columns: readonly SchoolDatasetColumn[] = DATASET): string {
  return operation(
    'Custom functions: =HNH.SCHOOL(urn, field). The batcher aliases this field once per request with all URNs.',
    `query FnSchools($urns: [Int!]!) { schoolsByUrn(urns: $urns) { ${schoolSelection('', columns)} } }`,
  );
}

const FUNDING_HEADER = `from server/modules/school/funding.fields.ts (the SchoolFunding catalogue) by ${REGENERATE}`;
const FUNDING_ID = schoolDatasetSubset('urn', 'name', 'communityCode');

/** The add-in's funding lines: header, kind, field, the names =HNH.FUNDING knows it by, the flag that hides it. */
export function renderAddinFundingFields(catalogue: readonly ViewField[] = SCHOOL_FUNDING_CATALOGUE): string {
  const cols = fundingLines(catalogue).map((f) =>
    JSON.stringify({
      header: f.header,
      kind: addinKind(f),
      field: f.name,
      names: [f.name, ...(f.aliases ?? [])].map((n) => n.toLowerCase()),
      ...(f.hiddenWith ? { hiddenWith: f.hiddenWith } : {}),
    }),
  );
  return [
    `// DO NOT EDIT: generated ${FUNDING_HEADER}.`,
    "import type { ColumnKind } from './types';",
    '',
    '/**',
    ' * The funding lines of a school in a term: the "School funding" dataset\'s columns after URN, name, community and',
    ' * term, in a SchoolFunding of schema/operations/SchoolFunding.graphql and FnFunding.graphql; the names',
    ' * =HNH.FUNDING(urn, term, line) knows each by; and the flag whose true hides it (shown as "c").',
    ' */',
    'export const FUNDING_LINE_COLUMNS: readonly {',
    '  header: string;',
    '  kind: ColumnKind;',
    '  field: string;',
    '  names: readonly string[];',
    '  hiddenWith?: string;',
    '}[] = [',
    ...cols.map((c) => `  ${c},`),
    '];',
    '',
  ].join('\n');
}

const fundingOperation = (comment: string, document: string) =>
  `# DO NOT EDIT: generated ${FUNDING_HEADER}.\n# ${comment}\n${print(parse(document))}\n`;

export function renderSchoolFundingOperation(catalogue: readonly ViewField[] = SCHOOL_FUNDING_CATALOGUE): string {
  return fundingOperation(
    'One page of school funding for a funding term: baseline, protection, community share, banded top-up.',
    `query SchoolFunding($first: Int!, $after: String, $filter: SchoolFilter, $term: String!) { schools(first: $first, after: $after, filter: $filter, orderBy: { field: URN, direction: ASC }) {
      totalCount pageInfo { hasNextPage endCursor } nodes { ${schoolSelection('', FUNDING_ID)} funding(term: $term) { ${selectionOf(addinFundingFields(catalogue))} } } } }`,
  );
}

export function renderFnFundingOperation(catalogue: readonly ViewField[] = SCHOOL_FUNDING_CATALOGUE): string {
  return fundingOperation(
    'Custom functions: =HNH.FUNDING(urn, term, line). One aliased field per distinct term in a request.',
    `query FnFunding($urns: [Int!]!, $term: String!) { schoolsByUrn(urns: $urns) { urn funding(term: $term) { ${selectionOf(addinFundingFields(catalogue))} } } }`,
  );
}

/** Every generated file, by its path from the project root. */
export function schoolGeneratedFiles(): Record<string, string> {
  return {
    'addin/src/core/school-fields.generated.ts': renderAddinSchoolFields(),
    'schema/operations/Schools.graphql': renderSchoolsOperation(),
    'schema/operations/FnSchools.graphql': renderFnSchoolsOperation(),
    'addin/src/core/funding-fields.generated.ts': renderAddinFundingFields(),
    'schema/operations/SchoolFunding.graphql': renderSchoolFundingOperation(),
    'schema/operations/FnFunding.graphql': renderFnFundingOperation(),
  };
}
