import * as crypto from 'node:crypto';
import { chmod, cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCertTable, findCert, CERT_GUIDS } from '../../../src/snp/abi';
import { parseVek, readExtensions } from '../../../src/snp/x509';
import { loadOrCreateVirtualPki, virtualInit, VIRTUAL_FILES, type VirtualPki } from '../../../src/snp/virtual';
import { KEYGEN_TIMEOUT, useTempDirs } from './helpers';

const tempDir = useTempDirs();
const AMD_DN = 'OU=Engineering\nC=US\nL=Santa Clara\nST=CA\nO=Advanced Micro Devices\nCN=';
let milan: VirtualPki;
let turin: VirtualPki;

/** A copy of a state directory, for tampering without disturbing the original. */
async function copyState(pki: VirtualPki): Promise<string> {
  const dir = await tempDir();
  await cp(pki.dir, join(dir, 'virtual'), { recursive: true });
  return dir;
}

beforeAll(async () => {
  const chipId = crypto.randomBytes(64);
  [milan, turin] = await Promise.all([
    loadOrCreateVirtualPki(await tempDir(), { chipId, tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 0x73 } }),
    loadOrCreateVirtualPki(await tempDir(), { product: 'Turin' }),
  ]);
}, KEYGEN_TIMEOUT);

describe('virtual PKI files', () => {
  test('exactly the contract files; directory 0700, keys 0600', async () => {
    expect((await readdir(milan.dir)).sort()).toEqual(Object.values(VIRTUAL_FILES).sort());
    expect((await stat(milan.dir)).mode & 0o777).toBe(0o700);
    for (const key of [VIRTUAL_FILES.arkKey, VIRTUAL_FILES.askKey, VIRTUAL_FILES.vcekKey]) {
      expect((await stat(join(milan.dir, key))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(milan.dir, key), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/); // PKCS#8
    }
  });

  test('ARK: self-signed RSA-4096 CA named ARK-<product> in AMD’s shape', () => {
    const ark = milan.ark.cert;
    expect(ark.subject).toBe(`${AMD_DN}ARK-Milan`);
    expect(ark.issuer).toBe(ark.subject);
    expect(ark.verify(ark.publicKey)).toBe(true);
    expect(ark.ca).toBe(true);
    expect(ark.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(readExtensions(milan.ark.der).get('2.5.29.15')!.toString('hex')).toBe('03020106');
  });

  test('ASK: RSA-4096 CA named SEV-<product>, signed by the ARK', () => {
    const ask = milan.ask.cert;
    expect(ask.subject).toBe(`${AMD_DN}SEV-Milan`);
    expect(ask.issuer).toBe(milan.ark.cert.subject);
    expect(ask.verify(milan.ark.cert.publicKey)).toBe(true);
    expect(ask.ca).toBe(true);
    expect(ask.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
  });

  test('Milan VCEK: P-384, issued by the ASK, AMD extensions with a raw 64-byte hwID', () => {
    const vek = parseVek(milan.vcek.pem);
    expect(vek.cert.subject).toBe(`${AMD_DN}SEV-VCEK`);
    expect(vek.cert.issuer).toBe(milan.ask.cert.subject);
    expect(vek.cert.verify(milan.ask.cert.publicKey)).toBe(true);
    expect(vek.cert.serialNumber).toBe('0');
    expect(vek.cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect([vek.kind, vek.productName, vek.structVersion]).toEqual(['VCEK', 'Milan-B0', 0]);
    expect(vek.tcb).toEqual({ bootloader: 3, tee: 0, snp: 8, microcode: 0x73 });
    expect(readExtensions(milan.vcek.der).get('1.3.6.1.4.1.3704.1.4')!.equals(milan.config.chipId)).toBe(true);
    const years = (new Date(vek.cert.validTo).getTime() - new Date(vek.cert.validFrom).getTime()) / (365.25 * 86400e3);
    expect(Math.round(years)).toBe(7);
  });

  test('Turin VCEK: structVersion 1, fmcSPL, 8-byte hwID; CHIP_ID zero after 8 bytes', () => {
    const vek = parseVek(turin.vcek.der);
    expect([vek.productName, vek.structVersion, vek.tcb.fmc]).toEqual(['Turin', 1, 0]);
    expect(vek.hwId!.equals(turin.config.chipId.subarray(0, 8))).toBe(true);
    expect(turin.config.chipId.subarray(8).every((b) => b === 0)).toBe(true);
    expect(readExtensions(turin.vcek.der).has('1.3.6.1.4.1.3704.1.3.4')).toBe(false);
  });

  test('cert-table.bin holds VCEK, ASK and ARK DER under the GHCB GUIDs', async () => {
    const entries = parseCertTable(await readFile(join(milan.dir, VIRTUAL_FILES.certTable)));
    expect(findCert(entries, CERT_GUIDS.vcek)!.equals(milan.vcek.der)).toBe(true);
    expect(findCert(entries, CERT_GUIDS.ask)!.equals(milan.ask.der)).toBe(true);
    expect(findCert(entries, CERT_GUIDS.ark)!.equals(milan.ark.der)).toBe(true);
  });

  test('device.json records the identity and the ARK pin', async () => {
    const json = JSON.parse(await readFile(join(milan.dir, VIRTUAL_FILES.device), 'utf8'));
    expect(json).toMatchObject({ product: 'Milan', productName: 'Milan-B0', chipId: milan.config.chipId.toString('hex'), arkSha256: milan.arkSha256 });
    expect(milan.arkSha256).toBe(crypto.createHash('sha256').update(milan.ark.der).digest('hex'));
  });
});

describe('persistence', () => {
  test('a second load reuses the same keys and certificates and generates no key', async () => {
    // The module object itself (the `import * as` namespace is frozen), which the PKI code calls through.
    const keygen = jest.spyOn(require('node:crypto') as typeof crypto, 'generateKeyPair');
    try {
      const again = await loadOrCreateVirtualPki(milan.stateDir);
      expect(keygen).not.toHaveBeenCalled();
      expect(again.ark.der.equals(milan.ark.der)).toBe(true);
      expect(again.vcek.der.equals(milan.vcek.der)).toBe(true);
      expect(again.config).toEqual(milan.config);
    } finally {
      keygen.mockRestore();
    }
  });

  test('virtualInit reports state dir, product and ARK pin; it is idempotent', async () => {
    expect(await virtualInit(turin.stateDir, { product: 'Turin' })).toEqual({ stateDir: turin.stateDir, product: 'Turin', arkSha256: turin.arkSha256, uvmIssuer: turin.uvm.issuer });
  });

  test('guest options are stored and shape the template', async () => {
    const dir = await copyState(milan);
    const measurement = Buffer.alloc(48, 0x5a);
    await loadOrCreateVirtualPki(dir, { measurement, version: 3 });
    const reloaded = await loadOrCreateVirtualPki(dir);
    expect(reloaded.config.guest.measurement).toEqual(measurement);
    const template = await readFile(join(dir, 'virtual', VIRTUAL_FILES.reportTemplate));
    expect(template.readUInt32LE(0)).toBe(3);
    expect(template.subarray(0x90, 0xc0)).toEqual(measurement);
  });

  test('a new TCB re-issues the VCEK with a new key under the same ARK and ASK', async () => {
    const dir = await copyState(milan);
    const tcb = { bootloader: 4, tee: 0, snp: 9, microcode: 0x74 };
    const keygen = jest.spyOn(require('node:crypto') as typeof crypto, 'generateKeyPair');
    let calls: number;
    const moved = await loadOrCreateVirtualPki(dir, { tcb }).finally(() => {
      calls = keygen.mock.calls.length;
      keygen.mockRestore();
    });
    expect(calls!).toBe(1); // one P-384 key; this also shows the spy above does see key generation
    expect(parseVek(moved.vcek.der).tcb).toEqual(tcb);
    expect(moved.vcek.cert.publicKey.export({ format: 'jwk' })).not.toEqual(milan.vcek.cert.publicKey.export({ format: 'jwk' }));
    expect(moved.ark.der.equals(milan.ark.der)).toBe(true);
    expect((await loadOrCreateVirtualPki(dir)).vcek.der.equals(moved.vcek.der)).toBe(true);
  });

  test('another product or CHIP_ID is another machine: refused', async () => {
    await expect(loadOrCreateVirtualPki(milan.stateDir, { product: 'Genoa' })).rejects.toMatchObject({ code: 'invalid_argument', details: expect.objectContaining({ field: 'product' }) });
    await expect(loadOrCreateVirtualPki(milan.stateDir, { chipId: Buffer.alloc(64, 1) })).rejects.toMatchObject({ code: 'invalid_argument', details: expect.objectContaining({ field: 'chipId' }) });
  });

  test('bad options are refused before anything is minted', async () => {
    const dir = await tempDir();
    await expect(loadOrCreateVirtualPki(dir, { product: 'Naples' as never })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(loadOrCreateVirtualPki(dir, { product: 'Turin', chipId: Buffer.alloc(64, 1) })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(loadOrCreateVirtualPki(dir, { policy: 0x10000n })).rejects.toMatchObject({ code: 'invalid_argument', details: expect.objectContaining({ field: 'policy' }) });
    await expect(loadOrCreateVirtualPki(dir, { vmpl: 4 })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(loadOrCreateVirtualPki(dir, { tcb: { fmc: 1, bootloader: 0, tee: 0, snp: 0, microcode: 0 } })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('tampered state is refused', () => {
  const tamper: [string, (dir: string) => Promise<void>][] = [
    [
      'a VCEK key that is not the certificate’s',
      async (dir) => {
        const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
        await writeFile(join(dir, VIRTUAL_FILES.vcekKey), other, { mode: 0o600 });
      },
    ],
    [
      'an ARK from another state',
      async (dir) => {
        await writeFile(join(dir, VIRTUAL_FILES.arkCert), turin.ark.pem);
        await writeFile(join(dir, VIRTUAL_FILES.arkKey), turin.ark.key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      },
    ],
    [
      'a key readable by others',
      async (dir) => {
        await chmod(join(dir, VIRTUAL_FILES.askKey), 0o644);
      },
    ],
    [
      'a missing certificate',
      async (dir) => {
        await writeFile(join(dir, VIRTUAL_FILES.askCert), 'gone');
      },
    ],
    [
      'device.json naming another chip',
      async (dir) => {
        const json = JSON.parse(await readFile(join(dir, VIRTUAL_FILES.device), 'utf8'));
        json.chipId = '11'.repeat(64);
        await writeFile(join(dir, VIRTUAL_FILES.device), JSON.stringify(json));
      },
    ],
    [
      'a malformed device.json',
      async (dir) => {
        await writeFile(join(dir, VIRTUAL_FILES.device), '{"format":1,"product":"Milan"}');
      },
    ],
  ];
  test.each(tamper)('%s', async (_, damage) => {
    const dir = await copyState(milan);
    await damage(join(dir, 'virtual'));
    await expect(loadOrCreateVirtualPki(dir)).rejects.toMatchObject({ code: 'virtual_state_invalid' });
  });

  test('a state directory holding other files but no device.json', async () => {
    const dir = await tempDir();
    await cp(milan.dir, join(dir, 'virtual'), { recursive: true });
    await writeFile(join(dir, 'virtual', VIRTUAL_FILES.device), '');
    await expect(loadOrCreateVirtualPki(dir)).rejects.toMatchObject({ code: 'virtual_state_invalid' });
  });
});
