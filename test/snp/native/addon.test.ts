import { randomBytes, verify } from 'node:crypto';
import { parseCertTable, parseReport, signatureToP1363, signedBytes } from '../../../src/snp/abi';
import { loadSevGuestAddon, type SevGuestAddon } from '../../../src/snp/native';
import { describeWithFuse, FUSE_SETUP_TIMEOUT_MS, startFuseSev, type FuseSev } from './fuse-harness';

/** The raw addon through the kernel and the FUSE daemon: what each ioctl brings back, unjudged. */
describeWithFuse('sevguest addon over FUSE', () => {
  let fuse: FuseSev;
  let addon: SevGuestAddon;
  let guestFd: number;
  let legacyFd: number;

  beforeAll(async () => {
    fuse = await startFuseSev();
    addon = loadSevGuestAddon();
    guestFd = (await addon.open(fuse.guestPath)).fd;
    legacyFd = (await addon.open(fuse.legacyPath)).fd;
  }, FUSE_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    if (addon) await Promise.all([guestFd, legacyFd].filter((fd) => fd >= 0).map((fd) => addon.close(fd)));
    await fuse?.stop();
  }, 30_000);

  beforeEach(() => fuse.control('clear'));

  function expectSignedReport(report: Buffer | undefined, userData: Buffer, vmpl: number): void {
    expect(report).toHaveLength(0x4a0);
    const parsed = parseReport(report!);
    expect(parsed.reportData).toEqual(userData);
    expect(parsed.vmpl).toBe(vmpl);
    expect(parsed.measurement).toEqual(parseReport(fuse.template).measurement);
    const ok = verify('sha384', signedBytes(report!), { key: fuse.vcekPublicKey, dsaEncoding: 'ieee-p1363' }, signatureToP1363(parsed.signature));
    expect(ok).toBe(true);
  }

  it('opens the device nodes', () => {
    expect(guestFd).toBeGreaterThanOrEqual(0);
    expect(legacyFd).toBeGreaterThanOrEqual(0);
  });

  it('SNP_GET_REPORT echoes REPORT_DATA and VMPL in a report signed by the VCEK', async () => {
    const userData = randomBytes(64);
    const result = await addon.getReport(guestFd, userData, 2);
    expect(result).toMatchObject({ rc: 0, errno: 0, fwError: 0, vmmError: 0, status: 0, reportSize: 0x4a0 });
    expectSignedReport(result.report, userData, 2);
  });

  it('SNP_GET_EXT_REPORT grows a one-page certificate buffer to what the host asks for, in one more call', async () => {
    const userData = randomBytes(64);
    const result = await addon.getExtReport(guestFd, userData, 0, 4096);
    expect(result).toMatchObject({ rc: 0, fwError: 0, vmmError: 0, status: 0, certsLen: 8192 });
    expectSignedReport(result.report, userData, 0);
    expect(result.certs).toHaveLength(8192);
    expect(result.certs!.subarray(0, fuse.certTable.length)).toEqual(fuse.certTable);
    expect(parseCertTable(result.certs!).map((e) => e.data)).toEqual(parseCertTable(fuse.certTable).map((e) => e.data));
    expect((await fuse.stats()).requests).toBe(2);
  });

  it('SNP_GET_EXT_REPORT with a large enough buffer takes one call', async () => {
    const result = await addon.getExtReport(guestFd, randomBytes(64), 0, 16384);
    expect(result).toMatchObject({ rc: 0, certsLen: 16384 });
    expect(result.certs!.subarray(0, fuse.certTable.length)).toEqual(fuse.certTable);
    expect((await fuse.stats()).requests).toBe(1);
  });

  it('does not retry an INVALID_LEN that asks for no more than it already offered', async () => {
    await fuse.control('vmm_error=1 count=1');
    const result = await addon.getExtReport(guestFd, randomBytes(64), 0, 4096);
    expect(result).toMatchObject({ rc: -1, errno: 5, vmmError: 1, certsLen: 4096 });
    expect((await fuse.stats()).requests).toBe(1);
    expect(result.report).toBeUndefined();
    expect(result.certs).toBeUndefined();
  });

  it('/dev/sev SEV_SNP_GUEST_MSG_REPORT returns the report at offset 0x20 of the response', async () => {
    const userData = randomBytes(64);
    const result = await addon.getLegacyReport(legacyFd, userData, 0);
    expect(result).toMatchObject({ rc: 0, errno: 0, fwError: 0, vmmError: 0, status: 0 });
    expectSignedReport(result.report, userData, 0);
  });

  it('carries a firmware error from exitinfo2 and no report', async () => {
    await fuse.control('fw_error=0x16');
    const result = await addon.getReport(guestFd, randomBytes(64), 0);
    expect(result).toMatchObject({ rc: -1, errno: 5, fwError: 0x16, vmmError: 0 });
    expect(result.report).toBeUndefined();
  });

  it('carries the legacy error word', async () => {
    await fuse.control('fw_error=0x7');
    expect(await addon.getLegacyReport(legacyFd, randomBytes(64), 0)).toMatchObject({ rc: -1, errno: 5, fwError: 7, vmmError: 0 });
  });

  it('carries a MSG_REPORT_RSP status when the firmware refuses the request itself', async () => {
    const result = await addon.getReport(guestFd, randomBytes(64), 4);
    expect(result).toMatchObject({ rc: 0, status: 0x16, reportSize: 0 });
    expect(result.report).toBeUndefined();
  });

  it('an ioctl of the other driver is ENOTTY', async () => {
    expect(await addon.getLegacyReport(guestFd, randomBytes(64), 0)).toMatchObject({ rc: -1, errno: 25 });
    expect(await addon.getReport(legacyFd, randomBytes(64), 0)).toMatchObject({ rc: -1, errno: 25 });
  });

  it('opening a missing path and closing a closed descriptor report their errno', async () => {
    expect(await addon.open(`${fuse.mount}/nope`)).toEqual({ fd: -1, errno: 2 });
    const { fd } = await addon.open(fuse.guestPath);
    expect(await addon.close(fd)).toEqual({ rc: 0, errno: 0 });
    expect(await addon.close(fd)).toEqual({ rc: -1, errno: 9 });
  });

  it.each([
    ['a short REPORT_DATA', () => addon.getReport(guestFd, Buffer.alloc(63), 0)],
    ['a string REPORT_DATA', () => addon.getReport(guestFd, 'x'.repeat(64) as unknown as Buffer, 0)],
    ['a negative descriptor', () => addon.getReport(-1, Buffer.alloc(64), 0)],
    ['a fractional VMPL', () => addon.getReport(guestFd, Buffer.alloc(64), 0.5)],
    ['a certificate buffer over the cap', () => addon.getExtReport(guestFd, Buffer.alloc(64), 0, addon.maxCertsLen + 4096)],
    ['a path that is not a string', () => addon.open(3 as unknown as string)],
  ])('rejects %s synchronously with a TypeError', (_name, call) => {
    // The addon's TypeError comes from Node's realm, not jest's sandbox: match it by name.
    expect(call).toThrow(expect.objectContaining({ name: 'TypeError' }));
  });

  it('makes exactly one SNP_GET_REPORT round trip through the kernel per report', async () => {
    const rounds = 50;
    const before = (await fuse.stats()).requests;
    const userData = randomBytes(64);
    for (let i = 0; i < rounds; i++) expect((await addon.getReport(guestFd, userData, 0)).rc).toBe(0);
    expect((await fuse.stats()).requests - before).toBe(rounds);
  });
});
