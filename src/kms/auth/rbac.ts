import { randomUUID } from 'node:crypto';
import { InvalidArgument, KmsForbidden } from '../../errors';
import type { Db } from '../store/database';
import { findRole, normaliseScope, objectScope, ROLES, type Action } from './roles';

export interface RoleAssignment {
  id: string;
  principal: string;
  role: string;
  scope: string;
  created: number;
}

/**
 * Role assignments (principal → role at vault or key scope) in the key store's database. A
 * principal's assignments are kept in memory until the database changes: SQLite's
 * data_version moves when another connection (the `skr kms role` CLI) commits, and this
 * connection's own changes clear the cache, so a change applies to a running KMS at once.
 * Deny by default: no assignment, no access.
 */
/** Principals whose assignments are kept; past it the cache starts over. */
const MAX_CACHED_PRINCIPALS = 1024;

export class RoleAssignments {
  private readonly cache = new Map<string, RoleAssignment[]>();
  private dataVersion = -1;

  constructor(private readonly db: Db) {}

  /**
   * The assignment `add` would store, validated and in canonical form, without storing it: the
   * existing one when the principal holds the role at that scope already, otherwise a new one.
   */
  prepare(principal: string, roleName: string, scopeText?: string): RoleAssignment {
    if (!principal.trim() || principal.length > 256) throw new InvalidArgument('principal must be a non-empty id of at most 256 characters');
    const role = findRole(roleName);
    if (!role) throw new InvalidArgument(`unknown role "${roleName}"; one of ${ROLES.map((r) => r.id).join(', ')}`);
    const scope = normaliseScope(scopeText);
    if (!scope) throw new InvalidArgument('scope must be "/" (the vault), "/keys/{name}" or "/secrets/{name}"');
    const existing = this.db.prepare('SELECT * FROM role_assignments WHERE principal = ? AND role = ? AND scope = ?').get(principal, role.id, scope) as RoleAssignment | undefined;
    return existing ?? { id: randomUUID(), principal, role: role.id, scope, created: Math.floor(Date.now() / 1000) };
  }

  /** Grants a role (idempotent: an existing assignment is returned as it is); a new assignment gets `id` when given. */
  add(principal: string, roleName: string, scopeText?: string, id?: string): RoleAssignment {
    const assignment = this.prepare(principal, roleName, scopeText);
    if (this.db.prepare('SELECT 1 FROM role_assignments WHERE id = ?').get(assignment.id)) return assignment;
    if (id) assignment.id = id;
    this.db.prepare('INSERT INTO role_assignments (id, principal, role, scope, created) VALUES (@id, @principal, @role, @scope, @created)').run(assignment);
    this.cache.clear();
    return assignment;
  }

  list(principal?: string): RoleAssignment[] {
    if (principal === undefined) return this.db.prepare('SELECT * FROM role_assignments ORDER BY rowid').all() as RoleAssignment[];
    const version = (this.db.prepare('PRAGMA data_version').get() as { data_version: number }).data_version;
    if (version !== this.dataVersion) {
      this.cache.clear();
      this.dataVersion = version;
    }
    let assignments = this.cache.get(principal);
    if (!assignments) {
      assignments = this.db.prepare('SELECT * FROM role_assignments WHERE principal = ? ORDER BY rowid').all(principal) as RoleAssignment[];
      if (this.cache.size >= MAX_CACHED_PRINCIPALS) this.cache.clear();
      this.cache.set(principal, assignments);
    }
    return assignments;
  }

  /** Removes by id, or by principal + role + scope; returns whether something was removed. */
  remove(selector: { id: string } | { principal: string; role: string; scope?: string }): boolean {
    this.cache.clear();
    if ('id' in selector) return this.db.prepare('DELETE FROM role_assignments WHERE id = ?').run(selector.id).changes > 0;
    const role = findRole(selector.role);
    const scope = normaliseScope(selector.scope);
    if (!role || !scope) return false;
    return this.db.prepare('DELETE FROM role_assignments WHERE principal = ? AND role = ? AND scope = ?').run(selector.principal, role.id, scope).changes > 0;
  }

  /**
   * Throws KmsForbidden unless one of the principal's roles grants `action` at the vault scope
   * or, for an operation on one key or secret, at its scope.
   */
  authorize(principal: string, action: Action, keyName?: string): void {
    const scopes = ['/', ...(keyName ? [objectScope(action, keyName)] : [])];
    const granted = this.list(principal).some(
      (a) => scopes.includes(a.scope.toLowerCase()) && (ROLES.find((r) => r.id === a.role)?.actions ?? []).includes(action),
    );
    if (!granted) {
      throw new KmsForbidden(`Caller is not authorized to perform action on resource. Action: '${action}' Scope: '${scopes[scopes.length - 1]}'`, {
        reason: 'rbac_denied',
        principal,
        action,
        scope: scopes[scopes.length - 1],
      });
    }
  }
}
