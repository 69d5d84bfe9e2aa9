import { KmsForbidden } from '../../errors';
import { performCrypto, type CryptoInput, type CryptoOperation, type CryptoOutput } from '../crypto/perform';
import type { KeyVersion } from '../model';
import type { KmsCore } from './core';

/** Key Vault refuses operations on a disabled key, outside nbf..exp, or not in key_ops. */
export function checkUsable(version: KeyVersion, op: string, now: number): void {
  const { enabled, nbf, exp } = version.attributes;
  if (!enabled) throw new KmsForbidden(`Operation ${op} is not allowed on a disabled key`, { reason: 'key_disabled' });
  if (nbf !== undefined && now < nbf) throw new KmsForbidden(`Operation ${op} is not allowed before the key's nbf`, { reason: 'key_not_yet_valid', nbf });
  if (exp !== undefined && now >= exp) throw new KmsForbidden(`Operation ${op} is not allowed on an expired key`, { reason: 'key_expired', exp });
}

/** encrypt, decrypt, wrapKey, unwrapKey, sign or verify with one key version (the latest when absent). */
export async function runCryptoOperation(core: KmsCore, name: string, version: string | undefined, op: CryptoOperation, input: CryptoInput): Promise<{ version: KeyVersion; output: CryptoOutput }> {
  const { version: key, material } = await core.store.getWithMaterial(name, version);
  checkUsable(key, op, core.now());
  if (!key.keyOps.includes(op)) throw new KmsForbidden(`Operation ${op} is not permitted by this key's key_ops`, { reason: 'operation_not_permitted', keyOps: key.keyOps });
  return { version: key, output: await performCrypto(op, material, key.publicJwk, input) };
}
