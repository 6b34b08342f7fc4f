import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { DateScalar } from '../../common/scalars';
import { BadInput, NotFound } from '../../errors';
import { writeAudit } from '../audit/audit.service';
import { fromPotTrigger } from '../allocation/pot-lock';
import { todayIso } from '../period/period.service';
import { applyClosures } from './closure';
import { ListSize } from '../../http/cost';

@ObjectType({ description: 'What closing a school did.' })
export class SchoolClosure {
  @Field(() => Int, { description: 'School URN.' })
  urn: number;
  @Field(() => DateScalar, {
    description: 'The close date: the school is not a member of any community from this day.',
  })
  closeDate: string;
  @ListSize((b) => b.communities)
  @Field(() => [String], { description: 'Communities whose membership of the school now ends on the close date.' })
  membershipsEnded: string[];
  @ListSize((b) => b.fundingTerms)
  @Field(() => [String], {
    description: "Terms whose pots and shares were recomputed, so the school's shares go to the schools still open.",
  })
  termsRecomputed: string[];
  @Field(() => Int, { description: 'School-term funding rows that changed.' })
  schoolTermRowsChanged: number;
  @ListSize((b) => b.allocations)
  @Field(() => [String], {
    description: 'Ids of allocations already made for the school in terms after its closure: withdraw them.',
  })
  allocationsAfterClosure: string[];
}

@Resolver()
export class SchoolClosureResolver {
  @Mutation(() => SchoolClosure, {
    description:
      'Finance: closes a school by hand (GIAS imports do the same for schools they close). Its memberships end on the close date, the ' +
      'figures of record of later open terms are recomputed (its shares go to the schools still open), and allocations or proposals for ' +
      'it in those terms are refused as SCHOOL_CLOSED. Audited.',
  })
  async closeSchool(
    @Arg('urn', () => Int, { description: 'School URN.' }) urn: number,
    @Arg('closeDate', () => DateScalar, { description: 'The day the school closes.' }) closeDate: string,
    @Arg('reason', () => String, { description: 'Why (it goes in the audit log).' }) reason: string,
    @Ctx() ctx: Context,
  ): Promise<SchoolClosure> {
    // Finance only: the policy table's rule (auth/policy.ts), put in front of every mutation.
    if (!reason.trim()) throw new BadInput('A reason is required (it goes in the audit log).', 'reason');
    return ctx.db
      .transaction(async (tx) => {
        const [before] = await tx.query(
          `SELECT urn, status, close_date::text AS "closeDate" FROM school WHERE urn = $1 FOR UPDATE`,
          [urn],
        );
        if (!before) throw new NotFound(`No school has URN ${urn}.`);
        const status = closeDate <= todayIso() ? 'CLOSED' : 'PROPOSED_TO_CLOSE';
        await tx.query(`UPDATE school SET status = $2, close_date = $3 WHERE urn = $1`, [urn, status, closeDate]);
        const { changes, recomputed } = await applyClosures(tx, [{ urn, closeDate }], `Closing school ${urn}`);
        const c = changes[0];
        const result: SchoolClosure = {
          urn,
          closeDate,
          membershipsEnded: c.membershipsEnded,
          termsRecomputed: recomputed?.termsRecomputed ?? [],
          schoolTermRowsChanged: recomputed?.schoolTermRowsChanged ?? 0,
          allocationsAfterClosure: c.allocationsAfterClosure.map((a) => a.id),
        };
        await writeAudit(tx, { viewer: ctx.viewer, source: ctx.source, reason: reason.trim() }, [
          {
            entity: 'SCHOOL',
            entityId: String(urn),
            action: 'CLOSE',
            before,
            after: { status, ...c, termsRecomputed: result.termsRecomputed },
          },
        ]);
        return result;
      })
      .catch((err) => {
        throw fromPotTrigger(err, `Closing school ${urn}`) ?? err;
      });
  }
}
