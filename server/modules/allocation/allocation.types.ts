import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MoneyScalar } from '../../common/scalars';
import { AllocationStatus } from './allocation.entity';
import { ListSize } from '../../http/cost';

export enum RowResult {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  UNCHANGED = 'UNCHANGED',
  REJECTED = 'REJECTED',
}
registerEnumType(RowResult, {
  name: 'RowResult',
  description: 'What a submitted row did (or, in a dry run, would do).',
});

@InputType({ description: 'One allocation row as the add-in or a script sends it.' })
export class AllocationRowInput {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;

  @Field(() => String, { description: 'Community whose pot pays it.' })
  communityCode: string;

  @Field(() => String, { description: 'Funding term code, e.g. "AUTUMN-2026".' })
  term: string;

  @Field(() => String, {
    description:
      'Amount as a decimal string with at most 2 decimal places. A string (not Money) so that one bad cell is reported on its row, not as a failure of the whole request.',
  })
  amount: string;

  @Field(() => String, { description: 'Purpose; with the school and term it identifies the allocation.' })
  purpose: string;

  @Field(() => AllocationStatus, { description: 'Target state.' })
  status: AllocationStatus;

  @Field(() => Int, { nullable: true, description: 'The version the row was read at; omit for a new allocation.' })
  baseVersion?: number | null;
}

@InputType({ description: 'A batch of allocation changes, applied all or nothing.' })
export class SubmitAllocationsInput {
  @Field(() => String, {
    description:
      'Unique key for this batch (8-200 characters): a retry with the same key and rows returns the first result and writes nothing again.',
  })
  idempotencyKey: string;

  @Field(() => String, { nullable: true, description: 'Decision reference (required when any row is APPROVED).' })
  decisionReference?: string | null;

  @Field(() => String, { nullable: true, description: 'Why (recorded in the audit log; required unless dryRun).' })
  reason?: string | null;

  @Field(() => Boolean, { defaultValue: false, description: 'Validate and return the diff without writing.' })
  dryRun: boolean;

  @Field(() => [AllocationRowInput], { description: 'Rows, at most 10,000.' })
  rows: AllocationRowInput[];
}

@ObjectType({
  description: 'An allocation\'s values at one point: before, after, or the current values on the server ("theirs").',
})
export class AllocationValues {
  @Field(() => MoneyScalar, { description: 'Amount.' })
  amount: string;

  @Field(() => AllocationStatus, { description: 'State.' })
  status: AllocationStatus;

  @Field(() => Int, { nullable: true, description: 'Version (null for values not yet written).' })
  version: number | null;
}

@ObjectType({ description: 'Why a row was rejected.' })
export class AllocationRowError {
  @Field(() => String, {
    description:
      'UNKNOWN_SCHOOL, UNKNOWN_COMMUNITY, NOT_MEMBER, UNKNOWN_TERM, TERM_CLOSED, NO_POT, BAD_AMOUNT, BAD_PURPOSE, OVER_POT, FORBIDDEN, ' +
      'STALE_VERSION, ALREADY_EXISTS, NOT_FOUND, DUPLICATE_ROW, COMMUNITY_MISMATCH.',
  })
  code: string;

  @Field(() => String, { nullable: true, description: 'The input field at fault, e.g. "amount".' })
  field: string | null;

  @Field(() => String, { description: 'A message for a person.' })
  message: string;

  @Field(() => AllocationValues, {
    nullable: true,
    description: 'STALE_VERSION and ALREADY_EXISTS: the current values on the server.',
  })
  theirs?: AllocationValues | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'OVER_POT: the pot.' })
  pot?: string | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'OVER_POT: the approved total the batch would reach.' })
  total?: string | null;
}

@ObjectType({ description: 'The outcome of one submitted row.' })
export class AllocationRowResultType {
  @Field(() => Int, { description: 'Index of the row in the input (0-based).' })
  index: number;

  @Field(() => RowResult, { description: 'Created, updated, unchanged or rejected.' })
  result: RowResult;

  @Field(() => String, { nullable: true, description: 'Allocation id (null for a rejected new row).' })
  allocationId: string | null;

  @Field(() => Int, { nullable: true, description: 'The version after this batch.' })
  version: number | null;

  @Field(() => AllocationValues, { nullable: true, description: 'Values before (null for a new allocation).' })
  before: AllocationValues | null;

  @Field(() => AllocationValues, { nullable: true, description: 'Values after (null when rejected).' })
  after: AllocationValues | null;

  @ListSize(8) // at most one error per checked field of a row
  @Field(() => [AllocationRowError], { description: 'Errors; empty unless rejected.' })
  userErrors: AllocationRowError[];
}

@ObjectType({ description: "A community's approved total for a term, before and after the batch." })
export class CommunityTermTotal {
  @Field(() => String, { description: 'Community code.' })
  communityCode: string;

  @Field(() => String, { description: 'Funding term code.' })
  term: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'The pot (null when none is set).' })
  pot: string | null;

  @Field(() => MoneyScalar, { description: 'Approved total before the batch.' })
  approvedBefore: string;

  @Field(() => MoneyScalar, { description: 'Approved total after the batch.' })
  approvedAfter: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'Pot minus approved total after the batch.' })
  remainingAfter: string | null;
}

@ObjectType({ description: 'Counts of row results.' })
export class SubmitSummary {
  @Field(() => Int, { description: 'Rows created.' })
  created: number;
  @Field(() => Int, { description: 'Rows updated.' })
  updated: number;
  @Field(() => Int, { description: 'Rows unchanged.' })
  unchanged: number;
  @Field(() => Int, { description: 'Rows rejected.' })
  rejected: number;
}

@ObjectType({
  description:
    'Result of submitAllocations: per-row results, totals per community and term, and whether anything was written.',
})
export class SubmitAllocationsPayload {
  @Field(() => Boolean, {
    description:
      'True when the batch was written. False for a dry run or when any row was rejected (then nothing is written).',
  })
  applied: boolean;

  @Field(() => Boolean, { description: 'True for a dry run.' })
  dryRun: boolean;

  @Field(() => Boolean, {
    description: 'True when this is the stored result of an earlier submit with the same idempotency key.',
  })
  replayed: boolean;

  @Field(() => String, { description: 'The idempotency key.' })
  idempotencyKey: string;

  @Field(() => SubmitSummary, { description: 'Counts of row results.' })
  summary: SubmitSummary;

  @ListSize(1) // one per input row: Mutation.submitAllocations' rows size it
  @Field(() => [AllocationRowResultType], { description: 'One result per input row, in input order.' })
  results: AllocationRowResultType[];

  @ListSize(1) // at most one per input row: Mutation.submitAllocations' rows size it
  @Field(() => [CommunityTermTotal], { description: 'Approved totals per community and term touched by the batch.' })
  totals: CommunityTermTotal[];
}

@InputType({ description: 'Filters for allocations.' })
export class AllocationFilter {
  @Field(() => String, { nullable: true, description: 'Community code.' })
  communityCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Funding term code.' })
  term?: string | null;

  @Field(() => [AllocationStatus], { nullable: true, description: 'Any of these states.' })
  status?: AllocationStatus[] | null;

  @Field(() => Int, { nullable: true, description: 'School URN.' })
  schoolUrn?: number | null;
}
