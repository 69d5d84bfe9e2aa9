import type { Action } from '../auth/roles';
import type { CryptoOperation } from '../crypto/perform';
import { runCryptoOperation } from '../operations/crypto';
import { keyId } from '../wire/bundle';
import { b64, bytes } from '../wire/bytes';
import type { KmsHttpContext } from './context';
import type { OperationMount } from './operation';
import { CRYPTO_PATHS, KMS_ROUTES as R, type CryptoPath } from './schemas';

/** The key_ops name of each of Key Vault's lower-case paths, and the permission it needs. */
const OPERATIONS: Record<CryptoPath, { op: CryptoOperation; action: Action }> = {
  encrypt: { op: 'encrypt', action: 'keys/encrypt' },
  decrypt: { op: 'decrypt', action: 'keys/decrypt' },
  wrapkey: { op: 'wrapKey', action: 'keys/wrap' },
  unwrapkey: { op: 'unwrapKey', action: 'keys/unwrap' },
  sign: { op: 'sign', action: 'keys/sign' },
  verify: { op: 'verify', action: 'keys/verify' },
};

/** encrypt, decrypt, wrapkey, unwrapkey, sign, verify — on a version or, without one, the latest. */
export function mountCryptoRoutes(ctx: KmsHttpContext, on: OperationMount): void {
  for (const path of CRYPTO_PATHS) {
    const { op, action } = OPERATIONS[path];
    for (const schema of [R[path], R[`${path}Version`]]) {
      on(schema, op, action, async ({ params, body }) => {
        const input = {
          alg: body.alg,
          value: bytes(body.value),
          // Only verify's schema has (and requires) a digest; another operation's is not read.
          ...(op === 'verify' ? { digest: bytes(body.digest) } : {}),
          iv: bytes(body.iv),
          aad: bytes(body.aad),
          tag: bytes(body.tag),
        };
        const version = 'version' in params ? params.version : undefined;
        const { version: used, output } = await runCryptoOperation(ctx.core, params.name, version, op, input);
        if (op === 'verify') return { body: { value: output.verified === true }, version: used.version };
        return {
          body: {
            kid: keyId(ctx.bundle.vaultUrl, used.name, used.version),
            value: b64(output.value!),
            ...(output.iv ? { iv: b64(output.iv) } : {}),
            ...(output.tag ? { tag: b64(output.tag) } : {}),
            ...(output.aad ? { aad: b64(output.aad) } : {}),
          },
          version: used.version,
        };
      });
    }
  }
}
