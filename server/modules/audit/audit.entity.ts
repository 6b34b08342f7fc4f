import { Field, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { GraphQLJSON } from 'graphql-scalars';

/**
 * Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (see the migration), so the trail cannot be
 * rewritten even by the hub itself.
 */
@ObjectType({
  description: 'One change to a figure of record or to model parameters: who, when, from where, why, before and after.',
})
@Entity()
@Index(['entity', 'entityId'])
@Index(['at'])
export class AuditLog {
  @Field(() => String, { description: 'Sequence number (as a string: it is a 64-bit integer).' })
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Field(() => Date, { description: 'When.' })
  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  @Field(() => String, { description: 'Who: token id (token:…) or sign-in subject (jwt:…).' })
  @Column({ type: 'varchar', length: 160 })
  actor: string;

  @Field(() => String, { description: 'Display name of who.' })
  @Column({ type: 'varchar', length: 160 })
  actorName: string;

  @Field(() => String, { description: 'Role at the time.' })
  @Column({ type: 'varchar', length: 12 })
  role: string;

  @Field(() => String, { description: 'Where the change came from: ADDIN, API or IMPORT.' })
  @Column({ type: 'varchar', length: 8 })
  source: string;

  @Field(() => String, { description: 'Kind of record: ALLOCATION, MODEL_PARAMETERS, SCENARIO, IMPORT.' })
  @Column({ type: 'varchar', length: 24 })
  entity: string;

  @Field(() => String, { description: 'Id of the record.' })
  @Column({ type: 'varchar', length: 80 })
  entityId: string;

  @Field(() => String, { description: 'What happened, e.g. CREATE, UPDATE, APPROVE, WITHDRAW.' })
  @Column({ type: 'varchar', length: 24 })
  action: string;

  @Field(() => String, { nullable: true, description: 'Idempotency key of the batch.' })
  @Column({ type: 'varchar', length: 200, nullable: true })
  idempotencyKey: string | null;

  @Field(() => String, { nullable: true, description: 'Decision reference.' })
  @Column({ type: 'varchar', length: 80, nullable: true })
  decisionReference: string | null;

  @Field(() => String, { nullable: true, description: 'Why.' })
  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The record before the change (null for a creation).' })
  @Column({ type: 'jsonb', nullable: true })
  before: object | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The record after the change.' })
  @Column({ type: 'jsonb', nullable: true })
  after: object | null;
}
