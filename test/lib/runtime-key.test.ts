import { createPublicKey } from 'node:crypto';
import { RuntimeKeyUnsafe } from '../../src/errors';
import { checkRuntimeKey, checkRuntimeKeys } from '../../src/lib/runtime-key';
import { goodEcRuntimeKeys, goodRuntimeKeys, unsafeEcKeys, unsafeRsaKeys } from './runtime-keys';

const unsafe = [...unsafeRsaKeys(), ...unsafeEcKeys()];
const good = goodRuntimeKeys();

describe('runtime keys a release may be wrapped to', () => {
  test.each(unsafe.map((k) => [k.name, k] as const))('%s is refused', async (_name, { jwk, reason }) => {
    let caught: unknown;
    try {
      await checkRuntimeKey(jwk);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RuntimeKeyUnsafe);
    expect(caught).toMatchObject({ code: 'runtime_key_unsafe', status: 400, details: { reason } });
  });

  test.each(Object.entries({ ...good, ...goodEcRuntimeKeys() }))('%s is accepted', async (_name, jwk) => {
    await expect(checkRuntimeKey(jwk)).resolves.toBeUndefined();
  });

  test('node:crypto itself refuses an off-curve JWK point (the EC check relies on it)', () => {
    const { jwk } = unsafe.find((k) => k.reason === 'ec_point')!;
    expect(() => createPublicKey({ key: jwk, format: 'jwk' })).toThrow();
  });

  test('runtime data: every JWK in keys is checked; entries without kty and data without keys are not keys', async () => {
    const rsa = good['RSA-2048']!;
    const bad = unsafe[0]!.jwk;
    await expect(checkRuntimeKeys({ keys: [rsa, { kid: 'not a key' }, 1, 'x'] })).resolves.toBeUndefined();
    await expect(checkRuntimeKeys({ nonce: 'n' })).resolves.toBeUndefined();
    await expect(checkRuntimeKeys([bad])).resolves.toBeUndefined();
    await expect(checkRuntimeKeys({ keys: [rsa, bad] })).rejects.toBeInstanceOf(RuntimeKeyUnsafe);
  });

  test('a weak modulus is refused again from the cache, and a good one accepted again', async () => {
    const prime = unsafe.find((k) => k.reason === 'rsa_modulus_prime')!;
    await expect(checkRuntimeKey(prime.jwk)).rejects.toMatchObject({ details: { reason: 'rsa_modulus_prime' } });
    await expect(checkRuntimeKey(prime.jwk)).rejects.toMatchObject({ details: { reason: 'rsa_modulus_prime' } });
    await expect(checkRuntimeKey(good['RSA-2048'])).resolves.toBeUndefined();
    await expect(checkRuntimeKey(good['RSA-2048'])).resolves.toBeUndefined();
  });
});
