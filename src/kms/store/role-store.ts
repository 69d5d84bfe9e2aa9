/** One role assignment: `principal` holds `role` at `scope` ("/" the vault, "/keys/{name}" one key). */
export interface RoleAssignment {
  id: string;
  principal: string;
  role: string;
  scope: string;
  created: number;
}

/**
 * Where role assignments are kept — one contract, two backends: the SQLite key database (the
 * embedded default) and the PostgreSQL store replicas share, so a role granted or removed
 * through one replica holds at all of them. Values are stored as given (canonical forms are
 * the caller's, src/kms/auth/rbac.ts). A store that cannot be reached fails the call
 * (StoreUnavailable, 503).
 */
export interface RoleStore {
  /** How often, at most, `version` is worth asking: 0 when it is a local read, cheap enough for every request. */
  readonly versionCheckMs: number;
  /** A value that differs after any holder of the store (another process, another replica) changed an assignment. */
  version(): Promise<string>;
  find(principal: string, role: string, scope: string): Promise<RoleAssignment | undefined>;
  byId(id: string): Promise<RoleAssignment | undefined>;
  /** Every assignment (of `principal` when given), oldest first. */
  list(principal?: string): Promise<RoleAssignment[]>;
  /** Stores the assignment unless the principal holds that role at that scope already; returns the one stored. */
  insert(assignment: RoleAssignment): Promise<RoleAssignment>;
  removeById(id: string): Promise<boolean>;
  removeMatching(principal: string, role: string, scope: string): Promise<boolean>;
}
