import { Field, ObjectType } from 'type-graphql';
import { DateScalar, MoneyScalar } from '../../common/scalars';
import { FigureSource } from '../../common/provenance';

@ObjectType({ description: "The agreement's planned in-year DSG position for a financial year." })
export class SafetyValvePlanYearType {
  @Field(() => String, { description: 'Financial year code.' })
  financialYear: string;

  @Field(() => MoneyScalar, { description: 'Planned in-year DSG position (negative is a deficit).' })
  inYearPlan: string;

  @Field(() => FigureSource, { description: 'Where the figure came from: the file, who, when.' })
  source: FigureSource;
}

@ObjectType({
  description: 'A DfE Safety Valve instalment: due after a monitoring report, then paid, withheld or paid late.',
})
export class SafetyValveInstalmentType {
  @Field(() => String, { description: 'The reporting period it follows, e.g. "2025-26-Q2".' })
  periodCode: string;

  @Field(() => String, { description: 'Financial year of the report it follows.' })
  financialYear: string;

  @Field(() => DateScalar, { description: 'When it is due.' })
  dueOn: string;

  @Field(() => MoneyScalar, { description: 'Amount (£).' })
  amount: string;

  @Field(() => String, { description: 'DUE, PAID, PAID_LATE or WITHHELD.' })
  status: string;

  @Field(() => DateScalar, { nullable: true, description: 'When it was paid (PAID and PAID_LATE).' })
  paidOn: string | null;

  @Field(() => FigureSource, { description: 'Where the figure came from: the file, who, when.' })
  source: FigureSource;
}
