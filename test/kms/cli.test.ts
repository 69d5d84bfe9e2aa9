import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { kmsAudit, kmsRole } from '../../src/cli/kms';
import { createReleasePolicy } from '../../src/deploy';
import { exited, imdsToken, spawnKms, type Endpoints } from './child';
import { raw } from './raw';
import { tempDir } from './harness';

/**
 * The `skr kms --port P --state-dir D` contract, checked the way users rely on it: a separate
 * process with only NODE_EXTRA_CA_CERTS, IDENTITY_ENDPOINT and IDENTITY_HEADER (endpoints.json's
 * `officer`) drives every kind of operation with `new KeyClient(kms, new ManagedIdentityCredential(), …)`.
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
    expect(Object.keys(endpoints).sort()).toEqual(['caCertFile', 'identity', 'kms', 'officer']);
    expect(endpoints.officer).toEqual({ endpoint: `${endpoints.identity}/msi/token`, headerFile: join(temp.dir, 'identity', 'identity-header') });
    expect(isAbsolute(endpoints.officer.headerFile)).toBe(true);
    expect((await stat(endpoints.officer.headerFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(temp.dir, 'endpoints.json'))).mode & 0o777).toBe(0o600);
    expect(endpoints.kms).toMatch(/^https:\/\/localhost:\d+$/);
    expect(endpoints.identity).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(isAbsolute(endpoints.caCertFile)).toBe(true);
    expect(await readFile(endpoints.caCertFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    const printed = JSON.parse(stdout());
    expect(printed.kms).toMatchObject({ url: endpoints.kms, identity: endpoints.identity, caCertFile: endpoints.caCertFile });
    expect((await stat(join(temp.dir, 'kms', 'master.key'))).mode & 0o777).toBe(0o600);

    const { stdout: out } = await run(process.execPath, ['-e', SDK_SCRIPT], {
      cwd: join(__dirname, '..', '..'),
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: endpoints.caCertFile,
        IDENTITY_ENDPOINT: endpoints.officer.endpoint,
        IDENTITY_HEADER: await readFile(endpoints.officer.headerFile, 'utf8'),
        KMS_URL: endpoints.kms,
      },
    });
    expect(JSON.parse(out)).toEqual({ same: true, decrypted: 'hello', names: ['cli-rsa'] });

    // The default principal (any local process, IMDS-style) may release but not manage keys.
    const ca = await readFile(endpoints.caCertFile, 'utf8');
    const defaultToken = await imdsToken(endpoints.identity);
    expect((await raw(endpoints.kms, ca, 'POST', '/keys/not-mine/create?api-version=7.6', { token: defaultToken, body: '{"kty":"oct-HSM"}' })).status).toBe(403);

    const principal = printed.kms.officer.objectId as string;
    const defaultPrincipal = printed.kms.defaultPrincipal.objectId as string;
    expect(printed.kms.officer).toMatchObject({ roles: ['crypto-officer'], ...endpoints.officer });
    const listed = (await kmsRole(['list', '--state-dir', temp.dir])) as { assignments: { principal: string; role: string }[] };
    expect(listed.assignments.map((a) => [a.principal, a.role])).toEqual([
      [principal, 'crypto-officer'],
      [defaultPrincipal, 'crypto-service-release-user'],
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
    expect(await kmsAudit(['verify', '--state-dir', temp.dir])).toEqual({ ok: true, entries: expect.any(Number), head: { id: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    await temp.remove();
  }
});

test('a second start reuses the state: same CA, same keys, same default and officer principals; a Crypto Officer grant to the default principal is taken back', async () => {
  const temp = await tempDir();
  const first = await spawnKms(temp.dir);
  const ca = await readFile(first.endpoints.caCertFile, 'utf8');
  first.child.kill('SIGTERM');
  await exited(first.child);
  // What an earlier skr kms granted the default principal by default; the next start takes it back.
  const defaultPrincipal = JSON.parse(first.stdout()).kms.defaultPrincipal.objectId as string;
  await kmsRole(['add', '--state-dir', temp.dir, '--principal', defaultPrincipal, '--role', 'crypto-officer']);
  const second = await spawnKms(temp.dir);
  try {
    const roles = (await kmsRole(['list', '--state-dir', temp.dir, '--principal', defaultPrincipal])) as { assignments: { role: string }[] };
    expect(roles.assignments.map((a) => a.role)).toEqual(['crypto-service-release-user']);
    expect(await readFile((second.endpoints as Endpoints).caCertFile, 'utf8')).toBe(ca);
    expect(JSON.parse(second.stdout()).kms.defaultPrincipal).toEqual(JSON.parse(first.stdout()).kms.defaultPrincipal);
    expect(JSON.parse(second.stdout()).kms.officer.objectId).toBe(JSON.parse(first.stdout()).kms.officer.objectId);
  } finally {
    second.child.kill('SIGTERM');
    await exited(second.child);
    await temp.remove();
  }
});

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');
const REGISTER = join(__dirname, 'fixtures', 'ts-register.js');

/** `skr key create` as a user runs it: the CLI's entry in its own process, with only the environment given. */
async function keyCreateCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; json: any }> {
  const script = `require(${JSON.stringify(MAIN)}).main(process.argv.slice(1))`;
  const bare = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AZURE_|IDENTITY_|MSI_|IMDS_)/.test(name)));
  const result = await run(process.execPath, ['-r', REGISTER, '-e', script, '--', 'key', 'create', ...args], { env: { ...bare, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  return { code: result.code, json: JSON.parse(result.stdout) };
}

test('skr key create against skr kms uses IDENTITY_ENDPOINT and IDENTITY_HEADER (the officer); the default principal alone may not create', async () => {
  const temp = await tempDir();
  const { child, endpoints } = await spawnKms(temp.dir);
  try {
    const policyFile = join(temp.dir, 'policy.json');
    await writeFile(policyFile, JSON.stringify(createReleasePolicy('https://verifier.example', ['ab'.repeat(32)])));
    const args = ['--vault', endpoints.kms, '--name', 'by-officer', '--kty', 'oct-HSM', '--size', '256', '--policy', policyFile, '--exportable'];
    const officer = await keyCreateCli(args, {
      NODE_EXTRA_CA_CERTS: endpoints.caCertFile,
      IDENTITY_ENDPOINT: endpoints.officer.endpoint,
      IDENTITY_HEADER: await readFile(endpoints.officer.headerFile, 'utf8'),
    });
    expect(officer).toMatchObject({ code: 0, json: { name: 'by-officer', kty: 'oct-HSM', exportable: true } });

    const asDefault = await keyCreateCli([...args.slice(0, 3), 'by-default', ...args.slice(4)], { NODE_EXTRA_CA_CERTS: endpoints.caCertFile, AZURE_POD_IDENTITY_AUTHORITY_HOST: endpoints.identity });
    expect(asDefault.code).not.toBe(0);
    expect(asDefault.json.error).toMatchObject({ code: 'upstream_rejected', details: { upstreamStatus: 403, upstreamCode: 'Forbidden' } });
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    await temp.remove();
  }
});
