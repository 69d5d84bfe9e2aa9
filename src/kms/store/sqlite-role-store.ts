import type { Db } from './database';
import type { RoleAssignment, RoleStore } from './role-store';

/**
 * Role assignments in the SQLite key database (its `role_assignments` table). The version is
 * SQLite's data_version, which moves when another connection (the `skr kms role` CLI) commits,
 * with a count of this connection's own changes, which data_version does not see.
 */
export class SqliteRoleStore implements RoleStore {
  readonly versionCheckMs = 0;
  private ownChanges = 0;

  constructor(private readonly db: Db) {}

  version(): Promise<string> {
    const { data_version } = this.db.prepare('PRAGMA data_version').get() as { data_version: number };
    return Promise.resolve(`${data_version}.${this.ownChanges}`);
  }

  find(principal: string, role: string, scope: string): Promise<RoleAssignment | undefined> {
    return Promise.resolve(this.db.prepare('SELECT * FROM role_assignments WHERE principal = ? AND role = ? AND scope = ?').get(principal, role, scope) as RoleAssignment | undefined);
  }

  byId(id: string): Promise<RoleAssignment | undefined> {
    return Promise.resolve(this.db.prepare('SELECT * FROM role_assignments WHERE id = ?').get(id) as RoleAssignment | undefined);
  }

  list(principal?: string): Promise<RoleAssignment[]> {
    const rows =
      principal === undefined
        ? this.db.prepare('SELECT * FROM role_assignments ORDER BY rowid').all()
        : this.db.prepare('SELECT * FROM role_assignments WHERE principal = ? ORDER BY rowid').all(principal);
    return Promise.resolve(rows as RoleAssignment[]);
  }

  insert(assignment: RoleAssignment): Promise<RoleAssignment> {
    const inserted =
      this.db.prepare('INSERT INTO role_assignments (id, principal, role, scope, created) VALUES (@id, @principal, @role, @scope, @created) ON CONFLICT DO NOTHING').run(assignment).changes > 0;
    if (inserted) {
      this.ownChanges++;
      return Promise.resolve(assignment);
    }
    return this.find(assignment.principal, assignment.role, assignment.scope).then((found) => found ?? assignment);
  }

  removeById(id: string): Promise<boolean> {
    return Promise.resolve(this.changed(this.db.prepare('DELETE FROM role_assignments WHERE id = ?').run(id).changes));
  }

  removeMatching(principal: string, role: string, scope: string): Promise<boolean> {
    return Promise.resolve(this.changed(this.db.prepare('DELETE FROM role_assignments WHERE principal = ? AND role = ? AND scope = ?').run(principal, role, scope).changes));
  }

  private changed(rows: number): boolean {
    if (rows > 0) this.ownChanges++;
    return rows > 0;
  }
}
