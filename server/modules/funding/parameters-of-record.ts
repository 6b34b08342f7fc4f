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

/**
 * The version of record in force on a date: the latest effective by then, and of two effective the same day the
 * later version (parameterVersions lists them in that order). Null before the first version.
 */
export function versionOn(versions: ParameterVersion[], date: string): ParameterVersion | null {
  let found: ParameterVersion | null = null;
  for (const v of versions) if (v.effectiveFrom <= date) found = v;
  return found;
}

/** The parameters of record in force on any date (before the first version: the first version's). */
export function recordOn(versions: ParameterVersion[]): ParametersOn {
  return (date) => (versionOn(versions, date) ?? versions[0])?.parameters ?? DEFAULT_MODEL_PARAMETERS;
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
  return versionOn(await parameterVersions(db), on) ?? { version: 0, parameters: DEFAULT_MODEL_PARAMETERS };
}
