import type { RoleAssignment, RoleStore } from '../role-store';
import type { PostgresDatabase, PgMigration, Query } from './database';

/**
 * The role assignments' PostgreSQL schema (its own component, `roles`): the assignments, and
 * `role_changes`, one row whose counter every change bumps in the change's own transaction —
 * the version a replica compares to know its cached assignments are stale. Never edit a
 * released step, append a new one.
 */
export const PG_ROLE_MIGRATIONS: PgMigration[] = [
  async (query) => {
    await query(`CREATE TABLE role_assignments (
      id TEXT PRIMARY KEY,
      seq BIGSERIAL NOT NULL,
      principal TEXT NOT NULL,
      role TEXT NOT NULL,
      scope TEXT NOT NULL,
      created BIGINT NOT NULL,
      UNIQUE (principal, role, scope)
    )`);
    await query('CREATE INDEX role_assignments_by_principal ON role_assignments (principal, seq)');
    await query('CREATE TABLE role_changes (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)');
    await query('INSERT INTO role_changes (id, version) VALUES (1, 0)');
  },
];

const COLUMNS = 'id, principal, role, scope, created';
const BUMP = 'UPDATE role_changes SET version = version + 1 WHERE id = 1';

/**
 * How often a replica asks whether any replica changed the roles: a role removed at one replica
 * is refused at every other within this (plus the request in flight), well inside the 5 s the
 * replica contract allows (README, "KMS on PostgreSQL, as replicas").
 */
export const ROLE_VERSION_CHECK_MS = 1000;

/** Role assignments in the PostgreSQL store replicas share; every change and its version bump commit together. */
export class PostgresRoleStore implements RoleStore {
  readonly versionCheckMs = ROLE_VERSION_CHECK_MS;

  private constructor(private readonly db: PostgresDatabase) {}

  /** Migrates the schema (once across replicas) and returns the store. */
  static async open(db: PostgresDatabase): Promise<PostgresRoleStore> {
    await db.migrate('roles', PG_ROLE_MIGRATIONS);
    return new PostgresRoleStore(db);
  }

  async version(): Promise<string> {
    const [row] = await this.db.query<{ version: number }>('SELECT version FROM role_changes WHERE id = 1');
    return String(row?.version ?? 0);
  }

  async find(principal: string, role: string, scope: string): Promise<RoleAssignment | undefined> {
    return (await this.db.query<RoleAssignment>(`SELECT ${COLUMNS} FROM role_assignments WHERE principal = $1 AND role = $2 AND scope = $3`, [principal, role, scope]))[0];
  }

  async byId(id: string): Promise<RoleAssignment | undefined> {
    return (await this.db.query<RoleAssignment>(`SELECT ${COLUMNS} FROM role_assignments WHERE id = $1`, [id]))[0];
  }

  list(principal?: string): Promise<RoleAssignment[]> {
    if (principal === undefined) return this.db.query<RoleAssignment>(`SELECT ${COLUMNS} FROM role_assignments ORDER BY seq`);
    return this.db.query<RoleAssignment>(`SELECT ${COLUMNS} FROM role_assignments WHERE principal = $1 ORDER BY seq`, [principal]);
  }

  insert(a: RoleAssignment): Promise<RoleAssignment> {
    return this.db.transaction(async (q) => {
      const added = await q<RoleAssignment>(`INSERT INTO role_assignments (${COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal, role, scope) DO NOTHING RETURNING ${COLUMNS}`, [
        a.id,
        a.principal,
        a.role,
        a.scope,
        a.created,
      ]);
      if (added[0]) {
        await q(BUMP);
        return added[0];
      }
      // Granted meanwhile (another replica, the same start-up grant): the stored one stands.
      return (await q<RoleAssignment>(`SELECT ${COLUMNS} FROM role_assignments WHERE principal = $1 AND role = $2 AND scope = $3`, [a.principal, a.role, a.scope]))[0] ?? a;
    });
  }

  removeById(id: string): Promise<boolean> {
    return this.remove((q) => q('DELETE FROM role_assignments WHERE id = $1 RETURNING id', [id]));
  }

  removeMatching(principal: string, role: string, scope: string): Promise<boolean> {
    return this.remove((q) => q('DELETE FROM role_assignments WHERE principal = $1 AND role = $2 AND scope = $3 RETURNING id', [principal, role, scope]));
  }

  private remove(run: (q: Query) => Promise<unknown[]>): Promise<boolean> {
    return this.db.transaction(async (q) => {
      const removed = (await run(q)).length > 0;
      if (removed) await q(BUMP);
      return removed;
    });
  }
}
