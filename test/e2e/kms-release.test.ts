import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import type { KeyClient } from '@azure/keyvault-keys';
import type { RunningStack } from '../../src/dev/stack';
import { decodeKeyHsm, unwrapKeyMaterial } from '../../src/keywrap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoPolicy } from '../../src/dev/demo-keys';
import { openMasterKey } from '../../src/kms';
import { createKey } from '../../src/kms/operations/keys';
import { createRelease, releaseSignerFromPem } from '../../src/kms/key-release';
import { openDatabase } from '../../src/kms/store/database';
import { SqliteKeyStore } from '../../src/kms/store/sqlite-key-store';
import { SqliteSecretStore } from '../../src/kms/store/sqlite-secret-store';
import { KEY_STORE_MIGRATIONS } from '../../src/kms/store/migrations';
import { createTlsMaterial } from '../../src/tls/certificates';
import { startTestStack } from './stack';

/**
 * The KMS's release endpoint driven by the SDK directly: a genuine token for a TEE key the test
 * holds, then forgeries whose claims would satisfy the policy — every one refused.
 */
describe('KMS release through the SDK', () => {
  let stack: RunningStack;
  let keys: KeyClient;
  let token: string;
  const tee = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = tee.publicKey.export({ format: 'jwk' }) as { n: string; e: string };

  beforeAll(async () => {
    ({ stack, keys } = await startTestStack());
    const runtime = Buffer.from(JSON.stringify({ keys: [{ kty: 'RSA', kid: 'tee', key_ops: ['encrypt'], n: jwk.n, e: jwk.e }] }));
    const res = await request(stack.endpoints.sidecar)
      .post('/attest/maa')
      .send({ runtime_data: runtime.toString('base64') });
    token = res.body.token;
  });
  afterAll(() => stack?.close());

  const payload = () => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  const header = () => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());

  test.each(['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'] as const)('a genuine token releases the demo key wrapped with %s', async (enc) => {
    const { value } = await keys.releaseKey('demo', token, { algorithm: enc });
    const body = JSON.parse(Buffer.from(value.split('.')[1]!, 'base64url').toString());
    expect(body.request.enc).toBe(enc);
    const { ciphertext } = decodeKeyHsm(body.response.key.key.key_hsm);
    expect(await unwrapKeyMaterial({ privateKey: tee.privateKey, ciphertext, enc })).toHaveLength(32);
  });

  test('forged tokens whose claims satisfy the policy are all refused', async () => {
    const claims = payload();
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const [h, , s] = token.split('.');
    const forgeries: [string, string][] = [
      ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none', kid: header().kid })).toString('base64url')}.${token.split('.')[1]}.`],
      ['HS256 keyed with a public value', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: header().kid }).sign(Buffer.from(jwk.n))],
      ['signed by an untrusted key', await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: header().kid }).sign(foreign)],
      ['expired', await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 }).setProtectedHeader({ alg: 'RS256', kid: header().kid }).sign(foreign)],
      ['an issuer not in the policy', await new SignJWT({ ...claims, iss: 'https://attacker.example' }).setProtectedHeader({ alg: 'RS256', kid: 'x' }).sign(foreign)],
      ['a tampered payload', `${h}.${Buffer.from(JSON.stringify({ ...claims, 'x-ms-sevsnpvm-vmpl': 0, tampered: true })).toString('base64url')}.${s}`],
    ];
    for (const [name, forged] of forgeries) {
      const error = await keys.releaseKey('demo', forged).catch((e: { statusCode: number }) => e);
      expect([name, (error as { statusCode: number }).statusCode]).toEqual([name, 403]);
    }
  });

  test('a repeated release gets the same signed answer until what it states, the request or the TEE key changes', async () => {
    const first = (await keys.releaseKey('demo', token)).value;
    expect((await keys.releaseKey('demo', token)).value).toBe(first);
    const withNonce = (await keys.releaseKey('demo', token, { nonce: 'n1' })).value;
    expect(withNonce).not.toBe(first);
    expect((await keys.releaseKey('demo', token, { nonce: 'n1' })).value).toBe(withNonce);
    expect((await keys.releaseKey('demo', token, { algorithm: 'RSA_AES_KEY_WRAP_256' })).value).not.toBe(first);

    // Another TEE key: its own wrap of the same key.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const otherJwk = other.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    const runtime = Buffer.from(JSON.stringify({ keys: [{ kty: 'RSA', kid: 'other', key_ops: ['encrypt'], n: otherJwk.n, e: otherJwk.e }] }));
    const otherToken = (
      await request(stack.endpoints.sidecar)
        .post('/attest/maa')
        .send({ runtime_data: runtime.toString('base64') })
    ).body.token as string;
    const otherValue = (await keys.releaseKey('demo', otherToken)).value;
    const open = async (value: string, privateKey: typeof tee.privateKey) => {
      const body = JSON.parse(Buffer.from(value.split('.')[1]!, 'base64url').toString());
      return unwrapKeyMaterial({ privateKey, ciphertext: decodeKeyHsm(body.response.key.key.key_hsm).ciphertext, enc: body.request.enc });
    };
    expect(await open(otherValue, other.privateKey)).toEqual(await open(first, tee.privateKey));

    // A disabled key is refused at once, and releases again once enabled.
    await keys.updateKeyProperties('demo', { enabled: false });
    await expect(keys.releaseKey('demo', token)).rejects.toMatchObject({ statusCode: 403 });
    await keys.updateKeyProperties('demo', { enabled: true });
    expect(await open((await keys.releaseKey('demo', token)).value, tee.privateKey)).toEqual(await open(first, tee.privateKey));

    // A change the answer states (here the key's operations) makes a new answer.
    const ops = (await keys.getKey('demo')).keyOperations!;
    await keys.updateKeyProperties('demo', { keyOps: ['wrapKey', 'unwrapKey'] });
    const narrowed = (await keys.releaseKey('demo', token)).value;
    expect(narrowed).not.toBe(first);
    expect(JSON.parse(Buffer.from(narrowed.split('.')[1]!, 'base64url').toString()).response.key.key.key_ops).toEqual(['wrapKey', 'unwrapKey']);
    await keys.updateKeyProperties('demo', { keyOps: ops });
  });

  test('the repeated answer lasts a minute: past it, the same release is wrapped and signed anew', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skr-answer-'));
    const db = openDatabase(join(dir, 'keys.sqlite'), { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
    const master = await openMasterKey({ kind: 'file', path: join(dir, 'master.key') });
    try {
      let clock = Date.now();
      const core = {
        db,
        store: new SqliteKeyStore(db, master),
        secrets: new SqliteSecretStore(db, master),
        master,
        now: () => Math.floor(clock / 1000),
        recoverableDays: 7,
        validateReleasePolicy: () => undefined,
      };
      const policy = Buffer.from(JSON.stringify(demoPolicy(stack.verifier.issuer, stack.hostData, stack.arkSha256))).toString('base64url');
      await createKey(core, 'answer', { kty: 'oct-HSM', key_size: 256, attributes: { exportable: true }, release_policy: { data: policy } });
      const tls = await createTlsMaterial({ name: 'answer test' });
      const release = createRelease({
        signer: releaseSignerFromPem(tls.keyPem, [tls.certPem, tls.caPem]),
        trustedAuthorities: [stack.verifier.issuer],
        authorityCa: [stack.kms.caPem],
        now: () => new Date(clock),
      });
      const context = { store: core.store, vaultUrl: 'https://answer.test', caller: { principal: 'p', issuer: 'i' }, now: core.now };
      const once = async () => (await release({ name: 'answer', target: token, apiVersion: '7.4' }, context)).value;
      const first = await once();
      clock += 59_000;
      expect(await once()).toBe(first);
      clock += 2_000;
      const renewed = await once();
      expect(renewed).not.toBe(first);
      expect(await once()).toBe(renewed);
    } finally {
      db.close();
      await master.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
