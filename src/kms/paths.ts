import { join } from 'node:path';
import { openDatabase, type Db } from './store/database';
import { KEY_STORE_MIGRATIONS } from './store/migrations';

/** Where the KMS keeps its state under a state directory. */
export function kmsPaths(stateDir: string) {
  const dir = join(stateDir, 'kms');
  return {
    dir,
    keys: join(dir, 'keys.sqlite'),
    audit: join(dir, 'audit.sqlite'),
    masterKey: join(dir, 'master.key'),
    tlsDir: join(dir, 'tls'),
    caCert: join(dir, 'tls', 'ca.pem'),
    adminToken: join(dir, 'admin-token'),
  };
}

/** The key store database: WAL, synchronous=FULL, migrated. Also what `skr kms role` opens. */
export function openKeyDatabase(stateDir: string): Db {
  return openDatabase(kmsPaths(stateDir).keys, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
}
