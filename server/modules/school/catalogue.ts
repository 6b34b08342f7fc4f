import { GraphQLBoolean, GraphQLFloat, GraphQLInt, GraphQLString } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { getMetadataArgsStorage } from 'typeorm';
import { DateScalar, DecimalScalar, MoneyScalar } from '../../common/scalars';
import { SnakeNamingStrategy } from '../../db/naming';

/**
 * A field catalogue read off an entity class: the entity is the one definition of a hot type's scalar fields
 * (its TypeORM column and its type-graphql field), and everything else that lists those fields (the raw
 * column list, the compiled SQL, the export and add-in dataset columns, the GraphQL selection those datasets
 * send) is derived from the catalogue at module load. Adding a column with @Field to the entity, plus its
 * migration, is the whole change; @Catalogue is needed only to say something the names cannot.
 */

/** How a value is held and sent: decides the SQL expression, the export type and the add-in column kind. */
export type FieldKind = 'int' | 'float' | 'text' | 'enum' | 'date' | 'decimal' | 'money' | 'bool';

export interface CatalogueOptions {
  /** Column header in exports and the add-in's tables; default: the field name in words ("Pupils on roll"). */
  header?: string;
  /** A percentage held as points ("23.4" for 23.4%), shown by Excel with a % sign. */
  points?: true;
  /** A rate held as a fraction ("0.75" for 75%), shown by Excel as a percentage. */
  fraction?: true;
  /** Left out of the datasets, with the reason, which the catalogue test prints. */
  notExported?: string;
  /** Other names the add-in's functions accept for it (=HNH.FUNDING's line "protected"). */
  aliases?: readonly string[];
  /** The flag field whose true hides this one (disclosure control): the add-in shows "c", never a 0 or a blank. */
  hiddenWith?: string;
}

export interface CatalogueField {
  /** The TypeScript property and GraphQL field name. */
  name: string;
  /** The SQL column. */
  column: string;
  kind: FieldKind;
  nullable: boolean;
  /** The GraphQL description, also the export's column description. */
  description: string;
  header: string;
  points: boolean;
  fraction: boolean;
  notExported?: string;
  aliases?: readonly string[];
  hiddenWith?: string;
}

const options = new WeakMap<object, Map<string, CatalogueOptions>>();

/** What the catalogue cannot read off the names: a header, percentage points, or a reason to leave the field out. */
export function Catalogue(opts: CatalogueOptions): PropertyDecorator {
  return (prototype, property) => {
    let byName = options.get(prototype.constructor);
    if (!byName) options.set(prototype.constructor, (byName = new Map()));
    byName.set(String(property), opts);
  };
}

const naming = new SnakeNamingStrategy();

/** "pupilsOnRoll" → "Pupils on roll". */
export function words(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function kindOf(type: unknown, where: string): FieldKind {
  if (type === GraphQLInt) return 'int';
  if (type === Number || type === GraphQLFloat) return 'float';
  if (type === String || type === GraphQLString) return 'text';
  if (type === Boolean || type === GraphQLBoolean) return 'bool';
  if (type === DateScalar) return 'date';
  if (type === DecimalScalar) return 'decimal';
  if (type === MoneyScalar) return 'money';
  // A TypeScript string enum registered with registerEnumType: an object of its values.
  if (type && typeof type === 'object' && Object.values(type).every((v) => typeof v === 'string')) return 'enum';
  throw new Error(
    `${where}: its GraphQL type has no kind in the field catalogue (server/modules/school/catalogue.ts).`,
  );
}

type Class = abstract new (...args: never[]) => unknown;
type GqlField = ReturnType<typeof getMetadataStorage>['fields'][number];

/** A catalogue entry for a GraphQL field, read from `column`. */
function entry(field: GqlField, column: string, opts: CatalogueOptions, where: string): CatalogueField {
  return {
    name: field.name,
    column,
    kind: kindOf(field.getType(), where),
    nullable: Boolean(field.typeOptions.nullable),
    description: field.description ?? '',
    header: opts.header ?? words(field.name),
    points: Boolean(opts.points),
    fraction: Boolean(opts.fraction),
    notExported: opts.notExported,
    ...(opts.aliases ? { aliases: opts.aliases } : {}),
    ...(opts.hiddenWith ? { hiddenWith: opts.hiddenWith } : {}),
  };
}

/** The TypeORM columns of a class: property and SQL column names, in declaration order. */
export function entityColumns(entity: Class): { name: string; column: string }[] {
  return getMetadataArgsStorage()
    .columns.filter((c) => c.target === entity)
    .map((c) => ({ name: c.propertyName, column: naming.columnName(c.propertyName, c.options.name, []) }));
}

/** The scalar fields of an entity class, in declaration order: every column that is also a GraphQL field. */
export function catalogueOf(entity: Class): CatalogueField[] {
  const gql = getMetadataStorage().fields.filter((f) => f.target === entity);
  const extra = options.get(entity) ?? new Map<string, CatalogueOptions>();
  const out: CatalogueField[] = [];
  for (const col of entityColumns(entity)) {
    const field = gql.find((f) => f.name === col.name);
    if (!field) continue; // a column the API does not expose
    out.push(entry(field, col.column, extra.get(col.name) ?? {}, `${entity.name}.${col.name}`));
  }
  for (const name of extra.keys())
    if (!out.some((f) => f.name === name))
      throw new Error(`${entity.name}.${name}: @Catalogue on a field that is not a column with @Field.`);
  return out;
}

/** A scalar field of a view type: read from a column of its entity, or computed by a rule (`column` null). */
export interface ViewField extends Omit<CatalogueField, 'column'> {
  column: string | null;
  /** Where the rule that computes it lives, for a computed field. */
  computed?: string;
}

export interface ViewOptions {
  /** Fields read from an entity column of another name: `{ term: 'termCode' }`. */
  from?: Readonly<Record<string, string>>;
  /** Fields a rule computes (even where a column of that name exists), each with where the rule lives. */
  computed?: Readonly<Record<string, string>>;
  /** What @Catalogue would say on an entity's field. */
  fields?: Readonly<Record<string, CatalogueOptions>>;
}

/** Object-typed fields (a class) are relations, not the catalogue's. */
const isObjectField = (f: GqlField) => {
  const t = f.getType();
  return typeof t === 'function' && t !== Number && t !== String && t !== Boolean;
};

/**
 * The scalar fields of a view: a type-graphql ObjectType that is not itself an entity (SchoolFunding) but is answered
 * from one (SchoolTermFunding). Each field is the entity's column of the same name (or of the name in `from`) unless
 * it is `computed`; a field that is neither fails at load, so a new field on the view is a column or a rule, never
 * silently missing from the compiled SQL or the export.
 */
export function viewCatalogueOf(view: Class, entity: Class, opts: ViewOptions = {}): ViewField[] {
  const gql = getMetadataStorage().fields.filter((f) => f.target === view && !isObjectField(f));
  const columns = entityColumns(entity);
  const out = gql.map((field): ViewField => {
    const where = `${view.name}.${field.name}`;
    const computed = opts.computed?.[field.name];
    const fieldOpts = opts.fields?.[field.name] ?? {};
    if (computed !== undefined) return { ...entry(field, '', fieldOpts, where), column: null, computed };
    const prop = opts.from?.[field.name] ?? field.name;
    const col = columns.find((c) => c.name === prop);
    if (!col)
      throw new Error(
        `${where}: ${entity.name} has no column "${prop}" to read it from; name its column in \`from\` or its rule in \`computed\`.`,
      );
    return entry(field, col.column, fieldOpts, where);
  });
  for (const name of [
    ...Object.keys(opts.from ?? {}),
    ...Object.keys(opts.computed ?? {}),
    ...Object.keys(opts.fields ?? {}),
  ])
    if (!out.some((f) => f.name === name)) throw new Error(`${view.name}.${name}: not a scalar field of the type.`);
  for (const f of out)
    if (f.hiddenWith && !out.some((g) => g.name === f.hiddenWith && g.kind === 'bool'))
      throw new Error(`${view.name}.${f.name}: hiddenWith "${f.hiddenWith}" is not a Boolean field of the type.`);
  return out;
}

/** The columns of a row under their TypeScript names, for raw reads that skip entity hydration. */
export function columnsSql(fields: readonly Pick<CatalogueField, 'name' | 'column'>[], alias: string): string {
  return fields
    .map((f) => (f.column === f.name ? `${alias}.${f.column}` : `${alias}.${f.column} AS "${f.name}"`))
    .join(', ');
}

/**
 * A field's value as the GraphQL scalar serialises it, as SQL over the row `t`: numeric as text keeps money's
 * two decimals ("1234.50") and trims a decimal's trailing zeros ("23.4"), as decimal.js prints it; dates are
 * 'YYYY-MM-DD'.
 */
export function valueSql(kind: FieldKind, t: string, column: string): string {
  switch (kind) {
    case 'money':
      return `(${t}.${column})::text`;
    case 'decimal':
      return `trim_scale(${t}.${column})::text`;
    case 'date':
      return `to_char(${t}.${column}, 'YYYY-MM-DD')`;
    default:
      return `${t}.${column}`;
  }
}

/** Export column types (server/modules/exports/format.ts ColumnType). */
export type ExportType = 'int' | 'money' | 'decimal' | 'fraction' | 'date' | 'text' | 'bool';
/** Add-in column kinds (addin/src/core/types.ts ColumnKind). */
export type AddinKind = 'text' | 'int' | 'money' | 'decimal' | 'rate' | 'points' | 'date' | 'count';

/** Each kind's column type in exports and in the add-in (which has no booleans and shows them as text). */
const COLUMN_TYPES: Record<FieldKind, [ExportType, AddinKind]> = {
  int: ['int', 'int'],
  float: ['decimal', 'decimal'],
  text: ['text', 'text'],
  enum: ['text', 'text'],
  date: ['date', 'date'],
  decimal: ['decimal', 'decimal'],
  money: ['money', 'money'],
  bool: ['bool', 'text'],
};
export function exportType(f: Pick<CatalogueField, 'kind' | 'fraction'>): ExportType {
  return f.fraction ? 'fraction' : COLUMN_TYPES[f.kind][0];
}
export function addinKind(f: Pick<CatalogueField, 'kind' | 'points' | 'fraction'>): AddinKind {
  return f.points ? 'points' : f.fraction ? 'rate' : COLUMN_TYPES[f.kind][1];
}

/** An export column read off a catalogue field (export-format.ts ExportColumn); `path` when it is not the key. */
export interface CatalogueExportColumn {
  key: string;
  type: ExportType;
  description: string;
  path?: string;
}

/** The export columns of a catalogue's exported fields, in its order. */
export function exportColumnsOf(fields: readonly Omit<CatalogueField, 'column'>[]): CatalogueExportColumn[] {
  return fields
    .filter((f) => f.notExported === undefined)
    .map((f) => ({ key: f.name, type: exportType(f), description: f.description }));
}

/** The GraphQL selection of a catalogue's exported fields, on one line. */
export function selectionOf(fields: readonly Omit<CatalogueField, 'column'>[]): string {
  return fields
    .filter((f) => f.notExported === undefined)
    .map((f) => f.name)
    .join(' ');
}
