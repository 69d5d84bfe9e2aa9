import { encodeBase64Url } from '../../lib/base64url';
import { materialBytes, materialFromBytes } from '../keys/material';
import type { KeySnapshot } from '../store/key-store';
import { familyOf, type KeyVersion } from '../model';
import type { KmsCore } from './core';
import { openBackup, sealBackup } from './sealed-backup';

/**
 * A key backup is opaque to its holder: every version of a key with its material, attributes,
 * tags and release policy (and the key's rotation policy), in a sealed envelope
 * (sealed-backup.ts).
 */
interface SealedVersion {
  version: KeyVersion;
  material: string;
}

export async function backupKey(core: KmsCore, name: string): Promise<Buffer> {
  const snapshot = await core.store.snapshot(name);
  const plain = Buffer.from(
    JSON.stringify({
      name: snapshot.name,
      rotationPolicy: snapshot.rotationPolicy,
      versions: snapshot.versions.map((v): SealedVersion => ({ version: v.version, material: encodeBase64Url(materialBytes(v.material)) })),
    }),
  );
  return sealBackup(core, 'key', plain);
}

/** Restores a backup under its original name; a key of that name, live or deleted, is never overwritten. */
export async function restoreKey(core: KmsCore, blob: Buffer): Promise<KeyVersion> {
  const plain = await openBackup(core, 'key', blob);
  const content = JSON.parse(plain.toString('utf8')) as { name: string; rotationPolicy?: KeySnapshot['rotationPolicy']; versions: SealedVersion[] };
  plain.fill(0);
  const snapshot: KeySnapshot = {
    name: content.name,
    ...(content.rotationPolicy ? { rotationPolicy: content.rotationPolicy } : {}),
    versions: content.versions.map((v) => ({ version: v.version, material: materialFromBytes(familyOf(v.version.kty), Buffer.from(v.material, 'base64url')) })),
  };
  return core.store.restore(snapshot, core.now());
}
