import type { AuditEntry, AuditLog } from '../audit';
import type { RoleAssignment, RoleAssignments } from './rbac';
import { findRole, normaliseScope } from './roles';

/** Who changes the roles, and through what: the admin API (`admin`, its route) or the CLI (`operator:<uid>`). */
export type RoleChangeActor = Pick<AuditEntry, 'principal' | 'route' | 'source'> & { time: number };

const describe = (a: { principal: string; role: string; scope?: string; id?: string }) => `principal=${a.principal} role=${a.role} scope=${a.scope ?? '/'}${a.id ? ` id=${a.id}` : ''}`;

/**
 * Grants a role once its entry is committed on the audit log: if the entry cannot be committed
 * the grant is not made (AuditUnavailable), so no role changes unaudited. The log may be in
 * another database than the roles (PostgreSQL), so the entry comes first, as the intent entry
 * of a key change does.
 */
export async function addRoleAudited(roles: RoleAssignments, audit: AuditLog, actor: RoleChangeActor, principal: string, role: string, scope?: string): Promise<RoleAssignment> {
  const planned = await roles.prepare(principal, role, scope);
  await audit.record({ ...actor, operation: 'role.add', decision: 'allow', status: 201, detail: describe(planned) });
  return roles.add(principal, role, scope, planned.id);
}

/** Removes an assignment (by id, or principal + role + scope) once it is recorded, as addRoleAudited; false when there was none (nothing recorded). */
export async function removeRoleAudited(
  roles: RoleAssignments,
  audit: AuditLog,
  actor: RoleChangeActor,
  selector: { id: string } | { principal: string; role: string; scope?: string },
): Promise<boolean> {
  const target =
    'id' in selector ? await roles.byId(selector.id) : (await roles.list(selector.principal)).find((a) => a.role === findRole(selector.role)?.id && a.scope === normaliseScope(selector.scope));
  if (!target) return false;
  await audit.record({ ...actor, operation: 'role.remove', decision: 'allow', status: 204, detail: describe('id' in selector ? target : selector) });
  return roles.remove(selector);
}
