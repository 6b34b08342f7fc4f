import { Field, Int, ObjectType } from 'type-graphql';
import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { DateColumn } from '../../common/columns';
import { DateScalar } from '../../common/scalars';
import { SOURCE_KIND_CHECK, WithFileProvenance } from '../../common/provenance';
import { School } from './school.entity';

/**
 * The link types GIAS publishes in its links file (links_edubasealldata<date>.csv), each naming what LinkURN is
 * to URN: on the academy's row, its maintained school is its "Predecessor"; on the maintained school's row,
 * the academy is its "Successor".
 */
export const GIAS_LINK_TYPES = [
  'Predecessor',
  'Predecessor - amalgamated',
  'Predecessor - merged',
  'Predecessor - Split School',
  'Successor',
  'Successor - amalgamated',
  'Successor - merged',
  'Successor - Split School',
  'Result of Amalgamation',
  'Merged - expansion of school capacity',
  'Merged - change in age range',
  'Merged - expansion in school capacity and changer in age range',
  'Expansion',
  'Closure',
  'Sixth Form Centre Link',
  'Sixth Form Centre School',
  "Children's Centre Link",
  'Other',
] as const;

/** Most predecessors or successors one school has (an amalgamation of several schools, say): the list's cost size. */
export const MAX_LINKS_PER_SCHOOL = 20;

/**
 * SQL: a school's predecessors or successors (columns urn, link_type, established_date), one row per linked
 * school. GIAS usually lists a link from both ends (the academy's "Predecessor" row and the maintained
 * school's "Successor" row); the school's own row wins, and a row from the other end is named from this
 * school's side ("Successor - merged" on the other school's row is "Predecessor - merged" here).
 * `of` is a SQL expression for the school's URN. The one rule, for the loaders and the compiled reads.
 */
export function linksOfSql(of: string, dir: 'predecessors' | 'successors'): string {
  const [own, other] = dir === 'predecessors' ? ['Predecessor', 'Successor'] : ['Successor', 'Predecessor'];
  return `SELECT DISTINCT ON (u.urn) u.urn, u.link_type, u.established_date FROM (
      SELECT l.link_urn AS urn, l.link_type, l.established_date, 0 AS side FROM school_link l WHERE l.urn = ${of} AND l.link_type LIKE '${own}%'
      UNION ALL
      SELECT l.urn, replace(l.link_type, '${other}', '${own}'), l.established_date, 1 FROM school_link l WHERE l.link_urn = ${of} AND l.link_type LIKE '${other}%'
    ) u ORDER BY u.urn, u.side`;
}

/** The order both read paths list links in. */
export const LINK_ORDER = (k: string) => `${k}.established_date NULLS LAST, ${k}.urn`;

/**
 * One row of the GIAS links file between two schools the hub holds, as GIAS gives it (both directions are
 * usually listed), with where it came from (common/provenance.ts). Replaced as a whole by each links import.
 */
@Entity({ name: 'school_link' })
@Index(['linkUrn'])
@Check(`"urn" <> "link_urn"`)
@Check(SOURCE_KIND_CHECK)
export class SchoolLinkRow extends WithFileProvenance {
  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  urn: number;

  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  linkUrn: number;

  @PrimaryColumn({ type: 'varchar', length: 80 })
  linkType: string;

  /** LinkEstablishedDate: the day the link took effect (an academy's conversion date). */
  @DateColumn({ nullable: true })
  establishedDate: string | null;

  /** When the hub acted on this link as a conversion (the successor following the predecessor's community), once. */
  @Column({ type: 'timestamptz', nullable: true })
  conversionHandledAt: Date | null;
}

@ObjectType({ description: 'A predecessor or successor of a school, from the GIAS links file.' })
export class SchoolLink {
  @Field(() => Int, { description: 'URN of the linked school.' })
  urn: number;

  @Field(() => String, { description: 'GIAS link type as published, e.g. "Predecessor" or "Successor - merged".' })
  linkType: string;

  @Field(() => DateScalar, {
    nullable: true,
    description: 'LinkEstablishedDate: when the link took effect (the conversion date).',
  })
  establishedDate: string | null;

  /** The linked school: SchoolLinkResolver.school. */
  school?: School;
}
