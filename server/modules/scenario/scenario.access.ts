/** Who may see and change scenarios: the Sub-Group and Finance model; a private scenario is its owner's (and Finance's). */
import { mayRun } from '../../auth/policy';
import { Role, Viewer } from '../../auth/roles';
import { Forbidden } from '../../errors';
import { Scenario, ScenarioState } from './scenario.entity';

export function canSee(viewer: Viewer, s: Scenario): boolean {
  if (viewer.role === Role.FINANCE || s.owner === viewer.subject) return true;
  return viewer.role === Role.SUBGROUP && s.state !== ScenarioState.PRIVATE;
}

/** The modellers are the policy table's (auth/policy.ts, Query.scenario); the words are the ones the add-in shows. */
export function requireModeller(viewer: Viewer): void {
  if (!mayRun(viewer, 'Query', 'scenario'))
    throw new Forbidden('Scenarios are for the High Needs Funding Sub-Group and Finance.');
}
