import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { DateColumn } from '../../common/columns';
import { DateScalar } from '../../common/scalars';

@ObjectType({ description: 'A financial year, 1 April to 31 March. Budgets and the Safety Valve run on it.' })
@Entity()
export class FinancialYear {
  @Field(() => String, { description: 'Code, e.g. "2025-26".' })
  @PrimaryColumn({ type: 'varchar', length: 7 })
  code: string;

  @Field(() => DateScalar, { description: 'First day (1 April).' })
  @DateColumn()
  startDate: string;

  @Field(() => DateScalar, { description: 'Last day (31 March).' })
  @DateColumn()
  endDate: string;
}

@ObjectType({ description: 'An academic year, 1 September to 31 August. Place numbers and terms run on it.' })
@Entity()
export class AcademicYear {
  @Field(() => String, { description: 'Code, e.g. "2025/26".' })
  @PrimaryColumn({ type: 'varchar', length: 7 })
  code: string;

  @Field(() => DateScalar, { description: 'First day (1 September).' })
  @DateColumn()
  startDate: string;

  @Field(() => DateScalar, { description: 'Last day (31 August).' })
  @DateColumn()
  endDate: string;
}

export enum Season {
  SUMMER = 'SUMMER',
  AUTUMN = 'AUTUMN',
  SPRING = 'SPRING',
}
registerEnumType(Season, {
  name: 'Season',
  description: 'Funding term season: Summer (Apr-Aug), Autumn (Sep-Dec), Spring (Jan-Mar).',
});

@ObjectType({
  description:
    'A funding term: Summer (April-August), Autumn (September-December) or Spring (January-March). ' +
    'Protections, community pots and allocations are per funding term.',
})
@Entity()
export class FundingTerm {
  @Field(() => String, { description: 'Code, e.g. "SUMMER-2025".' })
  @PrimaryColumn({ type: 'varchar', length: 16 })
  code: string;

  @Field(() => String, { description: 'Display name, e.g. "Summer 2025".' })
  @Column({ type: 'varchar', length: 40 })
  name: string;

  @Field(() => Season, { description: 'Season.' })
  @Column({ type: 'varchar', length: 8 })
  season: Season;

  @Field(() => DateScalar, { description: 'First day.' })
  @DateColumn()
  startDate: string;

  @Field(() => DateScalar, { description: 'Last day.' })
  @DateColumn()
  endDate: string;

  @Field(() => String, { description: 'Financial year the term falls in.' })
  @Index()
  @Column({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @Field(() => String, { description: 'Academic year the term falls in.' })
  @Column({ type: 'varchar', length: 7 })
  @ForeignKey(() => AcademicYear, { onDelete: 'RESTRICT' })
  academicYearCode: string;

  @Field(() => Int, {
    description: 'Weight of the term in its financial year, in months (Summer 5, Autumn 4, Spring 3).',
  })
  @Column({ type: 'integer' })
  months: number;

  @Field(() => Boolean, { description: 'True once the term is closed for new allocations.' })
  @Column({ type: 'boolean', default: false })
  closed: boolean;
}

@ObjectType({ description: "One of the six school terms (T1-T6) of the local authority's school calendar." })
@Entity()
export class SchoolTerm {
  @Field(() => String, { description: 'Code, e.g. "2025/26-T1".' })
  @PrimaryColumn({ type: 'varchar', length: 12 })
  code: string;

  @Field(() => String, { description: 'Academic year code.' })
  @Column({ type: 'varchar', length: 7 })
  @ForeignKey(() => AcademicYear, { onDelete: 'RESTRICT' })
  academicYearCode: string;

  @Field(() => Int, { description: 'Term number 1-6.' })
  @Column({ type: 'integer' })
  number: number;

  @Field(() => DateScalar, { description: 'First day.' })
  @DateColumn()
  startDate: string;

  @Field(() => DateScalar, { description: 'Last day.' })
  @DateColumn()
  endDate: string;

  @Field(() => String, { description: 'Funding term that contains this school term.' })
  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  fundingTermCode: string;
}
