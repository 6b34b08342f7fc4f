import { Field, ObjectType } from 'type-graphql';
import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

@ObjectType({
  description: "One of the local authority's areas, each with an Area Board (e.g. North, West, East, South).",
})
@Entity()
export class Area {
  @Field(() => String, { description: 'Short code, e.g. "NORTH".' })
  @PrimaryColumn({ type: 'varchar', length: 16 })
  code: string;

  @Field(() => String, { description: 'Display name, e.g. "North".' })
  @Column({ type: 'varchar', length: 80 })
  name: string;
}

@ObjectType({ description: "A district (lower-tier local authority) of the authority's area, keyed by its ONS code." })
@Entity()
export class District {
  @Field(() => String, { description: 'ONS code, e.g. "E07000105" (Ashford).' })
  @PrimaryColumn({ type: 'varchar', length: 9 })
  onsCode: string;

  @Field(() => String, { description: 'District name, e.g. "Ashford".' })
  @Column({ type: 'varchar', length: 80, unique: true })
  name: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Code of the area the district belongs to; null for a district the GIAS import created until the areas import places it.',
  })
  @Index()
  @Column({ type: 'varchar', length: 16, nullable: true })
  @ForeignKey(() => Area, { onDelete: 'RESTRICT' })
  areaCode: string | null;
}
