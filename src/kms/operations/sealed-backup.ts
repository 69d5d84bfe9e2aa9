import { KmsBadParameter, SealedDataInvalid } from '../../errors';
import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';
import type { KmsCore } from './core';

/**
 * The envelope of a backup blob, keys' and secrets' alike: the content sealed with AES-256-GCM
 * under the master key, with an AAD naming what it holds (a secret backup never restores as a
 * key, nor the reverse). It names the master key it needs, so restoring into a KMS with another
 * master key fails with a clear reason rather than a bare authentication error.
 */
export type BackupKind = 'key' | 'secret';

const FORMATS: Record<BackupKind, { format: string; aad: Buffer }> = {
  key: { format: 'skr-kms-backup', aad: Buffer.from('skr-kms key backup v1') },
  secret: { format: 'skr-kms-secret-backup', aad: Buffer.from('skr-kms secret backup v1') },
};

interface Envelope {
  format: string;
  v: 1;
  masterKeyId: string;
  sealed: string;
}

/** Seals `plain` (then zeroes it) into a blob only this vault's master key opens. */
export async function sealBackup(core: KmsCore, kind: BackupKind, plain: Buffer): Promise<Buffer> {
  const { format, aad } = FORMATS[kind];
  try {
    const envelope: Envelope = { format, v: 1, masterKeyId: core.master.id, sealed: encodeBase64Url(await core.master.seal(plain, aad)) };
    return Buffer.from(JSON.stringify(envelope));
  } finally {
    plain.fill(0);
  }
}

function parseEnvelope(kind: BackupKind, blob: Buffer): Envelope {
  try {
    const envelope = JSON.parse(blob.toString('utf8')) as Envelope;
    if (envelope.format === FORMATS[kind].format && envelope.v === 1 && typeof envelope.masterKeyId === 'string' && typeof envelope.sealed === 'string') return envelope;
  } catch {
    // fall through to the refusal below
  }
  throw new KmsBadParameter(`the value is not a ${kind} backup made by this kind of KMS`);
}

/** Opens a blob `sealBackup` made for `kind` under this vault's master key; the caller zeroes the result. */
export async function openBackup(core: KmsCore, kind: BackupKind, blob: Buffer): Promise<Buffer> {
  const envelope = parseEnvelope(kind, blob);
  if (envelope.masterKeyId !== core.master.id) {
    throw new SealedDataInvalid('the backup was made by a KMS holding another master key and cannot be restored here', { expected: envelope.masterKeyId });
  }
  const sealed = decodeBase64Url(envelope.sealed);
  if (!sealed) throw new KmsBadParameter(`the ${kind} backup is corrupt`);
  return core.master.open(sealed, FORMATS[kind].aad);
}
