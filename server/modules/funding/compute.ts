/** The funding model run in one call, timed, and the figures of record a run is set against. */
import type { EntityManager } from 'typeorm';
import { computeFunding, FundingInputs, FundingResults, ParametersOn } from './engine';
import type { ModelParameters } from './model';
import { IncomeOfRecord, loadIncome, readBlockLines, StoredBlockLine } from './block.service';
import { parameterVersions, recordOn } from './parameters-of-record';
import { readAll } from '../../common/statements';

export interface Computed {
  results: FundingResults;
  paramsOn: ParametersOn;
  ms: number;
}

export function compute(inputs: FundingInputs, params: ModelParameters | ParametersOn): Computed {
  const started = process.hrtime.bigint();
  const paramsOn: ParametersOn = typeof params === 'function' ? params : () => params;
  const results = computeFunding(inputs, paramsOn);
  return { results, paramsOn, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) };
}

/** The figures of record a scenario is set against: block lines, income, and the parameter versions. */
export interface RecordContext {
  stored: StoredBlockLine[];
  income: IncomeOfRecord;
  recordOn: ParametersOn;
}

export async function loadRecordContext(db: EntityManager): Promise<RecordContext> {
  const [stored, income, versions] = await readAll(db, [
    () => readBlockLines(db),
    () => loadIncome(db),
    () => parameterVersions(db),
  ] as const);
  return { stored, income, recordOn: recordOn(versions) };
}
