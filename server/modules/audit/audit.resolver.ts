import { Arg, Ctx, Field, InputType, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { BadInput } from '../../errors';
import { authorize, OPERATIONS } from '../../auth/policy';
import { AuditLog } from './audit.entity';
import { AUDIT_COLUMNS } from './audit.service';
import { ListSize } from '../../http/cost';

@InputType({ description: 'Filters for the audit log.' })
class AuditFilter {
  @Field(() => String, { nullable: true, description: 'ALLOCATION, MODEL_PARAMETERS, SCENARIO or IMPORT.' })
  entity?: string | null;
  @Field(() => String, { nullable: true, description: 'Record id.' })
  entityId?: string | null;
  @Field(() => String, { nullable: true, description: 'Who (token:… or jwt:…).' })
  actor?: string | null;
  @Field(() => String, { nullable: true, description: 'Idempotency key of a batch.' })
  idempotencyKey?: string | null;
  @Field(() => String, { nullable: true, description: 'Decision reference.' })
  decisionReference?: string | null;
}

@ObjectType({ description: 'A page of the audit log, newest first.' })
class AuditPage {
  @ListSize(1) // the page: Query.auditLog's `first` sizes it
  @Field(() => [AuditLog], { description: 'Entries.' })
  nodes: AuditLog[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page; null on the last page.' })
  endCursor: string | null;
}

@Resolver()
export class AuditResolver {
  @ListSize((_b, args) => Math.max(1, Number(args.first) || 1))
  @Query(() => AuditPage, { description: 'The audit log, newest first (Finance only).' })
  async auditLog(
    @Arg('filter', () => AuditFilter, { nullable: true, description: 'Filters.' }) filter: AuditFilter | null,
    @Arg('first', () => Int, { defaultValue: 100, description: 'Page size, at most 1,000.' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' })
    after: string | null,
    @Ctx() ctx: Context,
  ): Promise<AuditPage> {
    authorize(ctx.viewer, OPERATIONS['Query.auditLog'], 'read the audit log');
    if (first < 1 || first > 1000) throw new BadInput('`first` must be from 1 to 1000.', 'first');
    // An omitted argument arrives as undefined, not null.
    if (after != null && !/^\d+$/.test(after))
      throw new BadInput('`after` must be an endCursor from a previous page.', 'after');
    const rows: AuditLog[] = await ctx.db.query(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log l
        WHERE ($1::text IS NULL OR l.entity = $1) AND ($2::text IS NULL OR l.entity_id = $2) AND ($3::text IS NULL OR l.actor = $3)
          AND ($4::text IS NULL OR l.idempotency_key = $4) AND ($5::text IS NULL OR l.decision_reference = $5)
          AND ($6::bigint IS NULL OR l.id < $6)
        ORDER BY l.id DESC LIMIT ${first + 1}`,
      [
        filter?.entity ?? null,
        filter?.entityId ?? null,
        filter?.actor ?? null,
        filter?.idempotencyKey ?? null,
        filter?.decisionReference ?? null,
        after ?? null,
      ],
    );
    const more = rows.length > first;
    const nodes = rows.slice(0, first);
    return { nodes, endCursor: more ? nodes[nodes.length - 1].id : null };
  }
}
