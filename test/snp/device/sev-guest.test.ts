import { randomBytes, verify } from 'node:crypto';
import { parseCertTable, parseReport, signatureToP1363, signedBytes } from '../../../src/snp/abi';
import { openSevGuest, type SevGuestDevice } from '../../../src/snp/device/sev-guest';
import { openSevLegacy, type SevLegacyDevice } from '../../../src/snp/device/sev';
import { loadSevGuestAddon, type SevGuestAddon } from '../../../src/snp/native';
import { verifyReport } from '../../../src/snp/verify';
import { describeWithFuse, FUSE_SETUP_TIMEOUT_MS, startFuseSev, type FuseSev } from '../native/fuse-harness';

/** The sev-guest and sev devices through the real addon, the kernel and the FUSE daemon. */
describeWithFuse('sev-guest and sev devices over FUSE', () => {
  let fuse: FuseSev;
  let guest: SevGuestDevice;
  let legacy: SevLegacyDevice;
  const fast = { busyBackoffMs: 1 };

  beforeAll(async () => {
    fuse = await startFuseSev();
    guest = await openSevGuest(fuse.guestPath, fast);
    legacy = await openSevLegacy(fuse.legacyPath, fast);
  }, FUSE_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await guest?.close();
    await legacy?.close();
    await fuse?.stop();
  }, 30_000);

  beforeEach(() => fuse.control('clear'));

  function expectGenuineShape(report: Buffer, reportData: Buffer, vmpl: number): void {
    const parsed = parseReport(report);
    expect(parsed.reportData).toEqual(reportData);
    expect(parsed.vmpl).toBe(vmpl);
    expect(verify('sha384', signedBytes(report), { key: fuse.vcekPublicKey, dsaEncoding: 'ieee-p1363' }, signatureToP1363(parsed.signature))).toBe(true);
  }

  it('describes itself', () => {
    expect(guest).toMatchObject({ name: 'sev-guest', path: fuse.guestPath, virtual: false });
    expect(legacy).toMatchObject({ name: 'sev', path: fuse.legacyPath, virtual: false });
  });

  it('returns a signed report for the REPORT_DATA and VMPL asked for', async () => {
    const reportData = randomBytes(64);
    const result = await guest.getReport({ reportData, vmpl: 1 });
    expect(Object.keys(result)).toEqual(['report']);
    expectGenuineShape(result.report, reportData, 1);
  });

  it('defaults to VMPL 0', async () => {
    const reportData = randomBytes(64);
    expectGenuineShape((await guest.getReport({ reportData })).report, reportData, 0);
  });

  it('withCerts returns the host certificate table without its padding', async () => {
    const reportData = randomBytes(64);
    const { report, certTable } = await guest.getReport({ reportData, withCerts: true });
    expectGenuineShape(report, reportData, 0);
    expect(certTable).toEqual(fuse.certTable);
    expect(parseCertTable(certTable!)).toHaveLength(3);
    expect((await fuse.stats()).requests).toBe(1);
  });

  it('a report and certificate table read through the kernel verify with the real verifier, only with the virtual ARK trusted', async () => {
    const { report, certTable } = await guest.getReport({ reportData: randomBytes(64), withCerts: true });
    await expect(verifyReport({ report, certTable }, { now: new Date(), trustedRoots: [fuse.pki.root] })).resolves.toMatchObject({ genuine: false, signer: 'VCEK' });
    await expect(verifyReport({ report, certTable }, { now: new Date() })).rejects.toMatchObject({ code: 'ark_not_trusted' });
  });

  it('withCerts grows a too-small certificate buffer once', async () => {
    const small = await openSevGuest(fuse.guestPath, { certsLen: 4096 });
    try {
      const { certTable } = await small.getReport({ reportData: randomBytes(64), withCerts: true });
      expect(certTable).toEqual(fuse.certTable);
      expect((await fuse.stats()).requests).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('the legacy /dev/sev device returns a signed report, and no certificate table even when asked', async () => {
    const reportData = randomBytes(64);
    const result = await legacy.getReport({ reportData, vmpl: 3, withCerts: true });
    expect(result.certTable).toBeUndefined();
    expectGenuineShape(result.report, reportData, 3);
  });

  it.each([
    ['sev-guest', () => guest],
    ['sev', () => legacy],
  ])('%s: a firmware error is firmware_error with its code and name', async (_name, device) => {
    await fuse.control('fw_error=0x16');
    await expect(device().getReport({ reportData: randomBytes(64) })).rejects.toMatchObject({
      name: 'FirmwareError',
      code: 'firmware_error',
      status: 502,
      fwError: 0x16,
      vmmError: 0,
      details: { fwErrorName: 'INVALID_PARAM', errno: 'EIO' },
    });
  });

  it('a host that is BUSY a few times is retried until it answers', async () => {
    await fuse.control('vmm_error=2 count=3');
    const reportData = randomBytes(64);
    expectGenuineShape((await guest.getReport({ reportData, withCerts: true })).report, reportData, 0);
    expect(await fuse.stats()).toMatchObject({ requests: 4, failures: 3, pending: 0 });
  });

  it('a host that stays BUSY is device_busy', async () => {
    await fuse.control('vmm_error=2 count=10');
    await expect(guest.getReport({ reportData: randomBytes(64) })).rejects.toMatchObject({ code: 'device_busy', status: 503, details: { attempts: 4 } });
    expect((await fuse.stats()).requests).toBe(4);
  });

  it('serialises parallel requests, and each gets its own report', async () => {
    const datas = Array.from({ length: 32 }, () => randomBytes(64));
    const results = await Promise.all(datas.map((reportData, i) => guest.getReport({ reportData, vmpl: i % 4, withCerts: i % 2 === 0 })));
    results.forEach((result, i) => {
      expectGenuineShape(result.report, datas[i], i % 4);
      expect(result.certTable !== undefined).toBe(i % 2 === 0);
    });
    expect(await fuse.stats()).toMatchObject({ requests: 32, maxInflight: 1 });
  });

  /** The real addon, recording the descriptors it opens. */
  function watchedAddon(): { addon: SevGuestAddon; fds: number[] } {
    const real = loadSevGuestAddon();
    const fds: number[] = [];
    const open = async (path: string) => {
      const result = await real.open(path);
      fds.push(result.fd);
      return result;
    };
    return { addon: { ...real, open }, fds };
  }

  it('reopens a descriptor closed behind its back (EBADF)', async () => {
    const { addon, fds } = watchedAddon();
    const device = await openSevGuest(fuse.guestPath, { addon });
    try {
      await addon.close(fds[0]);
      const reportData = randomBytes(64);
      expectGenuineShape((await device.getReport({ reportData })).report, reportData, 0);
      expect(fds).toHaveLength(2);
    } finally {
      await device.close();
    }
  });

  it('reopens after the device server went away and came back (ENOTCONN)', async () => {
    const { addon, fds } = watchedAddon();
    const device = await openSevGuest(fuse.guestPath, { addon });
    try {
      await fuse.restart();
      const reportData = randomBytes(64);
      expectGenuineShape((await device.getReport({ reportData })).report, reportData, 0);
      expect(fds).toHaveLength(2);
    } finally {
      await device.close();
    }
  }, 60_000);

  it('a closed device refuses further requests', async () => {
    const device = await openSevGuest(fuse.guestPath);
    await device.close();
    await expect(device.getReport({ reportData: randomBytes(64) })).rejects.toMatchObject({ code: 'device_io_error', details: { errno: 'EBADF' } });
  });

  it.each([
    ['sev-guest', () => openSevGuest(`${fuse.mount}/absent`)],
    ['sev', () => openSevLegacy(`${fuse.mount}/absent`)],
  ])('%s: a missing device node is no_tee_device', async (_name, open) => {
    await expect(open()).rejects.toMatchObject({ code: 'no_tee_device', status: 503, details: { errno: 'ENOENT' } });
  });

  it.each([
    ['63 bytes of REPORT_DATA', { reportData: Buffer.alloc(63) }, 'reportData'],
    ['65 bytes of REPORT_DATA', { reportData: Buffer.alloc(65) }, 'reportData'],
    ['no REPORT_DATA', {} as { reportData: Buffer }, 'reportData'],
    ['VMPL 4', { reportData: Buffer.alloc(64), vmpl: 4 }, 'vmpl'],
    ['VMPL -1', { reportData: Buffer.alloc(64), vmpl: -1 }, 'vmpl'],
    ['VMPL 1.5', { reportData: Buffer.alloc(64), vmpl: 1.5 }, 'vmpl'],
  ])('refuses %s before any ioctl', async (_name, request, field) => {
    await expect(guest.getReport(request)).rejects.toMatchObject({ code: 'invalid_argument', details: { field } });
    await expect(legacy.getReport(request)).rejects.toMatchObject({ code: 'invalid_argument', details: { field } });
    expect((await fuse.stats()).requests).toBe(0);
  });

  it.each([0, 1000, 4096 * 17])('refuses a first certificate buffer of %d bytes', async (certsLen) => {
    await expect(openSevGuest(fuse.guestPath, { certsLen })).rejects.toMatchObject({ code: 'invalid_argument', details: { field: 'certsLen' } });
  });
});
