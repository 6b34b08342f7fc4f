import { Field, InputType, Int, registerEnumType } from 'type-graphql';
import { Phase, SchoolStatus, SchoolType } from './school.entity';
import { DateScalar } from '../../common/scalars';

@InputType({ description: 'Filters for schools; all given filters must match.' })
export class SchoolFilter {
  @Field(() => String, { nullable: true, description: 'ONS district code, e.g. "E07000105".' })
  districtCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Community code: member schools on `asOf`.' })
  communityCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Area code (NORTH, WEST, EAST, SOUTH).' })
  areaCode?: string | null;

  @Field(() => [Phase], { nullable: true, description: 'Any of these phases.' })
  phase?: Phase[] | null;

  @Field(() => [SchoolType], { nullable: true, description: 'Any of these types.' })
  type?: SchoolType[] | null;

  @Field(() => [SchoolStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: SchoolStatus[] | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive search in the school name.' })
  nameContains?: string | null;

  @Field(() => [Int], { nullable: true, description: 'Only these URNs (at most 1,000).' })
  urns?: number[] | null;

  @Field(() => DateScalar, { nullable: true, description: 'Date for community membership (default today).' })
  asOf?: string | null;
}

export enum SchoolOrderField {
  URN = 'URN',
  NAME = 'NAME',
  PUPILS_ON_ROLL = 'PUPILS_ON_ROLL',
}
registerEnumType(SchoolOrderField, { name: 'SchoolOrderField', description: 'Sort key for schools.' });

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, { name: 'OrderDirection', description: 'Sort direction.' });

@InputType({ description: 'Sort order for schools; ties are broken by URN.' })
export class SchoolOrder {
  @Field(() => SchoolOrderField, { description: 'Sort key.' })
  field: SchoolOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC, description: 'Direction.' })
  direction: OrderDirection;
}
