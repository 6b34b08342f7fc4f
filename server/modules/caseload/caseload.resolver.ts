import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { requireSchoolTerm } from '../period/period.service';
import { CaseloadKind, CaseloadWorker, WorkerRole } from './caseload.entity';
import { CaseloadGrouping, CaseloadTable } from './caseload.types';
import { caseloadTable } from './caseload.service';
import { ListSize } from '../../http/cost';

@Resolver()
export class CaseloadResolver {
  @Query(() => CaseloadTable, {
    description:
      'Caseload counts grouped by school, community, district or worker and by school term. Counts about children from 1 to 4 ' +
      'are suppressed for roles without exemption (ANALYST; a CHAIR outside their community), with secondary suppression chosen once ' +
      'per kind, term and role across every table the hub publishes and audited as an integer program, so that no combination of ' +
      'published figures pins a hidden cell to fewer than three values. A sum outside the school/community/district/worker hierarchy ' +
      '(e.g. a worker within one community) is shown only when visible cells of the hierarchy add up to it.',
  })
  async caseloads(
    @Arg('kind', () => CaseloadKind, { description: 'What to count.' }) kind: CaseloadKind,
    @Arg('groupBy', () => CaseloadGrouping, { description: 'Grouping.' }) groupBy: CaseloadGrouping,
    @Arg('period', () => String, { nullable: true, description: 'One school term, e.g. "2025/26-T1" (default: all).' })
    period: string | null,
    @Arg('districtCode', () => String, { nullable: true, description: 'Only this district.' })
    districtCode: string | null,
    @Arg('communityCode', () => String, { nullable: true, description: 'Only schools in this community.' })
    communityCode: string | null,
    @Ctx() ctx: Context,
  ): Promise<CaseloadTable> {
    if (period) requireSchoolTerm(await ctx.loaders.periods(), period);
    return caseloadTable(ctx, { kind, groupBy, period, districtCode, communityCode });
  }

  @ListSize((b) => b.caseloadWorkers)
  @Query(() => [CaseloadWorker], {
    description: 'Workers who hold caseloads (pseudonymous codes), optionally of one role.',
  })
  caseloadWorkers(
    @Arg('role', () => WorkerRole, { nullable: true, description: 'Only this role.' }) role: WorkerRole | null,
    @Ctx() ctx: Context,
  ): Promise<CaseloadWorker[]> {
    return ctx.db.query(
      `SELECT code, role, team, area_code AS "areaCode" FROM caseload_worker WHERE ($1::text IS NULL OR role = $1) ORDER BY code`,
      [role],
    );
  }
}
