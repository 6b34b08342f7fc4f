import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CaseloadKind } from './caseload.entity';
import { ListSize } from '../../http/cost';

export enum CaseloadGrouping {
  SCHOOL = 'SCHOOL',
  COMMUNITY = 'COMMUNITY',
  DISTRICT = 'DISTRICT',
  WORKER = 'WORKER',
}
registerEnumType(CaseloadGrouping, {
  name: 'CaseloadGrouping',
  description:
    'How caseload counts are grouped (always also by period). COMMUNITY and SCHOOL include only counts held against a school.',
});

@ObjectType({ description: 'A count that may be suppressed: `count` is null and `suppressed` true when it is hidden.' })
export class CaseloadValue {
  @Field(() => CaseloadKind, { description: 'What is counted.' })
  kind: CaseloadKind;

  @Field(() => Int, { nullable: true, description: 'The count, or null when suppressed.' })
  count: number | null;

  @Field(() => Boolean, {
    description:
      'True when hidden from your role by disclosure control: a count from 1 to 4, or a complement hidden so that none can be recovered (shown as "c" in published tables).',
  })
  suppressed: boolean;
}

@ObjectType({ description: 'One row of a caseload table: a group in a period.' })
export class CaseloadRow {
  @Field(() => String, { description: 'Group key: URN, community code, ONS district code or worker code.' })
  key: string;

  @Field(() => String, { description: 'Group label: school, community or district name, or worker team.' })
  label: string;

  @Field(() => String, { description: 'School term code, e.g. "2025/26-T1".' })
  period: string;

  @Field(() => Int, { nullable: true, description: 'The count, or null when suppressed.' })
  count: number | null;

  @Field(() => Boolean, { description: 'True when hidden by disclosure control (primary or secondary).' })
  suppressed: boolean;
}

@ObjectType({ description: 'The total of a caseload table for one period.' })
export class CaseloadTotal {
  @Field(() => String, { description: 'School term code.' })
  period: string;

  @Field(() => Int, { nullable: true, description: 'Total, or null when suppressed.' })
  count: number | null;

  @Field(() => Boolean, { description: 'True when the total is hidden.' })
  suppressed: boolean;
}

@ObjectType({
  description:
    'Caseload counts grouped by school, community, district or worker, and by period, with disclosure control applied.',
})
export class CaseloadTable {
  @Field(() => CaseloadKind, { description: 'What is counted.' })
  kind: CaseloadKind;

  @Field(() => CaseloadGrouping, { description: 'Grouping.' })
  groupBy: CaseloadGrouping;

  @ListSize((b) => b.caseloadRowsPerKind)
  @Field(() => [CaseloadRow], { description: 'Rows, ordered by period then label.' })
  rows: CaseloadRow[];

  @ListSize((b) => b.schoolTerms)
  @Field(() => [CaseloadTotal], { description: 'Totals per period.' })
  totals: CaseloadTotal[];

  @Field(() => Boolean, { description: 'True when counts about children are subject to suppression for this kind.' })
  disclosureControlled: boolean;
}
