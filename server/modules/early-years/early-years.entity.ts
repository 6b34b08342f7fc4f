import { District } from '../geography/geography.entity';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

export enum SettingKind {
  GROUP = 'GROUP',
  CHILDMINDER = 'CHILDMINDER',
}
registerEnumType(SettingKind, {
  name: 'SettingKind',
  description: 'Group setting (nursery, pre-school) or childminder.',
});

@ObjectType({ description: 'An early years setting (nursery, pre-school or childminder), keyed by its Ofsted URN.' })
@Entity()
export class EarlyYearsSetting {
  @Field(() => String, { description: 'Ofsted URN, e.g. "EY512345".' })
  @PrimaryColumn({ type: 'varchar', length: 12 })
  urn: string;

  @Field(() => String, { description: 'Setting name (childminders are shown by URN only).' })
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Field(() => SettingKind, { description: 'Group setting or childminder.' })
  @Column({ type: 'varchar', length: 12 })
  kind: SettingKind;

  @Field(() => String, { description: 'ONS code of the district.' })
  @Index()
  @Column({ type: 'varchar', length: 9 })
  @ForeignKey(() => District, { onDelete: 'RESTRICT' })
  districtCode: string;

  @Field(() => String, { nullable: true, description: 'Postcode district (outward code) only.' })
  @Column({ type: 'varchar', length: 5, nullable: true })
  postcodeDistrict: string | null;
}
