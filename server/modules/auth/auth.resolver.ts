import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { Role } from '../../auth/roles';

@ObjectType({ description: 'Who is calling.' })
class Me {
  @Field(() => String, { description: "Token label or the signed-in person's name." })
  name: string;

  @Field(() => Role, { description: 'Role.' })
  role: Role;

  @Field(() => String, { nullable: true, description: 'For a CHAIR, their community.' })
  communityCode: string | null;

  @Field(() => String, { description: 'How you authenticated: "token" or "jwt".' })
  via: string;
}

@Resolver()
export class MeResolver {
  @Query(() => Me, { description: 'The caller: name, role and (for a Chair) community.' })
  me(@Ctx() ctx: Context): Me {
    const { name, role, communityCode, via } = ctx.viewer;
    return { name, role, communityCode, via };
  }
}
