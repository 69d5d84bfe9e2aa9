import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway PostgreSQL cluster for a test file or a benchmark (no test framework here, so
 * bench/ imports it too): `initdb` and `pg_ctl` under a temporary
 * directory, listening on a free loopback port and a private socket directory, trusting local
 * connections (nothing but this machine's loopback reaches it). PostgreSQL refuses to run as
 * root, so under root (CI) the cluster belongs to the unprivileged `skr-test` account that
 * .ci/run creates, and its commands run through `setpriv`.
 */
const run = promisify(execFile);
const USER = 'skr-test';
const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin'];

/** Start-up runs initdb (a few seconds on a shared machine). */
export const POSTGRES_SETUP_TIMEOUT_MS = 120_000;

function binDir(): string | undefined {
  return BIN_DIRS.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

/** The account the cluster runs as: ourselves, or `skr-test` when we are root. */
function account(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return { uid: process.getuid!(), gid: process.getgid!() };
  try {
    return { uid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
}

/** Why PostgreSQL cannot run here, or undefined when it can. */
export function postgresProblem(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (!binDir()) return `initdb and pg_ctl are not in ${BIN_DIRS.join(', ')} (apt-get install postgresql)`;
  if (!account()) return `running as root needs the "${USER}" account to own the cluster (useradd --system --no-create-home ${USER})`;
  return undefined;
}

/** Whether PostgreSQL can run here (describePostgres runs its suites). */
export const postgresAvailable = (): boolean => postgresProblem() === undefined;

export interface PostgresCluster {
  /** postgres://USER@127.0.0.1:PORT/postgres — no password: the cluster trusts loopback. */
  url: string;
  port: number;
  /** A connection URL to another database of this cluster, created when absent. */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes the cluster's directory. */
  remove(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a new cluster; the caller removes it (afterAll). */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = binDir();
  const owner = account();
  if (!bin || !owner) throw new Error(`PostgreSQL cannot run here: ${postgresProblem()}`);
  const root = await mkdtemp(join(tmpdir(), 'skr-pg-'));
  await chown(root, owner.uid, owner.gid);
  const data = join(root, 'data');
  const sockets = root;
  const as = (command: string, args: string[]) =>
    process.getuid?.() === 0
      ? run('setpriv', ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--clear-groups', join(bin, command), ...args], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
        })
      : run(join(bin, command), args, { cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
  const user = process.getuid?.() === 0 ? USER : execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  await as('initdb', ['-D', data, '-U', user, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = async () => void (await as('pg_ctl', ['-D', data, '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', options, 'start']));
  const stop = async () => void (await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined));
  await start();
  const url = `postgres://${user}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    database: async (name) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name} must be a plain identifier`);
      const { stdout } = await as('psql', ['-h', sockets, '-p', String(port), '-U', user, '-d', 'postgres', '-tAc', `SELECT 1 FROM pg_database WHERE datname = '${name}'`]);
      if (stdout.trim() !== '1') await as('createdb', ['-h', sockets, '-p', String(port), '-U', user, name]);
      return `postgres://${user}@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    remove: async () => {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
