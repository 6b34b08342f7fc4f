import { GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { Forbidden } from '../errors';
import { Role, Viewer } from './roles';

const ALL = [Role.FINANCE, Role.SUBGROUP, Role.CHAIR, Role.ANALYST] as const;
const MODELLERS = [Role.FINANCE, Role.SUBGROUP] as const;
const FINANCE = [Role.FINANCE] as const;

/**
 * Who may do what: one rule per operation. `roles` may call it at all; `chair: 'own'` narrows a Chair to
 * their own community (checked where the community is known: the resolver, or the batch's rows). Anything
 * finer (a scenario's owner, a row's status) is a rule of the data, kept in its service, on top of this.
 */
export interface Rule {
  roles: readonly Role[] | 'public' | 'metrics';
  chair?: 'own';
  why: string;
  /** The refusal in full, where people already know its wording. */
  refusal?: (role: Role) => string;
}

/** Every Query and Mutation field. A test fails when a schema field has no entry. */
export const OPERATIONS: Record<string, Rule> = {
  'Query.me': { roles: ALL, why: 'who am I' },
  'Query.areas': { roles: ALL, why: 'geography is public information' },
  'Query.districts': { roles: ALL, why: 'geography is public information' },
  'Query.communities': { roles: ALL, why: 'the communities and their pots are shared with every school' },
  'Query.community': { roles: ALL, why: 'as communities' },
  'Query.schools': { roles: ALL, why: 'school funding is published; small caseload counts are suppressed by role' },
  'Query.school': { roles: ALL, why: 'as schools' },
  'Query.schoolsByUrn': { roles: ALL, why: 'as schools' },
  'Query.periods': { roles: ALL, why: 'reference data' },
  'Query.highNeedsBlock': { roles: ALL, why: 'the block budget is published to the Schools Funding Forum' },
  'Query.safetyValve': { roles: ALL, why: 'monitoring reports are published' },
  'Query.safetyValveMonitoringReport': { roles: ALL, why: 'as safetyValve' },
  'Query.caseloads': { roles: ALL, why: 'counts only, suppressed by role' },
  'Query.caseloadWorkers': { roles: ALL, why: 'pseudonymous codes' },
  'Query.allocations': {
    roles: ALL,
    why: 'allocations of record are shared; their history is not (Allocation.history)',
  },
  'Query.modelParameters': { roles: ALL, why: 'the model of record is public to everyone it funds' },
  'Query.modelParameterVersions': { roles: ALL, why: 'as modelParameters' },
  'Query.scenario': { roles: MODELLERS, why: "scenarios are the Sub-Group's and Finance's working space" },
  'Query.scenarios': { roles: MODELLERS, why: 'as scenario' },
  'Query.auditLog': { roles: FINANCE, why: 'names staff and token ids' },
  'Query.dataStatus': {
    roles: [Role.FINANCE, Role.SUBGROUP, Role.CHAIR],
    chair: 'own',
    why:
      'Finance loads the data and the Sub-Group models on it; a Chair sees what is missing for their own community only; it names ' +
      'the staff who loaded each file, so not analysts',
  },
  'Mutation.createScenario': { roles: MODELLERS, why: 'as scenario' },
  'Mutation.updateScenarioParameters': {
    roles: MODELLERS,
    why: 'as scenario; only its owner or Finance may change one',
  },
  'Mutation.setScenarioState': { roles: MODELLERS, why: 'as updateScenarioParameters; only Finance unlocks' },
  'Mutation.setModelParameters': { roles: FINANCE, why: 'changes the figures of record' },
  'Mutation.closeSchool': { roles: FINANCE, why: 'ends memberships and recomputes the figures of record' },
  'Mutation.createSafetyValveAgreementVersion': {
    roles: FINANCE,
    why: 'the agreement with the DfE is a figure of record',
  },
  'Mutation.setSafetyValvePlanYear': { roles: FINANCE, why: 'as createSafetyValveAgreementVersion' },
  'Mutation.recordSafetyValveReport': { roles: FINANCE, why: 'as createSafetyValveAgreementVersion' },
  'Mutation.recordSafetyValveInstalment': { roles: FINANCE, why: 'as createSafetyValveAgreementVersion' },
  'Mutation.recordSafetyValveKpi': { roles: FINANCE, why: 'as createSafetyValveAgreementVersion' },
  'Mutation.generatePeriods': { roles: FINANCE, why: 'periods are reference data every figure of record hangs on' },
  'Mutation.submitAllocations': {
    roles: [Role.FINANCE, Role.CHAIR],
    chair: 'own',
    why: 'Finance records allocations; a Chair proposes for their own community',
    refusal: (role) =>
      `A ${role} may not write allocations: Finance records them and Chairs propose them for their community.`,
  },
};

/** Fields below the root whose answer depends on the caller (resolved with `authorize` in their resolver). */
export const FIELDS: Record<string, Rule> = {
  'Allocation.history': {
    roles: [Role.FINANCE, Role.CHAIR],
    chair: 'own',
    why: "the audit log's rule: Finance; a Chair for their own community, without token ids",
  },
};

/** Actions reached by more than one door (HTTP, command line): one rule for all of them. */
export const ACTIONS: Record<string, Rule> = {
  import: {
    roles: FINANCE,
    why: 'imports change figures of record, which Finance keeps',
    refusal: (role) => `Only Finance may import: a ${role} may not (imports change figures of record).`,
  },
};

/** Every HTTP route, as Express matches it. A test walks the app's routes and fails when one has no entry. */
export const ROUTES: Record<string, Rule> = {
  'GET /healthz': { roles: 'public', why: 'load balancers probe it; it says only whether the database answers' },
  'GET /addin/*': { roles: 'public', why: "the add-in's own files: Office loads them before anyone signs in" },
  'GET /addin,/addin/*path': { roles: 'public', why: 'on a hub without the built add-in: how to build it' },
  'GET /metrics': { roles: 'metrics', why: 'METRICS_TOKEN, or the loopback METRICS_PORT' },
  'GET /auth/config': {
    roles: 'public',
    why: 'the add-in decides whether to offer sign-in before anyone is signed in',
  },
  'GET /graphql': { roles: 'public', why: 'the explorer page; queries sent by GET are authenticated as POST ones' },
  'POST /graphql': { roles: ALL, why: 'each field by OPERATIONS' },
  'GET /graphiql/*': { roles: 'public', why: "the explorer's static files" },
  'GET /export': { roles: ALL, why: 'the list of datasets' },
  'GET /export/:file': { roles: ALL, why: 'the same figures and suppression as GraphQL for the role' },
  'GET /import/templates/:file': { roles: ALL, why: 'blank templates' },
  'POST /import/gias': { roles: FINANCE, why: 'ACTIONS.import' },
  'POST /import/gias-links': { roles: FINANCE, why: 'ACTIONS.import' },
  'POST /import/:kind': { roles: FINANCE, why: 'ACTIONS.import' },
};

function allowed(rule: Rule, viewer: Viewer): boolean {
  return Array.isArray(rule.roles) && rule.roles.includes(viewer.role);
}

/**
 * Throws FORBIDDEN unless the rule lets the viewer in; with `communityCode`, a Chair bound to their own
 * community is let in only for it. Returns the rule so callers can ask what else applies.
 */
export function authorize(viewer: Viewer, rule: Rule, what: string, communityCode?: string | null): Rule {
  if (!allowed(rule, viewer))
    throw new Forbidden(rule.refusal?.(viewer.role) ?? `A ${viewer.role} may not ${what}: ${rule.why}.`);
  if (
    rule.chair === 'own' &&
    viewer.role === Role.CHAIR &&
    communityCode !== undefined &&
    communityCode !== viewer.communityCode
  ) {
    throw new Forbidden(`A Chair may ${what} only for their own community (${viewer.communityCode}).`);
  }
  return rule;
}

/** May the viewer run this root field? (The compiled read path asks before it plans, the resolvers on every call.) */
export function mayRun(viewer: Viewer, typeName: string, fieldName: string): boolean {
  const rule = OPERATIONS[`${typeName}.${fieldName}`];
  return Boolean(rule && allowed(rule, viewer));
}

/**
 * Puts OPERATIONS in front of every Query and Mutation resolver. A field without a rule is refused for
 * everyone (a new field is closed until someone writes down who may use it).
 */
export function enforceOperations(schema: GraphQLSchema): void {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values((type as GraphQLObjectType).getFields())) {
      const key = `${type.name}.${field.name}`;
      const inner = field.resolve as GraphQLFieldResolver<unknown, { viewer: Viewer }> | undefined;
      const rule: Rule = OPERATIONS[key] ?? { roles: [], why: 'no rule is written for it yet' };
      field.resolve = (source, args, ctx, info) => {
        authorize(ctx.viewer, rule, `use ${field.name}`);
        return inner ? inner(source, args, ctx, info) : (source as Record<string, unknown> | undefined)?.[field.name];
      };
    }
  }
}
