import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  ForeignKey,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { MoneyColumn } from '../../common/columns';
import { MoneyScalar } from '../../common/scalars';
import { Community } from '../community/community.entity';
import { FundingTerm } from '../period/period.entity';
import { School } from '../school/school.entity';

export enum AllocationStatus {
  PROPOSED = 'PROPOSED',
  APPROVED = 'APPROVED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(AllocationStatus, {
  name: 'AllocationStatus',
  description:
    'PROPOSED: put forward by the community (its Chair) or Finance. APPROVED: recorded by Finance with a decision reference; ' +
    'the figure of record, paid. WITHDRAWN: no longer proposed or approved (kept for the audit trail).',
});

@ObjectType({ description: "An amount from a community's pot to a member school for a funding term, with a purpose." })
@Entity()
@Index(['schoolUrn', 'termCode', 'purpose'], { unique: true })
@Index(['communityCode', 'termCode'])
@Check('"amount" >= 0')
@Check('"version" >= 1')
export class Allocation {
  @Field(() => String, { description: 'Allocation id.' })
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => Int, { description: 'School URN.' })
  @Column({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @Field(() => String, { description: 'Community whose pot pays it.' })
  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => Community, { onDelete: 'RESTRICT' })
  communityCode: string;

  @Field(() => String, { description: 'Funding term code.' })
  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  termCode: string;

  @Field(() => String, { description: 'What the money is for, e.g. "Speech and language support".' })
  @Column({ type: 'varchar', length: 120 })
  purpose: string;

  @Field(() => MoneyScalar, { description: 'Amount.' })
  @MoneyColumn()
  amount: string;

  @Field(() => AllocationStatus, { description: 'Workflow state.' })
  @Column({ type: 'varchar', length: 12 })
  status: AllocationStatus;

  @Field(() => Int, { description: 'Version, increased on every change: send it back as baseVersion to update.' })
  @Column({ type: 'integer' })
  version: number;

  @Field(() => String, { nullable: true, description: 'Decision reference of the approval.' })
  @Column({ type: 'varchar', length: 80, nullable: true })
  decisionReference: string | null;

  @Field(() => String, { nullable: true, description: 'Who approved it.' })
  @Column({ type: 'varchar', length: 160, nullable: true })
  approvedBy: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was approved.' })
  @Column({ type: 'timestamptz', nullable: true })
  approvedAt: Date | null;

  @Field(() => String, { description: 'Who last changed it.' })
  @Column({ type: 'varchar', length: 160 })
  updatedBy: string;

  @Field(() => Date, { description: 'When it was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { description: 'When it was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/** A submitted batch, kept so that a retry with the same key returns the first result and writes nothing. */
@Entity()
export class IdempotencyRecord {
  @Column({ type: 'varchar', length: 200, primary: true })
  key: string;

  @Column({ type: 'char', length: 64 })
  requestHash: string;

  @Column({ type: 'varchar', length: 160 })
  actor: string;

  @Column({ type: 'jsonb' })
  response: object;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
