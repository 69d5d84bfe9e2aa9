import { Router, type Request } from 'express';
import { KmsBadParameter } from '../../errors';
import type { Action } from '../auth/roles';
import type { CryptoInput, CryptoOperation } from '../crypto/perform';
import { runCryptoOperation } from '../operations/crypto';
import { keyId } from '../wire/bundle';
import { b64, body, optionalBytes, requiredBytes, requiredString } from '../wire/fields';
import type { KmsHttpContext } from './context';
import { operation } from './operation';

/** Key Vault's lower-case paths, the key_ops names and the permissions they need. */
const OPERATIONS: { path: string; op: CryptoOperation; action: Action }[] = [
  { path: 'encrypt', op: 'encrypt', action: 'keys/encrypt' },
  { path: 'decrypt', op: 'decrypt', action: 'keys/decrypt' },
  { path: 'wrapkey', op: 'wrapKey', action: 'keys/wrap' },
  { path: 'unwrapkey', op: 'unwrapKey', action: 'keys/unwrap' },
  { path: 'sign', op: 'sign', action: 'keys/sign' },
  { path: 'verify', op: 'verify', action: 'keys/verify' },
];

function parseInput(op: CryptoOperation, req: Request): CryptoInput {
  const b = body(req.body);
  const value = requiredBytes(b, 'value');
  // There is no empty key to wrap, and an empty wrapped key carries no integrity check: AES key
  // wrap would "unwrap" it to an empty key without verifying anything.
  if ((op === 'wrapKey' || op === 'unwrapKey') && value.length === 0) throw new KmsBadParameter(`value is required: ${op} takes a non-empty key`);
  return {
    alg: requiredString(b, 'alg'),
    value,
    ...(op === 'verify' ? { digest: requiredBytes(b, 'digest') } : {}),
    iv: optionalBytes(b, 'iv'),
    aad: optionalBytes(b, 'aad'),
    tag: optionalBytes(b, 'tag'),
  };
}

/** encrypt, decrypt, wrapkey, unwrapkey, sign, verify — on a version or, without one, the latest. */
export function cryptoRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  for (const { path, op, action } of OPERATIONS) {
    const handler = operation(ctx, op, action, async (req) => {
      const { version, output } = await runCryptoOperation(ctx.core, req.params.name as string, req.params.version as string | undefined, op, parseInput(op, req));
      if (op === 'verify') return { body: { value: output.verified === true }, version: version.version };
      return {
        body: {
          kid: keyId(ctx.bundle.vaultUrl, version.name, version.version),
          value: b64(output.value!),
          ...(output.iv ? { iv: b64(output.iv) } : {}),
          ...(output.tag ? { tag: b64(output.tag) } : {}),
          ...(output.aad ? { aad: b64(output.aad) } : {}),
        },
        version: version.version,
      };
    });
    router.post(`/keys/:name/${path}`, handler);
    router.post(`/keys/:name/:version/${path}`, handler);
  }
  return router;
}
