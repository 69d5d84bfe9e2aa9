import { randomUUID } from 'node:crypto';
import { InvalidArgument, KmsForbidden } from '../../errors';
import type { RoleAssignment, RoleStore } from '../store/role-store';
import { findRole, normaliseScope, objectScope, ROLES, type Action } from './roles';

export type { RoleAssignment } from '../store/role-store';

/** Principals whose assignments are kept; past it the cache starts over. */
const MAX_CACHED_PRINCIPALS = 1024;

/**
 * Role assignments (principal → role at vault or key scope) in the key store. A principal's
 * assignments are kept in memory until the store's version moves: this process's own changes
 * clear the cache at once; another's (the `skr kms role` CLI, another replica) are seen at the
 * next version check — on every request for SQLite, at most `versionCheckMs` later for
 * PostgreSQL (1 s: a role removed at one replica is refused at the others within it). A
 * version that cannot be read fails the request (503). Deny by default: no assignment, no access.
 */
export class RoleAssignments {
  private readonly cache = new Map<string, RoleAssignment[]>();
  private version: string | undefined;
  private checkedAt = 0;
  /** Bumped on every clear: a read that started before it must not refill the cache with what it found. */
  private generation = 0;

  constructor(
    private readonly store: RoleStore,
    private readonly clock: () => number = Date.now,
  ) {}

  private clear(): void {
    this.cache.clear();
    this.generation++;
  }

  /** Clears the cache when the store's version moved; asks at most every `versionCheckMs`. */
  private async revalidate(): Promise<void> {
    const now = this.clock();
    if (this.version !== undefined && now - this.checkedAt < this.store.versionCheckMs) return;
    const version = await this.store.version();
    this.checkedAt = now;
    if (version !== this.version) {
      this.clear();
      this.version = version;
    }
  }

  /**
   * The assignment `add` would store, validated and in canonical form, without storing it: the
   * existing one when the principal holds the role at that scope already, otherwise a new one.
   */
  async prepare(principal: string, roleName: string, scopeText?: string): Promise<RoleAssignment> {
    if (!principal.trim() || principal.length > 256) throw new InvalidArgument('principal must be a non-empty id of at most 256 characters');
    const role = findRole(roleName);
    if (!role) throw new InvalidArgument(`unknown role "${roleName}"; one of ${ROLES.map((r) => r.id).join(', ')}`);
    const scope = normaliseScope(scopeText);
    if (!scope) throw new InvalidArgument('scope must be "/" (the vault), "/keys/{name}" or "/secrets/{name}"');
    return (await this.store.find(principal, role.id, scope)) ?? { id: randomUUID(), principal, role: role.id, scope, created: Math.floor(Date.now() / 1000) };
  }

  /** Grants a role (idempotent: an existing assignment is returned as it is); a new assignment gets `id` when given. */
  async add(principal: string, roleName: string, scopeText?: string, id?: string): Promise<RoleAssignment> {
    const assignment = await this.prepare(principal, roleName, scopeText);
    if (await this.store.byId(assignment.id)) return assignment;
    if (id) assignment.id = id;
    try {
      return await this.store.insert(assignment);
    } finally {
      this.clear();
    }
  }

  /** The assignment with this id, if any. */
  byId(id: string): Promise<RoleAssignment | undefined> {
    return this.store.byId(id);
  }

  async list(principal?: string): Promise<RoleAssignment[]> {
    if (principal === undefined) return this.store.list();
    await this.revalidate();
    let assignments = this.cache.get(principal);
    if (!assignments) {
      const generation = this.generation;
      assignments = await this.store.list(principal);
      if (generation === this.generation) {
        if (this.cache.size >= MAX_CACHED_PRINCIPALS) this.clear();
        this.cache.set(principal, assignments);
      }
    }
    return assignments;
  }

  /** Removes by id, or by principal + role + scope; returns whether something was removed. */
  async remove(selector: { id: string } | { principal: string; role: string; scope?: string }): Promise<boolean> {
    this.clear();
    try {
      if ('id' in selector) return await this.store.removeById(selector.id);
      const role = findRole(selector.role);
      const scope = normaliseScope(selector.scope);
      if (!role || !scope) return false;
      return await this.store.removeMatching(selector.principal, role.id, scope);
    } finally {
      // A read that overlapped the removal may have refilled the cache with the old assignments.
      this.clear();
    }
  }

  /**
   * Throws KmsForbidden unless one of the principal's roles grants `action` at the vault scope
   * or, for an operation on one key or secret, at its scope.
   */
  async authorize(principal: string, action: Action, keyName?: string): Promise<void> {
    const scopes = ['/', ...(keyName ? [objectScope(action, keyName)] : [])];
    const granted = (await this.list(principal)).some((a) => scopes.includes(a.scope.toLowerCase()) && (ROLES.find((r) => r.id === a.role)?.actions ?? []).includes(action));
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
