import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KeyClient } from '@azure/keyvault-keys';
import request from 'supertest';
import { demoPolicy } from '../../src/dev/demo-keys';
import type { RunningStack } from '../../src/dev/stack';
import { startKms, type MasterKeyConfig, type ReleasedMasterKeyOptions } from '../../src/kms';
import { createKey } from '../../src/kms/operations/keys';
import { kmsServe } from '../../src/cli/kms';
import { startTestStack } from '../e2e/stack';
import { exited, spawnKms } from './child';
import { tempDir } from './harness';

/**
 * A second KMS whose master key is released to it at start by the dev stack's sidecar (the
 * virtual TEE attests, the stack's verifier issues the token, the stack's KMS releases).
 */
describe('master key released through the sidecar (--master-key-release)', () => {
  let stack: RunningStack;
  let keys: KeyClient;
  let temp: Awaited<ReturnType<typeof tempDir>>;

  const policy = (hostData: string) => ({
    encodedPolicy: Buffer.from(JSON.stringify(demoPolicy(stack.verifier.issuer, hostData, stack.arkSha256))),
    contentType: 'application/json; charset=utf-8',
  });
  const released = (name: string, extra: Partial<ReleasedMasterKeyOptions> = {}): MasterKeyConfig => ({
    kind: 'released',
    keyUrl: `${stack.endpoints.kms}/keys/${name}`,
    sidecarUrl: stack.endpoints.sidecar,
    maaEndpoint: stack.endpoints.verifier,
    ...extra,
  });
  const start = (stateDir: string, masterKey?: MasterKeyConfig) => startKms({ stateDir, masterKey, trustedIssuers: [] });

  beforeAll(async () => {
    temp = await tempDir('skr-released-');
    ({ stack, keys } = await startTestStack(join(temp.dir, 'stack')));
    await keys.createOctKey('kms-master', { hsm: true, keySize: 256, exportable: true, releasePolicy: policy(stack.hostData) });
    await keys.createOctKey('kms-master-128', { hsm: true, keySize: 128, exportable: true, releasePolicy: policy(stack.hostData) });
    await keys.createRsaKey('kms-master-rsa', { hsm: true, keySize: 2048, exportable: true, releasePolicy: policy(stack.hostData) });
    await keys.createOctKey('kms-master-elsewhere', { hsm: true, keySize: 256, exportable: true, releasePolicy: policy('f'.repeat(64)) });
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await temp?.remove();
  });

  test('keys sealed under the released master key open after a restart; nothing of the master key is on disk', async () => {
    const state = join(temp.dir, 'released');
    const first = await start(state, released('kms-master'));
    await createKey(first.core, 'sealed-oct', { kty: 'oct-HSM', key_size: 256 });
    await createKey(first.core, 'sealed-ec', { kty: 'EC-HSM', crv: 'P-256' });
    const before = await first.store.getWithMaterial('sealed-oct');
    await first.close();

    const again = await start(state, released('kms-master'));
    try {
      expect(again.masterKeyId).toBe(first.masterKeyId);
      expect((await again.store.getWithMaterial('sealed-oct')).material).toEqual(before.material);
      expect((await again.store.getWithMaterial('sealed-ec')).material.kind).toBe('EC');
    } finally {
      await again.close();
    }

    // The master key itself, released to this test through the same sidecar.
    const answer = await request(stack.endpoints.sidecar).post('/key/release?format=object').send({ kid: 'kms-master' });
    expect(answer.status).toBe(200);
    const raw = Buffer.from(answer.body.key.k, 'base64url');
    expect(raw).toHaveLength(32);
    // The id commits to the key (a domain-separated hash), and is not the key.
    expect(first.masterKeyId).toBe(`released:${createHash('sha256').update('skr-kms master key id\0').update(raw).digest('hex').slice(0, 32)}`);
    expect(existsSync(join(state, 'kms', 'master.key'))).toBe(false);
    const files = (await readdir(state, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    expect(files.map((f) => f.name)).toContain('keys.sqlite');
    for (const file of files) {
      const bytes = await readFile(join(file.parentPath, file.name));
      expect(bytes.includes(raw)).toBe(false);
      expect(bytes.includes(Buffer.from(answer.body.key.k))).toBe(false);
      expect(bytes.includes(Buffer.from(raw.toString('base64')))).toBe(false);
    }
  });

  test('a store sealed under another master key refuses to start, either way round', async () => {
    const fileState = join(temp.dir, 'file-first');
    const withFile = await start(fileState);
    await createKey(withFile.core, 'k', { kty: 'oct-HSM', key_size: 256 });
    await withFile.close();
    await expect(start(fileState, released('kms-master'))).rejects.toMatchObject({
      code: 'master_key_mismatch',
      details: { found: [withFile.masterKeyId] },
    });

    const releasedState = join(temp.dir, 'released-first');
    const withReleased = await start(releasedState, released('kms-master'));
    await createKey(withReleased.core, 'k', { kty: 'oct-HSM', key_size: 256 });
    await withReleased.close();
    await expect(start(releasedState)).rejects.toMatchObject({ code: 'master_key_mismatch', details: { found: [withReleased.masterKeyId] } });
  });

  test.each([
    ['an oct key of 128 bits', 'kms-master-128', { kty: 'oct', bits: 128 }],
    ['an RSA key', 'kms-master-rsa', { kty: 'RSA' }],
  ])('%s is refused as a master key', async (_what, name, details) => {
    await expect(start(join(temp.dir, `unsuitable-${name}`), released(name))).rejects.toMatchObject({ code: 'master_key_unsuitable', details });
  });

  test("a sidecar refusal (403, 404) fails the start at once with the sidecar's status and code", async () => {
    await expect(start(join(temp.dir, 'denied'), released('kms-master-elsewhere'))).rejects.toMatchObject({
      code: 'master_key_release_failed',
      details: { upstreamStatus: 403, upstreamCode: 'release_denied' },
    });
    await expect(start(join(temp.dir, 'unknown'), released('no-such-key'))).rejects.toMatchObject({
      code: 'master_key_release_failed',
      details: { upstreamStatus: 404, upstreamCode: 'key_not_found' },
    });
  });

  test('a sidecar that never comes up fails the start after the wait; one that comes up late is waited for', async () => {
    const port = await freePort();
    const sidecarUrl = `http://127.0.0.1:${port}`;
    await expect(start(join(temp.dir, 'never'), released('kms-master', { sidecarUrl, waitMs: 1_000 }))).rejects.toMatchObject({
      code: 'master_key_sidecar_unreachable',
    });

    // The same port, served only after the KMS has begun to ask: a proxy to the stack's sidecar.
    let proxy: http.Server | undefined;
    const late = setTimeout(() => {
      proxy = http.createServer((req, res) => {
        const upstream = http.request(`${stack.endpoints.sidecar}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      });
      proxy.listen(port, '127.0.0.1');
    }, 1_500);
    try {
      const kms = await start(join(temp.dir, 'late'), released('kms-master', { sidecarUrl, waitMs: 60_000 }));
      expect(kms.masterKeyId).toMatch(/^released:[0-9a-f]{32}$/);
      await kms.close();
    } finally {
      clearTimeout(late);
      await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    }
  });

  test('skr kms --master-key-release/--master-key-sidecar/--master-key-maa starts on the released key', async () => {
    const state = join(temp.dir, 'cli');
    const expected = await start(join(temp.dir, 'cli-expected'), released('kms-master'));
    await expected.close();
    const { child, stdout } = await spawnKms(state, [
      '--master-key-release',
      `${stack.endpoints.kms}/keys/kms-master`,
      '--master-key-sidecar',
      stack.endpoints.sidecar,
      '--master-key-maa',
      stack.endpoints.verifier,
    ]);
    try {
      expect(JSON.parse(stdout()).kms.masterKey).toBe(expected.masterKeyId);
      expect(existsSync(join(state, 'kms', 'master.key'))).toBe(false);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });

  test.each([
    ['--master-key-sidecar without --master-key-release', ['--master-key-sidecar', 'http://127.0.0.1:8080']],
    ['--master-key-maa without --master-key-release', ['--master-key-maa', 'https://localhost:1']],
    ['--master-key-release with --master-key-file', ['--master-key-release', 'https://localhost:1/keys/a', '--master-key-file', 'x.key']],
    ['--master-key-release with --pkcs11-module', ['--master-key-release', 'https://localhost:1/keys/a', '--pkcs11-module', 'x.so']],
  ])('skr kms refuses %s', async (_what, argv) => {
    await expect(kmsServe(['--state-dir', join(temp.dir, 'cli-invalid'), ...argv])).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  test.each([
    ['an http vault', { keyUrl: 'http://localhost:1/keys/a' }],
    ['a secret, not a key', { keyUrl: 'https://localhost:1/secrets/a' }],
    ['a bad key name', { keyUrl: 'https://localhost:1/keys/a_b' }],
    ['a bad version', { keyUrl: 'https://localhost:1/keys/a/123' }],
    ['a path below the version', { keyUrl: `https://localhost:1/keys/a/${'0'.repeat(32)}/x` }],
    ['a query', { keyUrl: 'https://localhost:1/keys/a?x=1' }],
    ['a sidecar over plain http off loopback', { keyUrl: 'https://localhost:1/keys/a', sidecarUrl: 'http://192.0.2.1:8080' }],
    ['a sidecar without a scheme', { keyUrl: 'https://localhost:1/keys/a', sidecarUrl: '127.0.0.1:8080' }],
    ['a negative wait', { keyUrl: 'https://localhost:1/keys/a', waitMs: -1 }],
  ])('%s is refused before any request', async (_what, options) => {
    await expect(start(join(temp.dir, 'invalid'), { kind: 'released', ...options })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
