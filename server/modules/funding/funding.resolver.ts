import Decimal from 'decimal.js';
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { requireFinancialYear } from '../period/period.service';
import { HighNeedsBlockLine } from './funding.entity';
import { HighNeedsBlock } from './funding.types';

@Resolver()
export class HighNeedsBlockResolver {
  @Query(() => HighNeedsBlock, { description: 'The High Needs block budget lines for a financial year, with totals.' })
  async highNeedsBlock(
    @Arg('financialYear', () => String, { description: 'Financial year code, e.g. "2025-26".' }) financialYear: string,
    @Ctx() ctx: Context,
  ): Promise<HighNeedsBlock> {
    requireFinancialYear(await ctx.loaders.periods(), financialYear);
    const lines: HighNeedsBlockLine[] = await ctx.db.query(
      `SELECT financial_year_code AS "financialYearCode", line_code AS "lineCode", name, sort_order AS "sortOrder",
              budget, forecast, outturn, memo
         FROM high_needs_block_line WHERE financial_year_code = $1 ORDER BY sort_order, line_code`,
      [financialYear],
    );
    const spend = lines.filter((l) => !l.memo);
    const sum = (pick: (l: HighNeedsBlockLine) => string) => spend.reduce((s, l) => s.plus(pick(l)), new Decimal(0));
    const budget = sum((l) => l.budget);
    const forecast = sum((l) => l.forecast);
    const outturnKnown = spend.length > 0 && spend.every((l) => l.outturn !== null);
    return {
      financialYear,
      lines,
      totalBudget: budget.toFixed(2),
      totalForecast: forecast.toFixed(2),
      totalOutturn: outturnKnown ? sum((l) => l.outturn!).toFixed(2) : null,
      variance: forecast.minus(budget).toFixed(2),
    };
  }
}
