import { openFileMasterKey } from './file-master-key';
import type { MasterKey } from './master-key';
import { openPkcs11MasterKey, type Pkcs11MasterKeyOptions } from './pkcs11-master-key';

export type { MasterKey } from './master-key';
export type { Pkcs11MasterKeyOptions } from './pkcs11-master-key';

/** Where the master key is held: a 0600 file (the embedded default) or a PKCS#11 token. */
export type MasterKeyConfig = { kind: 'file'; path: string } | ({ kind: 'pkcs11' } & Pkcs11MasterKeyOptions);

export function openMasterKey(config: MasterKeyConfig): Promise<MasterKey> {
  return config.kind === 'file' ? openFileMasterKey(config.path) : openPkcs11MasterKey(config);
}
