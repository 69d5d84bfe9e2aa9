import { isAbsolute, resolve } from 'node:path';
import { StoreUrlInvalid } from '../../errors';

/** Where the KMS keeps keys and audit: the embedded SQLite file, or a PostgreSQL database replicas share. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; display: string };

/**
 * Reads `--store` / SKR_STORE: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (or postgresql://),
 * or `sqlite:PATH`; absent, the SQLite file in the state directory. `display` is the URL with
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
  const display = new URL(value);
  if (display.password) display.password = '***';
  return { kind: 'postgres', url: value, display: display.toString() };
}
