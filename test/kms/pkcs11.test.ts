import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessToken } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { exited, officerToken, spawnKms } from './child';
import { tempDir } from './harness';

/**
 * The master key in a PKCS#11 token (SoftHSM 2). Outside CI these tests skip when SoftHSM is
 * not installed; in CI ($CI set) a missing SoftHSM is a failure. SoftHSM reads SOFTHSM2_CONF
 * from the real environment, so the token-using code runs in child processes.
 */
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const available = spawnSync('softhsm2-util', ['--version']).status === 0;
const describeHsm = available ? describe : describe.skip;

if (!available) {
  if (process.env.CI) {
    test('SoftHSM is installed in CI', () => {
      throw new Error('softhsm2-util is missing: install softhsm2 (apt-get install -y softhsm2), as .ci/run does');
    });
  } else {
    process.stderr.write('skr: skipping the PKCS#11 master key tests: SoftHSM is not installed; enable them with `apt-get install -y softhsm2`\n');
  }
}

describeHsm('PKCS#11 master key (SoftHSM)', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    temp = await tempDir('skr-softhsm-');
    await mkdir(join(temp.dir, 'tokens'));
    const conf = join(temp.dir, 'softhsm2.conf');
    await writeFile(conf, `directories.tokendir = ${join(temp.dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    env = { ...process.env, SOFTHSM2_CONF: conf };
    for (const label of ['skr-test', 'skr-kms']) {
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', '12345678', '--pin', '1234'], { env, stdio: 'ignore' });
    }
  });

  afterAll(async () => {
    await temp.remove();
  });

  test('generates a non-extractable, sensitive AES-256 key in the token, seals with AES-GCM inside it and refuses a wrong PIN', () => {
    const script = join(__dirname, 'fixtures', 'master-key-check.ts');
    const out = execFileSync(process.execPath, ['-r', join(__dirname, 'fixtures', 'ts-register.js'), '-e', `require(${JSON.stringify(script)})`, MODULE, 'skr-test', '1234'], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const report = JSON.parse(out);
    expect(report).toEqual({
      id: expect.stringMatching(/^pkcs11:skr-test:skr-kms-master:[0-9a-f]{32}$/),
      roundTrip: 'material',
      wrongAad: 'sealed_data_invalid',
      reopened: { sameId: true, opens: 'material' },
      attributes: [0, 1, 32],
      valueReadable: false,
      wrongPin: 'master_key_unavailable',
      unknownToken: 'master_key_unavailable',
    });
  });

  test('skr kms runs on the token-held master key (PIN from a file): keys, material and backup/restore through the SDK', async () => {
    const state = join(temp.dir, 'state');
    const pinFile = join(temp.dir, 'pin');
    await writeFile(pinFile, '1234\n', { mode: 0o600 });
    const { child, endpoints, stdout } = await spawnKms(state, ['--pkcs11-module', MODULE, '--pkcs11-token', 'skr-kms', '--pkcs11-pin-file', pinFile], env);
    try {
      expect(JSON.parse(stdout()).kms.masterKey).toMatch(/^pkcs11:skr-kms:skr-kms-master:/);
      const credential = { getToken: async (): Promise<AccessToken> => ({ token: await officerToken(endpoints), expiresOnTimestamp: Date.now() + 600_000 }) };
      const client = new KeyClient(endpoints.kms, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: await readFile(endpoints.caCertFile, 'utf8') } });
      const key = await client.createRsaKey('hsm-backed', { hsm: true });
      expect((await client.getKey('hsm-backed')).id).toBe(key.id);
      const blob = await client.backupKey('hsm-backed');
      await (await client.beginDeleteKey('hsm-backed')).pollUntilDone();
      await client.purgeDeletedKey('hsm-backed');
      expect((await client.restoreKeyBackup(blob!)).id).toBe(key.id);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });
});
