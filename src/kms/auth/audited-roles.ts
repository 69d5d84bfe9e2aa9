import type { AuditEntry, AuditLog } from '../audit';
import type { RoleAssignment, RoleAssignments } from './rbac';

/** Who changes the roles, and through what: the admin API (`admin`, its route) or the CLI (`operator:<uid>`). */
export type RoleChangeActor = Pick<AuditEntry, 'principal' | 'route' | 'source'> & { time: number };

const describe = (a: { principal: string; role: string; scope?: string; id?: string }) =>
  `principal=${a.principal} role=${a.role} scope=${a.scope ?? '/'}${a.id ? ` id=${a.id}` : ''}`;

/**
 * Grants a role and records it on the audit log in the same transaction of the role store: if
 * the entry cannot be committed the grant is undone (AuditUnavailable), so no role changes
 * unaudited.
 */
export function addRoleAudited(roles: RoleAssignments, audit: AuditLog, actor: RoleChangeActor, principal: string, role: string, scope?: string): RoleAssignment {
  return roles.transaction(() => {
    const added = roles.add(principal, role, scope);
    audit.record({ ...actor, operation: 'role.add', decision: 'allow', status: 201, detail: describe(added) });
    return added;
  });
}

/** Removes an assignment (by id, or principal + role + scope) and records it, as addRoleAudited; false when there was none (nothing recorded). */
export function removeRoleAudited(roles: RoleAssignments, audit: AuditLog, actor: RoleChangeActor, selector: { id: string } | { principal: string; role: string; scope?: string }): boolean {
  return roles.transaction(() => {
    const removed = 'id' in selector ? roles.list().find((a) => a.id === selector.id) : undefined;
    if (!roles.remove(selector)) return false;
    audit.record({ ...actor, operation: 'role.remove', decision: 'allow', status: 204, detail: describe(removed ?? (selector as { principal: string; role: string; scope?: string })) });
    return true;
  });
}
