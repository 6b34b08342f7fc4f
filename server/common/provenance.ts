import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, ColumnOptions } from 'typeorm';
import { enumCheck } from './columns';

/**
 * Where a figure of record came from. COMPUTED: the funding model made it from the parameters of record
 * (version N); a parameter change recomputes it. IMPORTED: a finance file set it (which file, who, when); a
 * parameter change leaves it alone unless Finance asks to replace imported figures. MANUAL: entered by hand,
 * kept like an imported figure.
 */
export enum SourceKind {
  COMPUTED = 'COMPUTED',
  IMPORTED = 'IMPORTED',
  MANUAL = 'MANUAL',
}
registerEnumType(SourceKind, {
  name: 'SourceKind',
  description:
    'COMPUTED by the funding model from a parameter version; IMPORTED from a finance file; MANUAL, entered by hand.',
});

/**
 * The provenance columns every figure-of-record table carries, declared once: source_kind, source_file, source_by,
 * source_at, source_parameter_version. The tables that took them on first (notional SEN, baselines, pots, block
 * lines) hold the texts as bounded varchar, the block's drivers and the Safety Valve's as text: their migrations made
 * them so, and `text` says which a table has (the same names, kinds and nullability either way). A table only files
 * ever set (the GIAS links) has the first four, defaulting to IMPORTED: no model computes it, so no parameter version.
 */
function provenanceColumns(text: (length: number) => ColumnOptions, defaultKind: SourceKind) {
  abstract class FileProvenance {
    @Column({ ...text(10), default: defaultKind })
    sourceKind: SourceKind | string;

    @Column({ ...text(200), nullable: true })
    sourceFile: string | null;

    @Column({ ...text(160), nullable: true })
    sourceBy: string | null;

    @Column({ type: 'timestamptz', nullable: true })
    sourceAt: Date | string | null;
  }
  return FileProvenance;
}

/** The fifth column, for the tables the model computes. */
function withParameterVersion<T extends abstract new (...args: any[]) => object>(Base: T) {
  abstract class Provenance extends Base {
    @Column({ type: 'integer', nullable: true })
    sourceParameterVersion: number | null;
  }
  return Provenance;
}

const varchar = (length: number): ColumnOptions => ({ type: 'varchar', length });

/** Provenance with its texts as varchar(10), varchar(200), varchar(160). */
export const WithProvenance = withParameterVersion(provenanceColumns(varchar, SourceKind.COMPUTED));
/** Provenance with its texts as text (the block's drivers, the Safety Valve). */
export const WithTextProvenance = withParameterVersion(
  provenanceColumns(() => ({ type: 'text' }), SourceKind.COMPUTED),
);
/** Provenance of rows only a file sets (the GIAS links): varchar texts, IMPORTED by default, no parameter version. */
export const WithFileProvenance = provenanceColumns(varchar, SourceKind.IMPORTED);

/** The CHECK on source_kind, for each table's @Check. */
export const SOURCE_KIND_CHECK = enumCheck('source_kind', SourceKind);

@ObjectType({
  description: 'Where a figure of record came from: computed by the model, imported from a file, or entered by hand.',
})
export class FigureSource {
  @Field(() => SourceKind, { description: 'COMPUTED, IMPORTED or MANUAL.' })
  kind: SourceKind;

  @Field(() => String, { nullable: true, description: 'The file it was imported from (IMPORTED).' })
  file: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was imported or entered.' })
  importedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'Who imported or entered it.' })
  by: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'The parameter version of record it was last computed with (COMPUTED), or that was in force when it was imported.',
  })
  parameterVersion: number | null;
}

/** SQL selecting a table's provenance as a FigureSource-shaped JSON object (alias t). */
export const SOURCE_JSON = (t: string) =>
  `json_build_object('kind', ${t}.source_kind, 'file', ${t}.source_file, 'importedAt', ${t}.source_at, 'by', ${t}.source_by, 'parameterVersion', ${t}.source_parameter_version)`;

export function toFigureSource(
  raw:
    | {
        kind: string;
        file: string | null;
        importedAt: string | Date | null;
        by: string | null;
        parameterVersion: number | null;
      }
    | null
    | undefined,
): FigureSource {
  return {
    kind: (raw?.kind as SourceKind) ?? SourceKind.COMPUTED,
    file: raw?.file ?? null,
    importedAt: raw?.importedAt ? new Date(raw.importedAt) : null,
    by: raw?.by ?? null,
    parameterVersion: raw?.parameterVersion ?? null,
  };
}

@ObjectType({
  description: 'An imported or hand-entered figure of record that a recompute kept (or replaced, when asked to).',
})
export class KeptFigureType {
  @Field(() => String, { description: 'POT, NOTIONAL_SEN_LINE or BLOCK_LINE.' })
  figure: string;

  @Field(() => String, {
    description:
      'Which one, e.g. "ASH-01|AUTUMN-2026" (community|term), "118001|2026-27|FSM_EVER6" (urn|year|factor), "2026-27|NOTIONAL_SEN" (year|line).',
  })
  key: string;

  @Field(() => SourceKind, { description: 'IMPORTED or MANUAL.' })
  kind: string;

  @Field(() => String, { nullable: true, description: 'The file it was imported from.' })
  file: string | null;
}
