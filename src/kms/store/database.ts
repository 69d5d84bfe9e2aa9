import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { makePrivateSync } from '../../lib/state-file';

export type Db = Database.Database;

/** One schema step; `user_version` records how many have been applied. */
export type Migration = (db: Db) => void;

export interface OpenOptions {
  /** FULL: a commit is on disk before it is acknowledged (keys). NORMAL: survives a process crash, not power loss (audit). */
  synchronous: 'FULL' | 'NORMAL';
  migrations: Migration[];
}

/**
 * Every query is prepared once per connection: preparing costs more than running the small
 * lookups each request makes. (A statement is only unsafe to share while it is iterated, and
 * nothing iterates.)
 */
function cacheStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const statements = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = prepare(sql)));
    return statement;
  }) as Db['prepare'];
}

/**
 * Opens (creating) an SQLite database in WAL mode and brings its schema up to date. Each
 * migration runs in its own transaction together with the version bump, so a crash leaves
 * the schema at a step boundary. A database newer than this code is refused, not guessed at.
 */
export function openDatabase(path: string, options: OpenOptions): Db {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // SQLite creates the file 0644 and gives -wal and -shm the file's mode: make it 0600 first.
  makePrivateSync(path, [`${path}-wal`, `${path}-shm`]);
  const db = new Database(path);
  cacheStatements(db);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('foreign_keys = ON');
    // Other processes (the `skr kms role` CLI) write the same files; wait for them briefly.
    db.pragma('busy_timeout = 5000');
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > options.migrations.length) {
      throw new Error(`${path} has schema version ${current}, newer than this skr (${options.migrations.length})`);
    }
    options.migrations.slice(current).forEach((migrate, i) => {
      db.transaction(() => {
        migrate(db);
        db.pragma(`user_version = ${current + i + 1}`);
      }).immediate();
    });
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
