import { cp, readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { uvmIssuer, verifyUvmEndorsement } from '../../../src/maa/uvm';
import { readSecurityContext } from '../../../src/snp/certs';
import { loadOrCreateVirtualPki, virtualSecurityContextDir, VIRTUAL_FILES, type VirtualPki } from '../../../src/snp/virtual';
import { KEYGEN_TIMEOUT, useTempDirs } from './helpers';

const tempDir = useTempDirs();
let pki: VirtualPki;

beforeAll(async () => {
  pki = await loadOrCreateVirtualPki(await tempDir());
}, KEYGEN_TIMEOUT);

const verifyFor = (state: VirtualPki, measurement = state.config.guest.measurement) =>
  verifyUvmEndorsement(state.uvm.endorsement, { trusted: [uvmIssuer(state.uvm.issuer.did, state.uvm.issuer.feed)], measurement, minimumSvn: 100, now: new Date() });

describe('the virtual UVM endorsement', () => {
  test("is a COSE_Sign1 the real verifier accepts for the state's measurement, when told to trust the state's signer", () => {
    expect(verifyFor(pki)).toMatchObject({ svn: 100, claim: { 'x-ms-sevsnpvm-launchmeasurement': pki.config.guest.measurement.toString('hex') } });
    expect(pki.uvm.issuer.did).toMatch(/^did:x509:0:sha256:[A-Za-z0-9_-]{43}::eku:1\.3\.6\.1\.4\.1\.311\.76\.59\.1\.2$/);
  });

  test('is served as ACI serves it: reference-info-base64 in a security context directory', async () => {
    const context = await readSecurityContext({ dir: virtualSecurityContextDir(pki.stateDir) });
    expect(context.referenceInfo).toEqual(pki.uvm.endorsement);
  });

  test('is re-signed when the launch measurement changes, and kept otherwise', async () => {
    const dir = await tempDir();
    await cp(pki.dir, join(dir, 'virtual'), { recursive: true });
    const same = await loadOrCreateVirtualPki(dir);
    expect(same.uvm.endorsement).toEqual(pki.uvm.endorsement);
    const measurement = Buffer.alloc(48, 0x5a);
    const changed = await loadOrCreateVirtualPki(dir, { measurement });
    expect(verifyFor(changed, measurement).claim['x-ms-sevsnpvm-launchmeasurement']).toBe(measurement.toString('hex'));
    expect(() => verifyFor(changed, pki.config.guest.measurement)).toThrow(expect.objectContaining({ code: 'uvm_endorsement_measurement_mismatch' }));
  });
});

describe('host_data', () => {
  test(
    'is random per state, never zero',
    async () => {
      const other = await loadOrCreateVirtualPki(await tempDir());
      expect(pki.config.guest.hostData.equals(Buffer.alloc(32))).toBe(false);
      expect(other.config.guest.hostData.equals(pki.config.guest.hostData)).toBe(false);
    },
    KEYGEN_TIMEOUT,
  );

  test(
    'a state made before (zero host_data, no UVM signer) gets a random host_data and a signer on load, kept from then on',
    async () => {
      const dir = await tempDir();
      const virtual = join(dir, 'virtual');
      await cp(pki.dir, virtual, { recursive: true });
      const device = JSON.parse(await readFile(join(virtual, VIRTUAL_FILES.device), 'utf8'));
      device.guest.hostData = '00'.repeat(32);
      await writeFile(join(virtual, VIRTUAL_FILES.device), JSON.stringify(device));
      for (const file of [VIRTUAL_FILES.uvmRootCert, VIRTUAL_FILES.uvmSignerCert, VIRTUAL_FILES.uvmSignerKey, VIRTUAL_FILES.securityContext]) {
        await rm(join(virtual, file), { recursive: true });
      }
      const upgraded = await loadOrCreateVirtualPki(dir);
      expect(upgraded.config.guest.hostData.equals(Buffer.alloc(32))).toBe(false);
      expect(upgraded.uvm.issuer.did).not.toBe(pki.uvm.issuer.did);
      expect(verifyFor(upgraded).svn).toBe(100);
      const again = await loadOrCreateVirtualPki(dir);
      expect(again.config.guest.hostData).toEqual(upgraded.config.guest.hostData);
      expect(again.uvm.issuer).toEqual(upgraded.uvm.issuer);
    },
    KEYGEN_TIMEOUT,
  );
});
