import { registerEnumType } from 'type-graphql';

export enum Role {
  FINANCE = 'FINANCE',
  SUBGROUP = 'SUBGROUP',
  CHAIR = 'CHAIR',
  ANALYST = 'ANALYST',
}
registerEnumType(Role, {
  name: 'Role',
  description:
    'FINANCE: everything. SUBGROUP: read everything, scenarios, no writes of record. CHAIR: one community in full, ' +
    'proposes allocations for it. ANALYST: read only, small caseload counts suppressed.',
});

export const ROLES = Object.values(Role) as Role[];

export interface Viewer {
  /** Token label or JWT subject: who to name in the audit log. */
  subject: string;
  name: string;
  role: Role;
  /** The CHAIR's community; null for other roles. */
  communityCode: string | null;
  via: 'token' | 'jwt';
  /** The client the credential was issued to (hub token kind, or the OIDC azp/appid); decides the audit source. */
  client?: 'ADDIN' | 'API';
}

export function parseRole(value: unknown): Role | null {
  return typeof value === 'string' && (ROLES as string[]).includes(value.toUpperCase())
    ? (value.toUpperCase() as Role)
    : null;
}
