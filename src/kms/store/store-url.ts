import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { StoreUrlInvalid } from '../../errors';

/** Where the KMS keeps keys and audit: the embedded SQLite file, or a PostgreSQL database replicas share. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; display: string };

/**
 * Reads `--store` / SKR_STORE: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (or postgresql://),
 * optionally `?sslmode=disable|require|verify-ca|verify-full[&sslrootcert=CA.pem]`, or `sqlite:PATH`; absent, the SQLite file in the state directory. `display` is the URL with
 * any password replaced by `***` — the only form that may be logged; errors never echo the value.
 */
export function parseStoreLocation(value: string | undefined, defaultSqlitePath: string): StoreLocation {
  if (value === undefined || value === '') return { kind: 'sqlite', path: defaultSqlitePath };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (!path) throw new StoreUrlInvalid('sqlite: needs a file path (sqlite:/var/lib/skr/keys.sqlite)');
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(path) };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StoreUrlInvalid('not a URL: give postgres://USER@HOST:PORT/DB or sqlite:PATH');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new StoreUrlInvalid(`the scheme ${url.protocol} is not postgres: or sqlite:`);
  if (!url.hostname) throw new StoreUrlInvalid('the PostgreSQL URL names no host');
  if (!url.username) throw new StoreUrlInvalid('the PostgreSQL URL names no user');
  if (url.pathname.length <= 1) throw new StoreUrlInvalid('the PostgreSQL URL names no database (postgres://USER@HOST:PORT/DB)');
  tlsOf(url);
  const display = new URL(value);
  if (display.password) display.password = '***';
  return { kind: 'postgres', url: value, display: display.toString() };
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** How the KMS speaks TLS to PostgreSQL, from the URL's libpq-style `sslmode` and `sslrootcert`. */
export interface PostgresTls {
  /** false: plain TCP (no sslmode, `disable`, or `prefer`, which node-postgres cannot fall back from). */
  enabled: boolean;
  /** The CA file the server's certificate must chain to; absent, Node's trusted roots (and NODE_EXTRA_CA_CERTS). */
  caFile?: string;
}

/**
 * Reads `sslmode` and `sslrootcert`. Every TLS mode verifies the server's certificate and name,
 * `require` included (libpq's `require` checks neither; a KMS sending its store credentials
 * must not be open to a man in the middle): deny by default.
 */
export function tlsOf(url: URL): PostgresTls {
  const mode = url.searchParams.get('sslmode') ?? 'disable';
  if (!(SSL_MODES as readonly string[]).includes(mode)) throw new StoreUrlInvalid(`sslmode must be one of ${SSL_MODES.join(', ')}`);
  const caFile = url.searchParams.get('sslrootcert') ?? undefined;
  if (mode === 'disable' || mode === 'prefer') {
    if (caFile !== undefined) throw new StoreUrlInvalid('sslrootcert needs sslmode=verify-full (or require, verify-ca)');
    return { enabled: false };
  }
  if (caFile === '') throw new StoreUrlInvalid('sslrootcert names no file');
  return { enabled: true, ...(caFile === undefined ? {} : { caFile: isAbsolute(caFile) ? caFile : resolve(caFile) }) };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new StoreUrlInvalid('the sslrootcert file cannot be read');
  }
}

/**
 * What node-postgres is given for a store URL: the URL without the TLS parameters (which it
 * would otherwise interpret itself), and its `ssl` options — certificate and host name checked,
 * against the CA file when one is named.
 */
export function postgresConnection(value: string): { connectionString: string; ssl: false | { rejectUnauthorized: true; ca?: string } } {
  const url = new URL(value);
  const tls = tlsOf(url);
  for (const name of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey']) url.searchParams.delete(name);
  if (!tls.enabled) return { connectionString: url.toString(), ssl: false };
  return { connectionString: url.toString(), ssl: { rejectUnauthorized: true, ...(tls.caFile ? { ca: readCa(tls.caFile) } : {}) } };
}
