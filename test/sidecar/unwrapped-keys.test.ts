import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { encodeKeyHsm, unwrapKeyMaterial, wrapKeyMaterial } from '../../src/keywrap';
import { UnwrappedKeys } from '../../src/sidecar/unwrapped-keys';

const tee = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = tee.publicKey.export({ format: 'jwk' }) as { n: string; e: string };

async function wrapped(material: Buffer): Promise<{ keyHsm: string; unwrap: () => Promise<Buffer>; calls: () => number }> {
  const ciphertext = await wrapKeyMaterial({ publicKey: { kty: 'RSA', n: jwk.n, e: jwk.e }, material, enc: 'CKM_RSA_AES_KEY_WRAP' });
  let calls = 0;
  return {
    keyHsm: encodeKeyHsm({ kid: 'tee', enc: 'CKM_RSA_AES_KEY_WRAP', ciphertext }),
    unwrap: () => {
      calls++;
      return unwrapKeyMaterial({ privateKey: tee.privateKey, ciphertext, enc: 'CKM_RSA_AES_KEY_WRAP' });
    },
    calls: () => calls,
  };
}

test('the same ciphertext for the same TEE key is unwrapped once; each caller gets bytes of its own', async () => {
  const keys = new UnwrappedKeys();
  const material = randomBytes(32);
  const w = await wrapped(material);
  const first = await keys.open('kid-1', 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, w.unwrap);
  expect(first).toEqual(material);
  first.fill(0);
  expect(await keys.open('kid-1', 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, w.unwrap)).toEqual(material);
  expect(w.calls()).toBe(1);
});

test('another TEE key, algorithm or ciphertext is unwrapped anew', async () => {
  const keys = new UnwrappedKeys();
  const w = await wrapped(randomBytes(32));
  await keys.open('kid-1', 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, w.unwrap);
  await keys.open('kid-2', 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, w.unwrap);
  await keys.open('kid-1', 'RSA_AES_KEY_WRAP_256', w.keyHsm, w.unwrap);
  const other = await wrapped(randomBytes(32));
  await keys.open('kid-1', 'CKM_RSA_AES_KEY_WRAP', other.keyHsm, other.unwrap);
  expect([w.calls(), other.calls()]).toEqual([3, 1]);
});

test('a ciphertext that does not open is not remembered: the next release tries again', async () => {
  const keys = new UnwrappedKeys();
  let calls = 0;
  const failing = () => {
    calls++;
    return unwrapKeyMaterial({ privateKey: tee.privateKey, ciphertext: randomBytes(256 + 40), enc: 'CKM_RSA_AES_KEY_WRAP' });
  };
  await expect(keys.open('kid-1', 'CKM_RSA_AES_KEY_WRAP', 'bad', failing)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
  await expect(keys.open('kid-1', 'CKM_RSA_AES_KEY_WRAP', 'bad', failing)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
  expect(calls).toBe(2);
});

test('it holds a bounded number of keys: past 64, the oldest is unwrapped anew', async () => {
  const keys = new UnwrappedKeys();
  const w = await wrapped(randomBytes(32));
  await keys.open('kid-0', 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, w.unwrap);
  for (let i = 1; i <= 64; i++) await keys.open(`kid-${i}`, 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, async () => Buffer.alloc(32, i));
  await keys.open('kid-0', 'CKM_RSA_AES_KEY_WRAP', w.keyHsm, w.unwrap);
  expect(w.calls()).toBe(2);
});
