import { District, Area } from '../geography/geography.entity';
import { School } from '../school/school.entity';
import { Field, Int, ObjectType } from 'type-graphql';
import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { DateColumn } from '../../common/columns';

@ObjectType({
  description:
    'A Community of Schools (live since 1 April 2025): 8-14 mainstream schools aligned to an NHS Primary Care ' +
    'Network, led by a Chair, which decides how its high-needs pot is shared among member schools.',
})
@Entity()
export class Community {
  @Field(() => String, { description: 'Community code, e.g. "ASH-02".' })
  @PrimaryColumn({ type: 'varchar', length: 16 })
  code: string;

  @Field(() => String, { description: 'Community name.' })
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field(() => String, { description: "ONS code of the community's primary district." })
  @Index()
  @Column({ type: 'varchar', length: 9 })
  @ForeignKey(() => District, { onDelete: 'RESTRICT' })
  primaryDistrictCode: string;

  @Field(() => String, { description: "Code of the community's area." })
  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => Area, { onDelete: 'RESTRICT' })
  areaCode: string;

  @Field(() => String, { nullable: true, description: 'Name of the Chair (a serving school leader).' })
  @Column({ type: 'varchar', length: 120, nullable: true })
  chairName: string | null;

  /** The Chair's work contact (e-mail or telephone), from the communities import; not in the API. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  chairContact?: string | null;

  @Field(() => Int, { nullable: true, description: "URN of the Chair's school." })
  @Column({ type: 'integer', nullable: true })
  chairSchoolUrn: number | null;

  @Field(() => String, { description: 'Name of the aligned NHS Primary Care Network.' })
  @Column({ type: 'varchar', length: 120 })
  pcnName: string;
}

/** Effective-dated membership: a school belongs to one community on any day; schools can move. */
@Entity()
@Index(['schoolUrn', 'effectiveFrom'], { unique: true })
@Index(['communityCode', 'effectiveFrom'])
@Check('"effective_to" IS NULL OR "effective_to" > "effective_from"')
export class CommunityMembership {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => Community, { onDelete: 'RESTRICT' })
  communityCode: string;

  /** First day of membership (inclusive). */
  @DateColumn()
  effectiveFrom: string;

  /** Day the membership ended (exclusive), null while current. */
  @DateColumn({ nullable: true })
  effectiveTo: string | null;
}
