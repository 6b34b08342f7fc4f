import { Arg, Ctx, Field, FieldResolver, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { BadInput } from '../../errors';
import { Role } from '../../auth/roles';
import { authorize, FIELDS } from '../../auth/policy';
import { AuditLog } from '../audit/audit.entity';
import { School } from '../school/school.entity';
import { Allocation, AllocationStatus } from './allocation.entity';
import { AllocationFilter, SubmitAllocationsInput, SubmitAllocationsPayload } from './allocation.types';
import { submitAllocations } from './allocation.service';
import { ListSize, pageOf } from '../../http/cost';

export const ALLOCATION_COLUMNS = `a.id, a.school_urn AS "schoolUrn", a.community_code AS "communityCode", a.term_code AS "termCode", a.purpose,
  a.amount, a.status, a.version, a.decision_reference AS "decisionReference", a.approved_by AS "approvedBy", a.approved_at AS "approvedAt",
  a.updated_by AS "updatedBy", a.created_at AS "createdAt", a.updated_at AS "updatedAt"`;

@ObjectType({ description: 'A page of allocations.' })
class AllocationList {
  @Field(() => Int, { description: 'Number of allocations matching the filter.' })
  totalCount: number;

  @ListSize(1) // the page: Query.allocations' `first` sizes it
  @Field(() => [Allocation], { description: 'Allocations, by community, term, school and purpose.' })
  nodes: Allocation[];
}

@Resolver(() => Allocation)
export class AllocationResolver {
  @ListSize(pageOf('allocations'))
  @Query(() => AllocationList, { description: 'Allocations of record, filtered. Up to 10,000 per call.' })
  async allocations(
    @Arg('filter', () => AllocationFilter, { nullable: true, description: 'Filters.' }) filter: AllocationFilter | null,
    @Arg('first', () => Int, { defaultValue: 10000, description: 'At most this many (10,000 max).' }) first: number,
    @Arg('offset', () => Int, { defaultValue: 0, description: 'Rows to skip.' }) offset: number,
    @Ctx() ctx: Context,
  ): Promise<AllocationList> {
    if (first < 0 || first > 10000) throw new BadInput('`first` must be from 0 to 10000.', 'first');
    if (offset < 0) throw new BadInput('`offset` must be 0 or more.', 'offset');
    const params: unknown[] = [
      filter?.communityCode ?? null,
      filter?.term ?? null,
      filter?.status ?? null,
      filter?.schoolUrn ?? null,
    ];
    const where = `($1::text IS NULL OR a.community_code = $1) AND ($2::text IS NULL OR a.term_code = $2)
      AND ($3::text[] IS NULL OR a.status = ANY($3)) AND ($4::int IS NULL OR a.school_urn = $4)`;
    const rows: (Allocation & { total: number })[] = await ctx.db.query(
      `SELECT ${ALLOCATION_COLUMNS}, count(*) OVER ()::int AS total FROM allocation a WHERE ${where}
        ORDER BY a.community_code, a.term_code, a.school_urn, a.purpose LIMIT ${first} OFFSET ${offset}`,
      params,
    );
    let totalCount = rows[0]?.total ?? 0;
    if (rows.length === 0 && offset > 0) {
      totalCount = (await ctx.db.query(`SELECT count(*)::int AS n FROM allocation a WHERE ${where}`, params))[0].n;
    }
    return { totalCount, nodes: rows };
  }

  // The answer is as large as the batch sent (no amplification), which the body limit and MAX_BATCH_ROWS bound.
  @ListSize(1)
  @Mutation(() => SubmitAllocationsPayload, {
    description:
      'Creates, changes, approves or withdraws allocations in one all-or-nothing batch. Every row is validated; if any is rejected nothing ' +
      'is written and every rejected row is reported. `dryRun: true` returns the same diff without writing. Rows carry the version they ' +
      'were read at: a stale one is rejected as STALE_VERSION with the current values. The same idempotency key with the same rows returns ' +
      'the first result and writes nothing again.',
  })
  submitAllocations(
    @Arg('input', () => SubmitAllocationsInput, { description: 'The batch.' }) input: SubmitAllocationsInput,
    @Ctx() ctx: Context,
  ) {
    return submitAllocations(ctx.db.connection, ctx.viewer, input, { source: ctx.source });
  }

  @FieldResolver(() => School, { nullable: true, description: 'The school.' })
  school(@Root() a: Allocation, @Ctx() ctx: Context) {
    return ctx.loaders.schoolByUrn.load(a.schoolUrn);
  }

  @FieldResolver(() => String, { description: 'Alias of termCode, the funding term code.' })
  term(@Root() a: Allocation): string {
    return a.termCode;
  }

  @FieldResolver(() => Boolean, {
    description:
      'True when you may change this allocation (Finance: always; a Chair: unapproved rows of their community).',
  })
  editable(@Root() a: Allocation, @Ctx() ctx: Context): boolean {
    const v = ctx.viewer;
    if (v.role === Role.FINANCE) return true;
    return v.role === Role.CHAIR && v.communityCode === a.communityCode && a.status !== AllocationStatus.APPROVED;
  }

  @ListSize((b) => b.auditPerAllocation)
  @FieldResolver(() => [AuditLog], {
    nullable: true,
    description:
      'Every change to this allocation, oldest first. Finance; a Chair for their own community (actor ids hidden). Others get null and FORBIDDEN.',
  })
  async history(@Root() a: Allocation, @Ctx() ctx: Context): Promise<AuditLog[]> {
    authorize(ctx.viewer, FIELDS['Allocation.history'], "read an allocation's history", a.communityCode);
    const rows = await ctx.loaders.auditByEntity.load(`ALLOCATION|${a.id}`);
    // A Chair sees who and why by name; the token or sign-in ids stay with Finance (they identify credentials).
    return ctx.viewer.role === Role.FINANCE
      ? rows
      : rows.map((r) => ({ ...r, actor: r.actor.startsWith('jwt:') ? 'jwt' : 'token' }));
  }
}
