import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { kmsAudit, kmsRole } from '../../src/cli/kms';
import { exited, spawnKms, type Endpoints } from './child';
import { tempDir } from './harness';

/**
 * The `skr kms --port P --state-dir D` contract, checked the way users rely on it: a separate
 * process with only NODE_EXTRA_CA_CERTS and AZURE_POD_IDENTITY_AUTHORITY_HOST drives every
 * kind of operation with `new KeyClient(kms, new ManagedIdentityCredential(), …)`.
 */
const run = promisify(execFile);

const SDK_SCRIPT = `
const { KeyClient, CryptographyClient } = require('@azure/keyvault-keys');
const { ManagedIdentityCredential } = require('@azure/identity');
(async () => {
  const credential = new ManagedIdentityCredential();
  const options = { disableChallengeResourceVerification: true };
  const client = new KeyClient(process.env.KMS_URL, credential, options);
  const key = await client.createRsaKey('cli-rsa', { keySize: 2048 });
  const got = await client.getKey('cli-rsa');
  const crypto = new CryptographyClient(key.id, credential, options);
  const plaintext = Buffer.from('hello');
  const { result } = await crypto.encrypt({ algorithm: 'RSA-OAEP-256', plaintext });
  const decrypted = await crypto.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: result });
  const names = [];
  for await (const p of client.listPropertiesOfKeys()) names.push(p.name);
  await (await client.beginDeleteKey('cli-rsa')).pollUntilDone();
  await client.purgeDeletedKey('cli-rsa');
  console.log(JSON.stringify({ same: got.id === key.id, decrypted: Buffer.from(decrypted.result).toString(), names }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

test('skr kms writes endpoints.json and serves the SDK with ManagedIdentityCredential; role and audit commands read its state', async () => {
  const temp = await tempDir();
  const { child, endpoints, stdout } = await spawnKms(temp.dir, ['--port', '0']);
  try {
    expect(Object.keys(endpoints).sort()).toEqual(['caCertFile', 'identity', 'kms']);
    expect(endpoints.kms).toMatch(/^https:\/\/localhost:\d+$/);
    expect(endpoints.identity).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(isAbsolute(endpoints.caCertFile)).toBe(true);
    expect(await readFile(endpoints.caCertFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    const printed = JSON.parse(stdout());
    expect(printed.kms).toMatchObject({ url: endpoints.kms, identity: endpoints.identity, caCertFile: endpoints.caCertFile });
    expect((await stat(join(temp.dir, 'kms', 'master.key'))).mode & 0o777).toBe(0o600);

    const { stdout: out } = await run(process.execPath, ['-e', SDK_SCRIPT], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: endpoints.caCertFile, AZURE_POD_IDENTITY_AUTHORITY_HOST: endpoints.identity, KMS_URL: endpoints.kms },
    });
    expect(JSON.parse(out)).toEqual({ same: true, decrypted: 'hello', names: ['cli-rsa'] });

    const principal = printed.kms.defaultPrincipal.objectId as string;
    const listed = (await kmsRole(['list', '--state-dir', temp.dir])) as { assignments: { principal: string; role: string }[] };
    expect(listed.assignments.map((a) => [a.principal, a.role])).toEqual([
      [principal, 'crypto-officer'],
      [principal, 'crypto-service-release-user'],
    ]);
    const added = (await kmsRole(['add', '--state-dir', temp.dir, '--principal', 'someone', '--role', 'Key Vault Crypto User', '--scope', '/keys/k1'])) as { added: { id: string; scope: string } };
    expect(added.added.scope).toBe('/keys/k1');
    expect(await kmsRole(['remove', '--state-dir', temp.dir, '--id', added.added.id])).toEqual({ removed: true });

    const audit = (await kmsAudit(['--state-dir', temp.dir, '--key', 'cli-rsa'])) as { entries: { operation: string; principal?: string; decision: string }[] };
    expect(audit.entries.map((e) => e.operation)).toEqual(expect.arrayContaining(['create', 'get', 'encrypt', 'decrypt', 'delete', 'purge']));
    expect(audit.entries.every((e) => e.principal === principal && ['allow', 'intent'].includes(e.decision))).toBe(true);
    // Each change was announced (an intent entry committed before it was made).
    expect(audit.entries.filter((e) => e.decision === 'intent').map((e) => e.operation)).toEqual(expect.arrayContaining(['create', 'delete', 'purge']));
    // The CLI's role changes are on the same log, under the operator's uid, and the chain holds.
    const changes = (await kmsAudit(['--state-dir', temp.dir, '--principal', `operator:${process.getuid!()}`])) as { entries: { operation: string; detail?: string }[] };
    expect(changes.entries.map((e) => e.operation)).toEqual(['role.remove', 'role.add']);
    expect(changes.entries[1]!.detail).toContain('principal=someone role=crypto-user scope=/keys/k1');
    expect(await kmsAudit(['verify', '--state-dir', temp.dir])).toEqual({ ok: true, entries: expect.any(Number) });
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    await temp.remove();
  }
});

test('a second start reuses the state: same CA, same keys, same default principal', async () => {
  const temp = await tempDir();
  const first = await spawnKms(temp.dir);
  const ca = await readFile(first.endpoints.caCertFile, 'utf8');
  first.child.kill('SIGTERM');
  await exited(first.child);
  const second = await spawnKms(temp.dir);
  try {
    expect(await readFile((second.endpoints as Endpoints).caCertFile, 'utf8')).toBe(ca);
    expect(JSON.parse(second.stdout()).kms.defaultPrincipal).toEqual(JSON.parse(first.stdout()).kms.defaultPrincipal);
  } finally {
    second.child.kill('SIGTERM');
    await exited(second.child);
    await temp.remove();
  }
});
