import { KmsBadParameter, SealedDataInvalid } from '../../errors';
import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';
import { materialBytes, materialFromBytes } from '../keys/material';
import type { KeySnapshot } from '../store/key-store';
import { familyOf, type KeyVersion } from '../model';
import type { KmsCore } from './core';

/**
 * A backup is opaque to its holder: every version of a key with its material, attributes,
 * tags and release policy (and the key's rotation policy), sealed with AES-256-GCM under the
 * master key. It names the master key it needs, so restoring into a KMS with another master
 * key fails with a clear reason rather than a bare authentication error.
 */
const FORMAT = 'skr-kms-backup';
const AAD = Buffer.from('skr-kms key backup v1');

interface Envelope {
  format: typeof FORMAT;
  v: 1;
  masterKeyId: string;
  sealed: string;
}

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
  try {
    const envelope: Envelope = { format: FORMAT, v: 1, masterKeyId: core.master.id, sealed: encodeBase64Url(await core.master.seal(plain, AAD)) };
    return Buffer.from(JSON.stringify(envelope));
  } finally {
    plain.fill(0);
  }
}

function parseEnvelope(blob: Buffer): Envelope {
  try {
    const envelope = JSON.parse(blob.toString('utf8')) as Envelope;
    if (envelope.format === FORMAT && envelope.v === 1 && typeof envelope.masterKeyId === 'string' && typeof envelope.sealed === 'string') return envelope;
  } catch {
    // fall through to the refusal below
  }
  throw new KmsBadParameter('the value is not a key backup made by this kind of KMS');
}

/** Restores a backup under its original name; a key of that name, live or deleted, is never overwritten. */
export async function restoreKey(core: KmsCore, blob: Buffer): Promise<KeyVersion> {
  const envelope = parseEnvelope(blob);
  if (envelope.masterKeyId !== core.master.id) {
    throw new SealedDataInvalid('the backup was made by a KMS holding another master key and cannot be restored here', { expected: envelope.masterKeyId });
  }
  const sealed = decodeBase64Url(envelope.sealed);
  if (!sealed) throw new KmsBadParameter('the key backup is corrupt');
  const plain = await core.master.open(sealed, AAD);
  const content = JSON.parse(plain.toString('utf8')) as { name: string; rotationPolicy?: KeySnapshot['rotationPolicy']; versions: SealedVersion[] };
  plain.fill(0);
  const snapshot: KeySnapshot = {
    name: content.name,
    ...(content.rotationPolicy ? { rotationPolicy: content.rotationPolicy } : {}),
    versions: content.versions.map((v) => ({ version: v.version, material: materialFromBytes(familyOf(v.version.kty), Buffer.from(v.material, 'base64url')) })),
  };
  return core.store.restore(snapshot, core.now());
}
