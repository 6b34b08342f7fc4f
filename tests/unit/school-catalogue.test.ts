import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  getNamedType,
  GraphQLObjectType,
  isEnumType,
  isNonNullType,
  isScalarType,
  parse,
  validate,
} from 'graphql';
import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { DecimalScalar } from '../../server/common/scalars';
import { Catalogue, catalogueOf, columnsSql, valueSql } from '../../server/modules/school/catalogue';
import { compiles, LEFT_TO_RESOLVERS } from '../../server/modules/school/school.compiled';
import {
  renderAddinSchoolFields,
  renderFnSchoolsOperation,
  renderSchoolsOperation,
  SCHOOL_CATALOGUE,
  SCHOOL_COLUMNS,
  schoolDatasetColumns,
  schoolExportColumns,
  schoolExportDocument,
  schoolExportRow,
  schoolGeneratedFiles,
  schoolSelection,
} from '../../server/modules/school/school.fields';
import { COMMUNITY_CATALOGUE, COMMUNITY_COLUMNS } from '../../server/modules/school/school.sql';
import { SCHOOL_DATASET_COLUMNS } from '../../addin/src/core/school-fields.generated';
import { datasetById } from '../../addin/src/core/datasets';
import { SCHOOL_FIELDS } from '../../addin/src/functions/logic';

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

  it("gives the export's schools dataset a column for every field, or a reason it has none", () => {
    const keys = schoolExportColumns().map((c) => c.key);
    for (const f of SCHOOL_CATALOGUE) {
      if (f.notExported === undefined) expect(keys).toContain(f.name);
      else expect(f.notExported.trim()).not.toBe('');
    }
    const types = Object.fromEntries(schoolExportColumns().map((c) => [c.key, c.type]));
    expect(types).toMatchObject({ urn: 'int', name: 'text', phase: 'text', openDate: 'date', percentFsm: 'decimal' });
    // The selection the export would send answers every column, and a School answer becomes one flat row.
    expect(schoolSelection('(asOf: $asOf)')).toContain('community(asOf: $asOf) {');
    expect(validate(schema, parse(schoolExportDocument()))).toEqual([]);
    const row = schoolExportRow({ urn: 118000, name: 'A', district: { name: 'Ashford' }, community: null });
    expect(Object.keys(row)).toEqual(keys);
    expect(row).toMatchObject({ urn: 118000, name: 'A', districtName: 'Ashford', communityCode: null, ukprn: null });
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

  it('with @Catalogue on a property that is not a column with @Field, fails at load', () => {
    class Broken {
      @Catalogue({ header: 'X' })
      x: string;
    }
    expect(() => catalogueOf(Broken)).toThrow('Broken.x: @Catalogue on a field that is not a column with @Field.');
  });
});
