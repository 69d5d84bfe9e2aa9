import { openFileMasterKey } from './file-master-key';
import type { MasterKey } from './master-key';
import { openPkcs11MasterKey, type Pkcs11MasterKeyOptions } from './pkcs11-master-key';
import { openReleasedMasterKey, type ReleasedMasterKeyOptions } from './released-master-key';

export type { MasterKey } from './master-key';
export type { Pkcs11MasterKeyOptions } from './pkcs11-master-key';
export type { ReleasedMasterKeyOptions } from './released-master-key';

/**
 * Where the master key is held: a 0600 file (the embedded default), a PKCS#11 token (on-premises
 * HSMs), or released into the TEE at start and kept in memory (confidential containers).
 */
export type MasterKeyConfig = { kind: 'file'; path: string } | ({ kind: 'pkcs11' } & Pkcs11MasterKeyOptions) | ({ kind: 'released' } & ReleasedMasterKeyOptions);

export function openMasterKey(config: MasterKeyConfig): Promise<MasterKey> {
  switch (config.kind) {
    case 'file':
      return openFileMasterKey(config.path);
    case 'pkcs11':
      return openPkcs11MasterKey(config);
    case 'released':
      return openReleasedMasterKey(config);
  }
}
