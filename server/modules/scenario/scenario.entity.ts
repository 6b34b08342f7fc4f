import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { GraphQLJSON } from 'graphql-scalars';
import { DateColumn } from '../../common/columns';
import { DateScalar } from '../../common/scalars';

/** A version of the funding model's parameters of record, effective from a date. */
@ObjectType({ description: "A version of the funding model's parameters of record." })
@Entity()
export class ModelParameterSet {
  @Field(() => Int, { description: 'Version number.' })
  @PrimaryGeneratedColumn({ type: 'integer' })
  version: number;

  @Field(() => DateScalar, { description: 'Date from which these parameters apply.' })
  @DateColumn()
  effectiveFrom: string;

  @Field(() => String, { description: 'Who set them.' })
  @Column({ type: 'varchar', length: 160 })
  author: string;

  @Field(() => String, { nullable: true, description: 'Why.' })
  @Column({ type: 'text', nullable: true })
  note: string | null;

  @Field(() => GraphQLJSON, { description: 'The parameters (rates as decimal strings).' })
  @Column({ type: 'jsonb' })
  parameters: object;

  @Field(() => Date, { description: 'When they were recorded.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

export enum ScenarioState {
  PRIVATE = 'PRIVATE',
  SHARED = 'SHARED',
  LOCKED = 'LOCKED',
}
registerEnumType(ScenarioState, {
  name: 'ScenarioState',
  description:
    'PRIVATE: only its owner (and Finance) see it. SHARED: the Sub-Group sees it. LOCKED: shared and no longer editable.',
});

@ObjectType({
  description:
    'A what-if for the Sub-Group: parameter overrides on a version of the model. Never changes figures of record.',
})
@Entity()
export class Scenario {
  @Field(() => String, { description: 'Scenario id.' })
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => String, { description: 'Name.' })
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field(() => String, { description: 'Owner (token id or sign-in subject).' })
  @Column({ type: 'varchar', length: 160 })
  owner: string;

  @Field(() => String, { description: "Owner's display name." })
  @Column({ type: 'varchar', length: 160 })
  ownerName: string;

  @Field(() => ScenarioState, { description: 'Who can see and change it.' })
  @Column({ type: 'varchar', length: 8 })
  state: ScenarioState;

  @Field(() => Int, { description: 'Model parameter version it is based on.' })
  @Column({ type: 'integer' })
  baseParameterVersion: number;

  @Field(() => String, { nullable: true, description: 'Scenario it was copied from, if any.' })
  @Column({ type: 'uuid', nullable: true })
  basedOnScenarioId: string | null;

  @Field(() => GraphQLJSON, { description: 'Parameter overrides (only what differs from the base).' })
  @Column({ type: 'jsonb' })
  overrides: object;

  @Field(() => Int, { description: 'Version, increased on every change.' })
  @Column({ type: 'integer', default: 1 })
  version: number;

  @Field(() => Date, { description: 'Created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { description: 'Last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
