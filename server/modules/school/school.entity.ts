import { enumCheck } from '../../common/columns';
import { District } from '../geography/geography.entity';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { DateColumn } from '../../common/columns';
import { DecimalScalar, DateScalar } from '../../common/scalars';
import { Catalogue } from './catalogue';

export enum Phase {
  NURSERY = 'NURSERY',
  PRIMARY = 'PRIMARY',
  SECONDARY = 'SECONDARY',
  ALL_THROUGH = 'ALL_THROUGH',
  SPECIAL = 'SPECIAL',
  PRU = 'PRU',
  SIXTEEN_PLUS = 'SIXTEEN_PLUS',
}
registerEnumType(Phase, {
  name: 'Phase',
  description:
    'Phase of education (special schools and PRUs are phases of their own here, as in the high-needs funding formula).',
});

export enum SchoolType {
  MAINTAINED = 'MAINTAINED',
  ACADEMY = 'ACADEMY',
  FREE_SCHOOL = 'FREE_SCHOOL',
  OTHER = 'OTHER',
}
registerEnumType(SchoolType, { name: 'SchoolType', description: 'Governance type.' });

export enum SchoolStatus {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
  PROPOSED_TO_OPEN = 'PROPOSED_TO_OPEN',
  PROPOSED_TO_CLOSE = 'PROPOSED_TO_CLOSE',
}
registerEnumType(SchoolStatus, {
  name: 'SchoolStatus',
  description: 'Establishment status as in the DfE register (GIAS).',
});

/** Open schools, for the partial unique index on LAESTAB: open, or open but proposed to close. */
export const OPEN_LAESTAB_WHERE = `"status" IN ('OPEN', 'PROPOSED_TO_CLOSE')`;

/**
 * The one definition of a School's scalar fields: each column with @Field is in the School field catalogue
 * (school.fields.ts), and so in the raw column list, the compiled SQL, the schools datasets of exports and
 * the add-in, and =HNH.SCHOOL. A new field is a property here plus its migration; @Catalogue only when the
 * header is not the name in words, or to leave the field out of the datasets (with the reason).
 */
@ObjectType({
  description: 'A state-funded school of the local authority, keyed by its DfE Unique Reference Number (URN).',
})
@Entity()
@Check(enumCheck('phase', Phase))
@Check(enumCheck('type', SchoolType))
@Check(enumCheck('status', SchoolStatus))
// LAESTAB is unique among open schools only: a closed predecessor and the academy that succeeds it may share one.
@Index('IDX_school_laestab_open', ['laestab'], { unique: true, where: OPEN_LAESTAB_WHERE })
@Index('IDX_school_laestab', ['laestab'])
export class School {
  @Catalogue({ header: 'URN' })
  @Field(() => Int, { description: 'DfE Unique Reference Number.' })
  @PrimaryColumn({ type: 'integer' })
  urn: number;

  @Catalogue({ header: 'LAESTAB' })
  @Field(() => Int, {
    description:
      "LAESTAB: the 3-digit DfE LA code followed by the 4-digit establishment number. Unique among open schools; a closed predecessor may share its successor's.",
  })
  @Column({ type: 'integer' })
  laestab: number;

  @Field(() => String, { description: 'Establishment name.' })
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Field(() => Phase, { description: 'Phase of education.' })
  @Index()
  @Column({ type: 'varchar', length: 16 })
  phase: Phase;

  @Field(() => SchoolType, { description: 'Maintained, academy or free school.' })
  @Column({ type: 'varchar', length: 16 })
  type: SchoolType;

  @Field(() => String, {
    nullable: true,
    description: 'Type of establishment as named in GIAS, e.g. "Academy converter".',
  })
  @Column({ type: 'varchar', length: 80, nullable: true })
  establishmentType: string | null;

  @Field(() => SchoolStatus, { description: 'Open or closed (as in GIAS).' })
  @Column({ type: 'varchar', length: 20 })
  status: SchoolStatus;

  @Field(() => DateScalar, { nullable: true, description: 'Date the establishment opened.' })
  @DateColumn({ nullable: true })
  openDate: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'Date the establishment closed.' })
  @DateColumn({ nullable: true })
  closeDate: string | null;

  @Field(() => String, { description: 'ONS code of the administrative district.' })
  @Index()
  @ForeignKey(() => District, { onDelete: 'RESTRICT' })
  @Column({ type: 'varchar', length: 9 })
  districtCode: string;

  @Field(() => String, { nullable: true, description: 'Postcode.' })
  @Column({ type: 'varchar', length: 10, nullable: true })
  postcode: string | null;

  @Catalogue({ header: 'UKPRN' })
  @Field(() => Int, { nullable: true, description: 'UK Provider Reference Number.' })
  @Column({ type: 'integer', nullable: true })
  ukprn: number | null;

  @Field(() => Int, { nullable: true, description: 'Pupils on roll (latest census).' })
  @Column({ type: 'integer', nullable: true })
  pupilsOnRoll: number | null;

  @Catalogue({ header: '% FSM', points: true })
  @Field(() => DecimalScalar, {
    nullable: true,
    description: 'Percentage of pupils eligible for free school meals, e.g. "23.4".',
  })
  @Column({ type: 'numeric', precision: 5, scale: 2, nullable: true })
  percentFsm: string | null;

  @Catalogue({ header: 'SRP capacity' })
  @Field(() => Int, { nullable: true, description: 'Resourced provision (SRP) / SEN unit capacity, in places.' })
  @Column({ type: 'integer', nullable: true })
  srpCapacity: number | null;

  @Catalogue({ header: 'SRP on roll' })
  @Field(() => Int, { nullable: true, description: 'Pupils on roll in the resourced provision / SEN unit.' })
  @Column({ type: 'integer', nullable: true })
  srpOnRoll: number | null;
}
