import { dirname, join, resolve } from 'node:path';
import { InvalidArgument } from '../errors';
import { kmsPaths, migrateSqliteToPostgres, parseStoreLocation, PostgresDatabase } from '../kms';
import { parseFlags } from './args';
import { privateStateDirFrom } from './state-dir';

const MIGRATE_FLAGS = {
  'state-dir': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
} as const;

const USAGE = 'usage: skr kms migrate --to postgres://USER@HOST:PORT/DB [--from sqlite:PATH] [--state-dir D]';

/**
 * `skr kms migrate --from sqlite:PATH --to postgres://…`: moves a single-node KMS into a
 * PostgreSQL database its replicas will share — keys, versions (sealed material as it is: the
 * master key stays the state directory's), deleted keys, rotation policies, secrets, role
 * assignments and the audit log with its hash chain — in one transaction, into an empty target
 * only (all or nothing: a failed run leaves the target as it was, and can be run again). PATH is
 * the key database (`<state-dir>/kms/keys.sqlite` by default); the audit log is the
 * `audit.sqlite` beside it.
 */
export async function kmsMigrate(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, MIGRATE_FLAGS);
  const stateDir = await privateStateDirFrom(flags['state-dir'] as string | undefined);
  const paths = kmsPaths(stateDir);
  const from = parseStoreLocation((flags.from as string | undefined) ?? `sqlite:${paths.keys}`, paths.keys);
  if (from.kind !== 'sqlite') throw new InvalidArgument(`--from must be sqlite:PATH; ${USAGE}`);
  const toFlag = flags.to as string | undefined;
  if (!toFlag) throw new InvalidArgument(USAGE);
  const to = parseStoreLocation(toFlag, paths.keys);
  if (to.kind !== 'postgres') throw new InvalidArgument(`--to must be a postgres:// URL; ${USAGE}`);
  const files = { keys: from.path, audit: from.path === resolve(paths.keys) ? paths.audit : join(dirname(from.path), 'audit.sqlite') };
  const target = new PostgresDatabase(to, 'skr kms migrate');
  try {
    const copied = await migrateSqliteToPostgres(files, target);
    return { migrated: { from: `sqlite:${from.path}`, to: to.display, ...copied } };
  } finally {
    await target.close();
  }
}
