import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  print,
  getNamedType,
  GraphQLObjectType,
  isEnumType,
  isNonNullType,
  isScalarType,
  parse,
  validate,
  visit,
} from 'graphql';
import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DecimalScalar, MoneyScalar } from '../../server/common/scalars';
import {
  Catalogue,
  catalogueOf,
  columnsSql,
  entityColumns,
  valueSql,
  viewCatalogueOf,
  ViewField,
} from '../../server/modules/school/catalogue';
import {
  COMMUNITY_POT_CATALOGUE,
  COMMUNITY_POT_COLUMNS,
  SCHOOL_FUNDING_CATALOGUE,
  SCHOOL_FUNDING_COLUMNS,
} from '../../server/modules/school/funding.fields';
import { CommunityPot, SchoolTermFunding } from '../../server/modules/funding/funding.entity';
import {
  DATASET_BY_NAME,
  schoolFundingExportPlan,
  schoolsExportPlan,
} from '../../server/modules/exports/export-datasets';
import { compiles, LEFT_TO_RESOLVERS } from '../../server/modules/school/school.compiled';
import {
  renderAddinFundingFields,
  renderAddinSchoolFields,
  renderFnFundingOperation,
  renderFnSchoolsOperation,
  renderSchoolFundingOperation,
  renderSchoolsOperation,
  SCHOOL_CATALOGUE,
  SCHOOL_COLUMNS,
  schoolDatasetColumns,
  schoolExportDocument,
  schoolGeneratedFiles,
} from '../../server/modules/school/school.fields';
import { COMMUNITY_CATALOGUE, COMMUNITY_COLUMNS } from '../../server/modules/school/school.sql';
import { SCHOOL_DATASET_COLUMNS } from '../../addin/src/core/school-fields.generated';
import { FUNDING_LINE_COLUMNS } from '../../addin/src/core/funding-fields.generated';
import { datasetById } from '../../addin/src/core/datasets';
import { SCHOOL_FIELDS } from '../../addin/src/functions/logic';
import { OPERATIONS } from '../../addin/src/core/operations.generated';

/**
 * The School field catalogue (server/modules/school/school.fields.ts, read off school.entity.ts) is the one
 * definition of a School field: every other list of School fields must be derived from it. These tests fail
 * when one is not, or when a generated copy of it is stale.
 */

const root = path.join(__dirname, '../..');
const schema = buildSchema(fs.readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
const schoolType = schema.getType('School') as GraphQLObjectType;
const KIND_OF_TYPE: Record<string, string> = {
  Int: 'int',
  String: 'text',
  Boolean: 'bool',
  Date: 'date',
  Decimal: 'decimal',
  Money: 'money',
};

describe('the School field catalogue', () => {
  it('holds every scalar field of School in the tracked schema, with the kind and nullability its GraphQL type says', () => {
    const scalars = Object.values(schoolType.getFields()).filter((f) => {
      const t = getNamedType(f.type);
      return isScalarType(t) || isEnumType(t);
    });
    expect(SCHOOL_CATALOGUE.map((f) => f.name).sort()).toEqual(scalars.map((f) => f.name).sort());
    for (const f of scalars) {
      const entry = SCHOOL_CATALOGUE.find((c) => c.name === f.name)!;
      const named = getNamedType(f.type);
      expect([f.name, entry.kind]).toEqual([f.name, isEnumType(named) ? 'enum' : KIND_OF_TYPE[named.name]]);
      expect([f.name, entry.nullable]).toEqual([f.name, !isNonNullType(f.type)]);
      expect([f.name, entry.description]).toEqual([f.name, f.description]);
    }
  });

  it('is what the compiled read path answers; any other School field is left to the resolvers with a reason', () => {
    for (const f of SCHOOL_CATALOGUE) expect([f.name, compiles('School', f.name)]).toEqual([f.name, true]);
    const missing = Object.keys(schoolType.getFields()).filter(
      (name) => !compiles('School', name) && !LEFT_TO_RESOLVERS[name]?.trim(),
    );
    expect(missing).toEqual([]);
  });

  it('is what raw reads select, each column under its TypeScript name', () => {
    for (const f of SCHOOL_CATALOGUE)
      expect(SCHOOL_COLUMNS).toContain(f.column === f.name ? `s.${f.column}` : `s.${f.column} AS "${f.name}"`);
    expect(SCHOOL_COLUMNS.split(',')).toHaveLength(SCHOOL_CATALOGUE.length);
  });

  it("gives the export's schools dataset, as the export builds it, a column for every field, or a reason it has none", () => {
    const plan = DATASET_BY_NAME.get('schools')!.query;
    const keys = plan.columns.map((c) => c.key);
    for (const f of SCHOOL_CATALOGUE) {
      if (f.notExported === undefined) expect(keys).toContain(f.name);
      else expect(f.notExported.trim()).not.toBe('');
    }
    const types = Object.fromEntries(plan.columns.map((c) => [c.key, c.type]));
    expect(types).toMatchObject({ urn: 'int', name: 'text', phase: 'text', openDate: 'date', percentFsm: 'decimal' });
    // The export runs the catalogue's document, valid against the schema, and reads each column where the catalogue
    // says its value is in a School answer (the nodes are level 2 of schools.nodes).
    expect(plan.document).toBe(print(parse(schoolExportDocument())));
    expect(plan.document).toContain('community(asOf: $asOf) {');
    expect(validate(schema, parse(plan.document))).toEqual([]);
    expect(plan.sources[0].reads.map((r) => [r.key, r.level, r.path.join('.')])).toEqual(
      schoolDatasetColumns().map((c) => [c.key, 2, c.path.join('.')]),
    );
    expect(keys).toEqual(expect.arrayContaining(['districtName', 'communityCode', 'communityName', 'ukprn']));
    expect(plan).toEqual(schoolsExportPlan());
  });

  it("gives the add-in's Schools dataset and =HNH.SCHOOL every exported field", () => {
    const exported = SCHOOL_CATALOGUE.filter((f) => f.notExported === undefined);
    for (const f of exported) {
      expect(SCHOOL_DATASET_COLUMNS.map((c) => c.path.join('.'))).toContain(f.name);
      expect(SCHOOL_DATASET_COLUMNS.find((c) => c.names.includes(f.name.toLowerCase()))?.path).toEqual([f.name]);
      expect(SCHOOL_FIELDS[f.name.toLowerCase()]({ [f.name]: 'value' })).toBe('value');
    }
    expect(datasetById('schools').columns.map((c) => c.header)).toEqual(SCHOOL_DATASET_COLUMNS.map((c) => c.header));
    expect(datasetById('schools').columns.find((c) => c.header === '% FSM')?.kind).toBe('points');
    expect(SCHOOL_FIELDS.community({ community: { code: 'ASH-01' } })).toBe('ASH-01');
  });

  it('has its generated files up to date (run `npm run schema:emit`, then `node addin/build.mjs --update`)', () => {
    const stale = Object.entries(schoolGeneratedFiles())
      .filter(([file, content]) => fs.readFileSync(path.join(root, file), 'utf8') !== content)
      .map(([file]) => file);
    expect(stale).toEqual([]);
  });
});

describe("Community's field catalogue", () => {
  it('holds every scalar Community field of the schema, which raw reads select and the compiled path answers', () => {
    const community = schema.getType('Community') as GraphQLObjectType;
    const scalars = Object.values(community.getFields())
      .filter((f) => isScalarType(getNamedType(f.type)) && f.args.length === 0)
      .map((f) => f.name);
    expect(COMMUNITY_CATALOGUE.map((f) => f.name).sort()).toEqual(scalars.sort());
    for (const f of COMMUNITY_CATALOGUE) {
      expect([f.name, compiles('Community', f.name)]).toEqual([f.name, true]);
      expect(COMMUNITY_COLUMNS).toContain(f.column === f.name ? `c.${f.column}` : `c.${f.column} AS "${f.name}"`);
    }
    // A column the API does not expose is in neither.
    expect(COMMUNITY_COLUMNS).not.toContain('chair_contact');
  });
});

describe.each([
  ['SchoolFunding', SCHOOL_FUNDING_CATALOGUE, SchoolTermFunding, SCHOOL_FUNDING_COLUMNS, 'f'],
  ['CommunityPotView', COMMUNITY_POT_CATALOGUE, CommunityPot, COMMUNITY_POT_COLUMNS, 'p'],
] as const)('the %s view catalogue', (typeName, catalogue, entity, rawColumns, alias) => {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const scalars = Object.values(type.getFields()).filter((f) => isScalarType(getNamedType(f.type)));

  it('holds every scalar field of the type in the tracked schema, with its kind, nullability and description', () => {
    expect(catalogue.map((f) => f.name).sort()).toEqual(scalars.map((f) => f.name).sort());
    for (const f of scalars) {
      const entry = catalogue.find((c) => c.name === f.name)!;
      expect([f.name, entry.kind]).toEqual([f.name, KIND_OF_TYPE[getNamedType(f.type).name]]);
      expect([f.name, entry.nullable]).toEqual([f.name, !isNonNullType(f.type)]);
      expect([f.name, entry.description]).toEqual([f.name, f.description]);
    }
  });

  it("is what the compiled read path answers: each stored field a column of the view's entity, each other with its rule", () => {
    const columns = entityColumns(entity).map((c) => c.column);
    for (const f of catalogue) {
      expect([f.name, compiles(typeName, f.name)]).toEqual([f.name, true]);
      if (f.column === null) expect([f.name, f.computed?.trim()]).toEqual([f.name, expect.any(String)]);
      else expect(columns).toContain(f.column);
    }
    expect(catalogue.some((f) => f.column === null)).toBe(true);
  });

  it("is what the loaders' raw reads select: every column of the entity under its TypeScript name", () => {
    for (const c of entityColumns(entity))
      expect(rawColumns).toContain(
        c.column === c.name ? `${alias}.${c.column}` : `${alias}.${c.column} AS "${c.name}"`,
      );
    expect(rawColumns.split(',')).toHaveLength(entityColumns(entity).length);
  });
});

describe('the funding exports, as the export builds them', () => {
  it('gives school-funding a column for every SchoolFunding field (or a reason), read from the funding', () => {
    const plan = DATASET_BY_NAME.get('school-funding')!.query;
    expect(plan).toEqual(schoolFundingExportPlan());
    expect(validate(schema, parse(plan.document))).toEqual([]);
    const funding = plan.sources[0].reads.filter((r) => r.level === 3).map((r) => r.key);
    expect(funding).toEqual(SCHOOL_FUNDING_CATALOGUE.filter((f) => f.notExported === undefined).map((f) => f.name));
    for (const f of SCHOOL_FUNDING_CATALOGUE.filter((x) => x.notExported !== undefined))
      expect([f.name, f.notExported!.trim()]).toEqual([f.name, expect.any(String)]);
    // The school's own columns come from the School catalogue, at the node's level.
    expect(plan.sources[0].reads.filter((r) => r.level === 2).map((r) => r.key)).toEqual([
      'urn',
      'laestab',
      'name',
      'districtCode',
    ]);
    expect(Object.fromEntries(plan.columns.map((c) => [c.key, c.type]))).toMatchObject({
      protectionRate: 'fraction',
      total: 'money',
      bandedTopUpSuppressed: 'bool',
      term: 'text',
    });
  });

  it('gives community-pots a column for every CommunityPotView field, read from the pot', () => {
    const plan = DATASET_BY_NAME.get('community-pots')!.query;
    expect(validate(schema, parse(plan.document))).toEqual([]);
    const pot = plan.sources[0].reads.filter((r) => r.level === 2).map((r) => r.key);
    expect(pot.sort()).toEqual(COMMUNITY_POT_CATALOGUE.map((f) => f.name).sort());
  });
});

describe("the add-in's funding operations", () => {
  // Generated from the SchoolFunding catalogue (school.fields.ts; the files are checked fresh above): every field but
  // the school and term, which the request carries.
  const REQUEST_OWN = ['schoolUrn', 'term'];
  it.each(['SchoolFunding', 'FnFunding'])('%s selects every other SchoolFunding field', (name) => {
    const op = parse(OPERATIONS[name as keyof typeof OPERATIONS]);
    const selected: string[] = [];
    visit(op, {
      Field(node, _key, _parent, _path, ancestors) {
        const parent = ancestors.filter((a) => (a as { kind?: string }).kind === 'Field').pop() as
          { name: { value: string } } | undefined;
        if (parent?.name.value === 'funding') selected.push(node.name.value);
      },
    });
    expect(selected.sort()).toEqual(
      SCHOOL_FUNDING_CATALOGUE.map((f) => f.name)
        .filter((n) => !REQUEST_OWN.includes(n))
        .sort(),
    );
  });

  it('gives the add-in every funding line but the flag, each line naming the flag that hides it', () => {
    expect(FUNDING_LINE_COLUMNS).toEqual([
      { header: 'Baseline', kind: 'money', field: 'baseline', names: ['baseline'] },
      { header: 'Protection rate', kind: 'rate', field: 'protectionRate', names: ['protectionrate'] },
      { header: 'Protected', kind: 'money', field: 'protectedAmount', names: ['protectedamount', 'protected'] },
      { header: 'Community share', kind: 'money', field: 'communityShare', names: ['communityshare'] },
      {
        header: 'Banded top-up',
        kind: 'money',
        field: 'bandedTopUp',
        names: ['bandedtopup'],
        hiddenWith: 'bandedTopUpSuppressed',
      },
      { header: 'Total', kind: 'money', field: 'total', names: ['total'], hiddenWith: 'bandedTopUpSuppressed' },
    ]);
  });
});

describe('a field added to a view type', () => {
  @ObjectType({ description: 'A probe view.' })
  class ProbeFunding {
    @Field(() => Int, { description: 'School URN.' })
    schoolUrn: number;
    @Field(() => String, { description: 'Term.' })
    term: string;
    @Field(() => MoneyScalar, { description: 'A new stored figure.' })
    respite: string;
    @Field(() => MoneyScalar, { nullable: true, description: 'A new figure a rule computes.' })
    respiteShare: string | null;
  }
  @Entity()
  class ProbeFundingRow {
    @PrimaryColumn({ type: 'integer' })
    schoolUrn: number;
    @PrimaryColumn({ type: 'varchar' })
    termCode: string;
    @Column({ type: 'numeric' })
    respite: string;
  }
  const opts = {
    from: { term: 'termCode' },
    computed: { respiteShare: 'a rule' },
    fields: { schoolUrn: { notExported: 'the row has the school' } },
  };

  it('is read from its entity column, raw-read, and reaches the school-funding export as the export builds it', () => {
    const cat: ViewField[] = viewCatalogueOf(ProbeFunding, ProbeFundingRow, opts);
    expect(cat.map((f) => [f.name, f.column, f.kind])).toEqual([
      ['schoolUrn', 'school_urn', 'int'],
      ['term', 'term_code', 'text'],
      ['respite', 'respite', 'money'],
      ['respiteShare', null, 'money'],
    ]);
    expect(columnsSql(entityColumns(ProbeFundingRow), 'f')).toBe(
      'f.school_urn AS "schoolUrn", f.term_code AS "termCode", f.respite',
    );
    const plan = schoolFundingExportPlan(cat);
    expect(plan.columns.map((c) => [c.key, c.type])).toEqual([
      ['urn', 'int'],
      ['laestab', 'int'],
      ['name', 'text'],
      ['districtCode', 'text'],
      ['term', 'text'],
      ['respite', 'money'],
      ['respiteShare', 'money'],
    ]);
    expect(plan.document).toContain('funding(term: $term) {\n        term\n        respite\n        respiteShare\n');
  });

  it("reaches the add-in's funding lines, =HNH.FUNDING's names and both funding operations", () => {
    const cat = viewCatalogueOf(ProbeFunding, ProbeFundingRow, {
      ...opts,
      fields: { ...opts.fields, respiteShare: { aliases: ['share'] } },
    });
    expect(renderAddinFundingFields(cat)).toContain(
      '  {"header":"Respite","kind":"money","field":"respite","names":["respite"]},\n' +
        '  {"header":"Respite share","kind":"money","field":"respiteShare","names":["respiteshare","share"]},\n];',
    );
    expect(renderSchoolFundingOperation(cat)).toContain(
      'funding(term: $term) {\n        respite\n        respiteShare\n',
    );
    expect(renderFnFundingOperation(cat)).toContain('funding(term: $term) {\n      respite\n      respiteShare\n');
  });

  it('that a line names a flag the type does not have, fails at load', () => {
    expect(() =>
      viewCatalogueOf(ProbeFunding, ProbeFundingRow, { ...opts, fields: { respite: { hiddenWith: 'respiteShare' } } }),
    ).toThrow('ProbeFunding.respite: hiddenWith "respiteShare" is not a Boolean field of the type.');
  });

  it('that is neither a column of its entity nor a named rule, fails at load', () => {
    expect(() => viewCatalogueOf(ProbeFunding, ProbeFundingRow, { ...opts, computed: {} })).toThrow(
      'ProbeFunding.respiteShare: ProbeFundingRow has no column "respiteShare" to read it from',
    );
    expect(() =>
      viewCatalogueOf(ProbeFunding, ProbeFundingRow, { ...opts, computed: { respiteShare: 'a rule', nothing: 'x' } }),
    ).toThrow('ProbeFunding.nothing: not a scalar field of the type.');
  });
});

describe('a field added to an entity', () => {
  @ObjectType({ description: 'A probe.' })
  @Entity()
  class Probe {
    @Field(() => Int, { description: 'Key.' })
    @PrimaryColumn({ type: 'integer' })
    urn: number;

    @Catalogue({ header: 'Share of places', points: true })
    @Field(() => DecimalScalar, { nullable: true, description: 'A new figure.' })
    @Column({ type: 'numeric', precision: 5, scale: 2, nullable: true })
    sharedPlaces: string | null;

    @Catalogue({ notExported: 'only the hub needs it' })
    @Field(() => String, { description: 'An internal note.' })
    @Column({ type: 'varchar' })
    internalNote: string;

    @Column({ type: 'varchar' })
    notInTheApi: string;
  }
  const cat = catalogueOf(Probe);
  const columns = schoolDatasetColumns(cat, []);

  it('is in the catalogue with its column, kind and header, and a column without @Field is not', () => {
    expect(cat.map((f) => [f.name, f.column, f.kind, f.header])).toEqual([
      ['urn', 'urn', 'int', 'Urn'],
      ['sharedPlaces', 'shared_places', 'decimal', 'Share of places'],
      ['internalNote', 'internal_note', 'text', 'Internal note'],
    ]);
  });

  it('reaches the raw column list, the compiled SQL, the datasets, the add-in file and the operations', () => {
    expect(columnsSql(cat, 'p')).toBe('p.urn, p.shared_places AS "sharedPlaces", p.internal_note AS "internalNote"');
    expect(valueSql(cat[1].kind, 'p', cat[1].column)).toBe('trim_scale(p.shared_places)::text');
    expect(columns.map((c) => [c.key, c.exportType, c.addinKind])).toEqual([
      ['urn', 'int', 'int'],
      ['sharedPlaces', 'decimal', 'points'],
    ]);
    expect(renderAddinSchoolFields(columns)).toContain(
      '{"header":"Share of places","kind":"points","path":["sharedPlaces"],"names":["sharedplaces"]}',
    );
    expect(renderSchoolsOperation(columns)).toContain('      sharedPlaces\n');
    expect(renderFnSchoolsOperation(columns)).toContain('    sharedPlaces\n');
    expect(renderSchoolsOperation(columns)).not.toContain('internalNote');
  });

  it('reaches the schools export as the export builds it: its document, its columns and where each is read', () => {
    const plan = schoolsExportPlan(columns);
    expect(plan.columns.map((c) => [c.key, c.type])).toEqual([
      ['urn', 'int'],
      ['sharedPlaces', 'decimal'],
    ]);
    expect(plan.document).toContain('nodes {\n      urn\n      sharedPlaces\n    }');
    expect(plan.sources[0].reads).toEqual([
      { key: 'urn', level: 2, path: ['urn'] },
      { key: 'sharedPlaces', level: 2, path: ['sharedPlaces'] },
    ]);
  });

  it('with @Catalogue on a property that is not a column with @Field, fails at load', () => {
    class Broken {
      @Catalogue({ header: 'X' })
      x: string;
    }
    expect(() => catalogueOf(Broken)).toThrow('Broken.x: @Catalogue on a field that is not a column with @Field.');
  });
});
