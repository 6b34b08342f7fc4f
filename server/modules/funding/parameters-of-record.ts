/**
 * The funding model's parameters of record: versions effective from a date, and the parameters in force on
 * any date (a scenario's changes go on top of them). Kept with the model so every module reads them one way.
 */
import type { EntityManager } from 'typeorm';
import type { ParametersOn } from './engine';
import { DEFAULT_MODEL_PARAMETERS, ModelParameters } from './model';
import { todayIso } from '../period/period.service';

export interface ParameterVersion {
  version: number;
  effectiveFrom: string;
  parameters: ModelParameters;
}

/** Every version of the parameters of record, oldest first. */
export async function parameterVersions(db: EntityManager): Promise<ParameterVersion[]> {
  const rows: { version: number; effectiveFrom: string; parameters: Partial<ModelParameters> }[] = await db.query(
    `SELECT version, effective_from::text AS "effectiveFrom", parameters FROM model_parameter_set ORDER BY effective_from, version`,
  );
  // Block parameters added after a version was stored take their defaults (say importExportRate, £6,000).
  return rows.map((r) => ({
    ...r,
    parameters: {
      ...DEFAULT_MODEL_PARAMETERS,
      ...r.parameters,
      block: { ...DEFAULT_MODEL_PARAMETERS.block, ...r.parameters.block },
    },
  }));
}

/** The parameters of record in force on any date: the latest version effective by then. */
export function recordOn(versions: ParameterVersion[]): ParametersOn {
  return (date) => {
    let found: ModelParameters = versions[0]?.parameters ?? DEFAULT_MODEL_PARAMETERS;
    for (const v of versions) if (v.effectiveFrom <= date) found = v.parameters;
    return found;
  };
}

/** A scenario applies its changes on top of whatever is of record on each date. */
export function scenarioOn(versions: ParameterVersion[], overrides: Partial<ModelParameters>): ParametersOn {
  const record = recordOn(versions);
  // One object per date: the model caches what it derives from a parameter set by the set's identity.
  const byDate = new Map<string, ModelParameters>();
  return (date) => byDate.get(date) ?? byDate.set(date, { ...record(date), ...overrides }).get(date)!;
}

/** The model parameters of record in force on a date (the latest version effective by then). */
export async function recordParameters(
  db: EntityManager,
  on = todayIso(),
): Promise<{ version: number; parameters: ModelParameters }> {
  const inForce = (await parameterVersions(db)).filter((v) => v.effectiveFrom <= on).at(-1);
  return inForce ?? { version: 0, parameters: DEFAULT_MODEL_PARAMETERS };
}
