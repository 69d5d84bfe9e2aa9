import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { SealedDataInvalid } from '../../src/errors';
import { openMasterKey, type MasterKeyConfig } from '../../src/kms';
import { issuerCredential, startStack, tempDir } from './harness';

/**
 * The master key in a PKCS#11 token (SoftHSM 2). Outside CI these tests skip when SoftHSM is
 * not installed; in CI ($CI set) a missing SoftHSM is a failure.
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
  let config: MasterKeyConfig & { kind: 'pkcs11' };
  const savedConf = process.env.SOFTHSM2_CONF;

  beforeAll(async () => {
    temp = await tempDir('skr-softhsm-');
    await mkdir(join(temp.dir, 'tokens'));
    const conf = join(temp.dir, 'softhsm2.conf');
    await writeFile(conf, `directories.tokendir = ${join(temp.dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = conf;
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'skr-test', '--so-pin', '12345678', '--pin', '1234'], { env: process.env, stdio: 'ignore' });
    config = { kind: 'pkcs11', module: MODULE, tokenLabel: 'skr-test', pin: '1234' };
  });

  afterAll(async () => {
    if (savedConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = savedConf;
    await temp.remove();
  });

  test('generates a non-extractable, sensitive AES-256 key in the token and seals with AES-GCM inside it', async () => {
    const key = await openMasterKey(config);
    const sealed = await key.seal(Buffer.from('material'), Buffer.from('aad'));
    expect((await key.open(sealed, Buffer.from('aad'))).toString()).toBe('material');
    await expect(key.open(sealed, Buffer.from('other'))).rejects.toBeInstanceOf(SealedDataInvalid);
    const id = key.id;
    await key.close();

    const again = await openMasterKey(config);
    expect(again.id).toBe(id);
    expect((await again.open(sealed, Buffer.from('aad'))).toString()).toBe('material');
    await again.close();

    const p11 = new pkcs11js.PKCS11();
    p11.load(MODULE);
    p11.C_Initialize();
    try {
      const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === 'skr-test')!;
      const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      p11.C_Login(session, pkcs11js.CKU_USER, '1234');
      p11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'skr-kms-master' }]);
      const [handle] = p11.C_FindObjects(session, 2);
      p11.C_FindObjectsFinal(session);
      const attrs = p11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_VALUE_LEN }]);
      expect(attrs.map((a) => (a.value as Buffer).readUIntLE(0, (a.value as Buffer).length))).toEqual([0, 1, 32]);
      expect(() => p11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow();
    } finally {
      p11.C_Finalize();
    }
  });

  test('a wrong PIN or an unknown token is refused at start', async () => {
    await expect(openMasterKey({ ...config, pin: '0000' })).rejects.toMatchObject({ code: 'master_key_unavailable' });
    await expect(openMasterKey({ ...config, tokenLabel: 'absent' })).rejects.toMatchObject({ code: 'master_key_unavailable' });
  });

  test('the KMS runs on the token-held master key: keys, crypto and backup/restore through the SDK', async () => {
    const stack = await startStack({ masterKey: config });
    try {
      expect(stack.kms.masterKeyId).toMatch(/^pkcs11:skr-test:skr-kms-master:[0-9a-f]{32}$/);
      const client = stack.client(issuerCredential(stack.issuer, stack.officer));
      const key = await client.createRsaKey('hsm-backed', { hsm: true });
      expect((await client.getKey('hsm-backed')).id).toBe(key.id);
      const { material } = await stack.kms.store.getWithMaterial('hsm-backed');
      expect(material.kind).toBe('RSA');
      const blob = await client.backupKey('hsm-backed');
      await (await client.beginDeleteKey('hsm-backed')).pollUntilDone();
      await client.purgeDeletedKey('hsm-backed');
      expect((await client.restoreKeyBackup(blob!)).id).toBe(key.id);
    } finally {
      await stack.close();
    }
  });
});
