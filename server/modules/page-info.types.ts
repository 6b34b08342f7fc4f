import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'True when more rows follow this page.' })
  hasNextPage: boolean;

  @Field(() => Boolean, { description: 'True when this page did not start at the first row.' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first row of the page.' })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last row; pass it as `after` for the next page.' })
  endCursor: string | null;
}
