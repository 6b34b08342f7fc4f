import Decimal from 'decimal.js';
import { Arg, Ctx, Extensions, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { requireFinancialYear } from '../period/period.service';
import { compute } from './compute';
import { loadFundingInputs } from './funding-inputs';
import { parameterVersions, recordOn } from './parameters-of-record';
import { BLOCK_LINE_BY_CODE, BlockLineCode } from './block';
import { dsgOfRecord, loadIncome, readBlockLines } from './block.service';
import { HighNeedsBlockLine } from './funding.entity';
import { HighNeedsBlock, MissingDriver } from './funding.types';
import type { CostExtension, DataBounds } from '../../http/cost';

@Resolver(() => HighNeedsBlock)
export class HighNeedsBlockResolver {
  // Both at once (two cost extensions would overwrite each other): a list, and a whole-county computation.
  @Extensions({
    cost: { listSize: (b: DataBounds) => b.schools * b.fundingTerms * 3, computation: true } satisfies CostExtension,
  })
  @FieldResolver(() => [MissingDriver], {
    description:
      'Drivers of the computed lines of this year that are missing (place numbers, pupil counts, placements, bands outside a set): what the lines leave out, never 0 silently.',
  })
  async missingDrivers(@Root() b: HighNeedsBlock, @Ctx() ctx: Context): Promise<MissingDriver[]> {
    const [inputs, versions] = await Promise.all([loadFundingInputs(ctx.db), parameterVersions(ctx.db)]);
    const { results } = compute(inputs, recordOn(versions));
    const fyOf = new Map(inputs.terms.map((t) => [t.code, t.financialYearCode]));
    const ays = new Set(
      inputs.terms.filter((t) => t.financialYearCode === b.financialYear).map((t) => t.academicYearCode),
    );
    return results.block.missing.filter(
      (m) => m.period === b.financialYear || fyOf.get(m.period) === b.financialYear || ays.has(m.period),
    );
  }

  @Query(() => HighNeedsBlock, {
    description: 'The High Needs block budget lines for a financial year, with totals, income and the DSG position.',
  })
  async highNeedsBlock(
    @Arg('financialYear', () => String, { description: 'Financial year code, e.g. "2025-26".' }) financialYear: string,
    @Ctx() ctx: Context,
  ): Promise<HighNeedsBlock> {
    requireFinancialYear(await ctx.loaders.periods(), financialYear);
    const [all, income, versions] = await Promise.all([
      readBlockLines(ctx.db),
      loadIncome(ctx.db),
      parameterVersions(ctx.db),
    ]);
    const lines = all.filter((l) => l.financialYearCode === financialYear) as HighNeedsBlockLine[];
    const spend = lines.filter((l) => !l.memo);
    const sum = (pick: (l: HighNeedsBlockLine) => string) => spend.reduce((s, l) => s.plus(pick(l)), new Decimal(0));
    const budget = sum((l) => l.budget);
    const forecast = sum((l) => l.forecast);
    const outturnKnown = spend.length > 0 && spend.every((l) => l.outturn !== null);
    const paramsOn = recordOn(versions);
    const dsg = dsgOfRecord(all, income, paramsOn).find((d) => d.financialYearCode === financialYear) ?? null;
    return {
      financialYear,
      lines,
      totalBudget: budget.toFixed(2),
      totalForecast: forecast.toFixed(2),
      totalOutturn: outturnKnown ? sum((l) => l.outturn!).toFixed(2) : null,
      variance: forecast.minus(budget).toFixed(2),
      income: dsg
        ? {
            ...dsg.income,
            schoolsBlockTransferRate: paramsOn(`${financialYear.slice(0, 4)}-04-01`).block.schoolsBlockTransferRate,
          }
        : null,
      dsg: dsg && {
        spend: dsg.spend,
        inYear: dsg.inYear,
        cumulative: dsg.cumulative,
        planInYear: dsg.planInYear,
        planCumulative: dsg.planCumulative,
      },
    };
  }
}

@Resolver(() => HighNeedsBlockLine)
export class HighNeedsBlockLineResolver {
  @FieldResolver(() => String, {
    description:
      'How the line gets its figure: FUNDING_MODEL (pots, protection, banded top-ups, notional SEN: budget and forecast computed), DRIVERS ' +
      '(places, pupils per band, placements: forecast computed, budget set for the year) or GIVEN (entered or imported). In a closed year held ' +
      'as reported, term-based lines are the reported figures.',
  })
  method(@Root() l: HighNeedsBlockLine): string {
    return BLOCK_LINE_BY_CODE.get(l.lineCode as BlockLineCode)?.method ?? 'GIVEN';
  }
}
