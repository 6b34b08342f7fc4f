/** Scenarios: find, list, create, change and lock them, each change audited. */
import type { EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { BadInput, Conflict, Forbidden, NotFound } from '../../errors';
import { writeAudit } from '../audit/audit.service';
import type { ModelParameters } from '../funding/model';
import { recordParameters } from '../funding/parameters-of-record';
import { loadPeriodCatalogue } from '../period/period.service';
import type { ModelParametersInput } from './scenario.inputs';
import { Scenario, ScenarioState } from './scenario.entity';
import { canSee, requireModeller } from './scenario.access';
import { toOverrides } from './scenario.overrides';

const SCENARIO_COLUMNS = `id, name, owner, owner_name AS "ownerName", state, base_parameter_version AS "baseParameterVersion",
  based_on_scenario_id AS "basedOnScenarioId", overrides, version, created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function findScenario(
  db: EntityManager,
  viewer: Viewer,
  id: string,
  lock = false,
): Promise<Scenario | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [row] = await db.query(`SELECT ${SCENARIO_COLUMNS} FROM scenario WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [
    id,
  ]);
  return row && canSee(viewer, row) ? row : null;
}

export async function listScenarios(db: EntityManager, viewer: Viewer): Promise<Scenario[]> {
  requireModeller(viewer);
  const rows: Scenario[] = await db.query(`SELECT ${SCENARIO_COLUMNS} FROM scenario ORDER BY updated_at DESC`);
  return rows.filter((s) => canSee(viewer, s));
}

export async function createScenario(
  db: EntityManager,
  viewer: Viewer,
  name: string,
  basedOn: string | null,
  source: 'ADDIN' | 'API',
): Promise<Scenario> {
  requireModeller(viewer);
  const clean = name.trim();
  if (!clean || clean.length > 120) throw new BadInput('A scenario name must be 1-120 characters.', 'name');
  return db.transaction(async (tx) => {
    let overrides: object = {};
    if (basedOn) {
      const base = await findScenario(tx, viewer, basedOn);
      if (!base) throw new NotFound(`No scenario "${basedOn}" that you can see.`);
      overrides = base.overrides;
    }
    const { version } = await recordParameters(tx);
    const [row] = await tx.query(
      `INSERT INTO scenario (name, owner, owner_name, state, base_parameter_version, based_on_scenario_id, overrides, version)
       VALUES ($1, $2, $3, 'PRIVATE', $4, $5, $6, 1) RETURNING ${SCENARIO_COLUMNS}`,
      [clean, viewer.subject, viewer.name, version, basedOn, JSON.stringify(overrides)],
    );
    await writeAudit(tx, { viewer, source }, [
      {
        entity: 'SCENARIO',
        entityId: row.id,
        action: 'CREATE',
        before: null,
        after: { name: clean, basedOn, overrides },
      },
    ]);
    return row;
  });
}

async function editable(
  tx: EntityManager,
  viewer: Viewer,
  id: string,
  baseVersion: number | null | undefined,
): Promise<Scenario> {
  requireModeller(viewer);
  const s = await findScenario(tx, viewer, id, true);
  if (!s) throw new NotFound(`No scenario "${id}" that you can see.`);
  if (s.owner !== viewer.subject && viewer.role !== Role.FINANCE)
    throw new Forbidden("Only the scenario's owner (or Finance) can change it.");
  if (baseVersion != null && baseVersion !== s.version) {
    throw new Conflict(
      `The scenario changed since you read it (you have version ${baseVersion}, it is at ${s.version}).`,
      { reason: 'STALE_VERSION', currentVersion: s.version },
    );
  }
  return s;
}

export async function updateScenarioParameters(
  db: EntityManager,
  viewer: Viewer,
  id: string,
  input: ModelParametersInput,
  baseVersion: number | null | undefined,
  source: 'ADDIN' | 'API',
): Promise<Scenario> {
  return db.transaction(async (tx) => {
    const s = await editable(tx, viewer, id, baseVersion);
    if (s.state === ScenarioState.LOCKED)
      throw new Conflict('The scenario is locked: copy it (createScenario with basedOn) to change it.', {
        reason: 'LOCKED',
      });
    const periods = await loadPeriodCatalogue(tx);
    const record = await recordParameters(tx);
    const current = { ...record.parameters, ...(s.overrides as Partial<ModelParameters>) };
    const overrides = { ...(s.overrides as object), ...toOverrides(input, periods, current) };
    // TypeORM answers UPDATE ... RETURNING with [rows, affected].
    const [[row]] = await tx.query(
      `UPDATE scenario SET overrides = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${SCENARIO_COLUMNS}`,
      [id, JSON.stringify(overrides)],
    );
    await writeAudit(tx, { viewer, source }, [
      { entity: 'SCENARIO', entityId: id, action: 'UPDATE', before: s.overrides, after: overrides },
    ]);
    return row;
  });
}

export async function setScenarioState(
  db: EntityManager,
  viewer: Viewer,
  id: string,
  state: ScenarioState,
  source: 'ADDIN' | 'API',
): Promise<Scenario> {
  return db.transaction(async (tx) => {
    const s = await editable(tx, viewer, id, null);
    if (s.state === ScenarioState.LOCKED && viewer.role !== Role.FINANCE)
      throw new Forbidden('Only Finance can unlock a locked scenario.');
    const [[row]] = await tx.query(
      `UPDATE scenario SET state = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${SCENARIO_COLUMNS}`,
      [id, state],
    );
    await writeAudit(tx, { viewer, source }, [
      { entity: 'SCENARIO', entityId: id, action: 'STATE', before: { state: s.state }, after: { state } },
    ]);
    return row;
  });
}
