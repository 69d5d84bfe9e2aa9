import { serializeCertTable, CERT_GUIDS } from '../../../src/snp/abi';
import { SevDeviceNode, type NativeExtReportResult, type SevGuestAddon } from '../../../src/snp/native';

/**
 * How SevDeviceNode judges raw ioctl outcomes, over a scripted stand-in for the addon — the
 * cases the FUSE daemon cannot easily produce, and a run that needs neither FUSE nor root.
 */
type Outcome = Partial<NativeExtReportResult>;

const REPORT = Buffer.alloc(0x4a0, 7);
const OK: Outcome = { rc: 0, errno: 0, fwError: 0, vmmError: 0, status: 0, reportSize: 0x4a0, report: REPORT };
const EIO = 5;

class ScriptedAddon implements SevGuestAddon {
  readonly maxCertsLen = 65536;
  readonly log: string[] = [];
  private nextFd = 10;

  constructor(
    private readonly outcomes: Outcome[],
    private readonly openErrno = 0,
  ) {}

  private next(call: string, fd: number): Promise<NativeExtReportResult> {
    this.log.push(`${call}(${fd})`);
    const outcome = this.outcomes.shift() ?? OK;
    return Promise.resolve({ rc: 0, errno: 0, fwError: 0, vmmError: 0, status: 0, reportSize: 0, certsLen: 0, ...outcome });
  }

  open = async (path: string) => {
    this.log.push(`open(${path})`);
    return this.openErrno ? { fd: -1, errno: this.openErrno } : { fd: this.nextFd++, errno: 0 };
  };
  close = async (fd: number) => {
    this.log.push(`close(${fd})`);
    return { rc: 0, errno: 0 };
  };
  getReport: SevGuestAddon['getReport'] = (fd) => this.next('getReport', fd);
  getExtReport: SevGuestAddon['getExtReport'] = (fd) => this.next('getExtReport', fd);
  getLegacyReport: SevGuestAddon['getLegacyReport'] = (fd) => this.next('getLegacyReport', fd);
}

const DATA = Buffer.alloc(64);

async function nodeFor(outcomes: Outcome[]): Promise<{ node: SevDeviceNode; addon: ScriptedAddon }> {
  const addon = new ScriptedAddon(outcomes);
  return { node: await SevDeviceNode.open('/dev/x', { addon, busyBackoffMs: 1 }), addon };
}

describe('SevDeviceNode', () => {
  it.each<[string, Outcome, Record<string, unknown>]>([
    ['an errno without exitinfo2', { rc: -1, errno: 22 }, { code: 'device_io_error', errno: 'EINVAL' }],
    ['SEV_RET_NO_FW_CALL in exitinfo2', { rc: -1, errno: EIO, fwError: 0xffffffff, vmmError: 0xffffffff }, { code: 'device_io_error', errno: 'EIO' }],
    ['a firmware error', { rc: -1, errno: EIO, fwError: 0x16 }, { code: 'firmware_error', fwError: 0x16, vmmError: 0 }],
    ['a host-specific VMM error', { rc: -1, errno: EIO, fwError: 0xff, vmmError: 0x80000000 }, { code: 'firmware_error', vmmError: 0x80000000 }],
    ['a MSG_REPORT_RSP status', { rc: 0, status: 0x16 }, { code: 'firmware_error', fwError: 0x16 }],
    ['a report of the wrong size', { rc: 0, reportSize: 0x4a0 - 1, report: REPORT }, { code: 'tee_output_malformed' }],
  ])('turns %s into a typed error', async (_name, outcome, expected) => {
    const { node } = await nodeFor([outcome]);
    await expect(node.getReport(DATA, 0)).rejects.toMatchObject(expected);
  });

  it('names firmware and VMM errors in the details', async () => {
    const { node } = await nodeFor([
      { rc: -1, errno: EIO, fwError: 0xff, vmmError: 0x80000000 },
      { rc: 0, status: 0x16 },
    ]);
    await expect(node.getReport(DATA, 0)).rejects.toMatchObject({ details: { fwErrorName: 'NOT_FIRMWARE', vmmErrorName: 'HOST_ERROR', errno: 'EIO' } });
    await expect(node.getReport(DATA, 0)).rejects.toMatchObject({ details: { fwErrorName: 'INVALID_PARAM', source: 'MSG_REPORT_RSP' } });
  });

  it('an INVALID_LEN the addon could not satisfy carries the size the host wants', async () => {
    const { node } = await nodeFor([{ rc: -1, errno: EIO, vmmError: 1, certsLen: 0x20000 }]);
    await expect(node.getExtReport(DATA, 0, 4096)).rejects.toMatchObject({
      code: 'firmware_error',
      details: { vmmErrorName: 'INVALID_LEN', certsLen: 0x20000 },
    });
  });

  describe('certificate table', () => {
    const table = serializeCertTable([{ guid: CERT_GUIDS.vcek, data: Buffer.alloc(100, 1) }]);
    const padded = (bytes: Buffer) => Buffer.concat([bytes, Buffer.alloc(4096 - bytes.length)]);

    it.each([
      ['drops the page padding after the table', padded(table), table],
      ['is empty when the host provided nothing', Buffer.alloc(4096), Buffer.alloc(0)],
      ['is left whole when it has no terminating entry', Buffer.alloc(4096, 0xee), Buffer.alloc(4096, 0xee)],
    ])('%s', async (_name, certs, expected) => {
      const { node } = await nodeFor([{ ...OK, certs, certsLen: 4096 }]);
      expect((await node.getExtReport(DATA, 0, 4096)).certTable).toEqual(expected);
    });
  });

  it.each([
    ['ENOENT', 2, 'no_tee_device'],
    ['ENXIO', 6, 'no_tee_device'],
    ['EACCES', 13, 'device_io_error'],
  ])('an open failing with %s (errno %d) is %s', async (errno, code, expected) => {
    const addon = new ScriptedAddon([], code);
    await expect(SevDeviceNode.open('/dev/x', { addon })).rejects.toMatchObject({ code: expected, details: { errno, path: '/dev/x' } });
  });

  it('reopens a descriptor whose server went away (ENOTCONN), closing the dead one', async () => {
    const { node, addon } = await nodeFor([{ rc: -1, errno: 107 }, OK]);
    await expect(node.getReport(DATA, 0)).resolves.toEqual(REPORT);
    expect(addon.log).toEqual(['open(/dev/x)', 'getReport(10)', 'close(10)', 'open(/dev/x)', 'getReport(11)']);
  });

  it('reopens after EBADF without closing a number that is no longer its own', async () => {
    const { node, addon } = await nodeFor([{ rc: -1, errno: 9 }, OK]);
    await expect(node.getReport(DATA, 0)).resolves.toEqual(REPORT);
    expect(addon.log).toEqual(['open(/dev/x)', 'getReport(10)', 'open(/dev/x)', 'getReport(11)']);
  });

  it('reopens once only', async () => {
    const { node, addon } = await nodeFor([
      { rc: -1, errno: 19 },
      { rc: -1, errno: 19 },
    ]);
    await expect(node.getReport(DATA, 0)).rejects.toMatchObject({ code: 'device_io_error', errno: 'ENODEV' });
    expect(addon.log.filter((c) => c.startsWith('getReport'))).toHaveLength(2);
  });

  it('retries BUSY with backoff, then gives up with device_busy', async () => {
    const busy: Outcome = { rc: -1, errno: EIO, vmmError: 2 };
    const { node, addon } = await nodeFor([busy, busy, busy, OK, busy, busy, busy, busy]);
    await expect(node.getLegacyReport(DATA, 0)).resolves.toEqual(REPORT);
    await expect(node.getLegacyReport(DATA, 0)).rejects.toMatchObject({ code: 'device_busy', status: 503, details: { attempts: 4 } });
    expect(addon.log.filter((c) => c.startsWith('getLegacyReport'))).toHaveLength(8);
  });

  it('runs one request at a time, in order', async () => {
    const addon = new ScriptedAddon([]);
    let active = 0;
    let most = 0;
    const order: number[] = [];
    addon.getReport = async (fd, data) => {
      most = Math.max(most, ++active);
      await new Promise((resolve) => setTimeout(resolve, 2));
      order.push(data[0]);
      active--;
      return { rc: 0, errno: 0, fwError: 0, vmmError: 0, status: 0, reportSize: 0x4a0, report: Buffer.from([fd]) };
    };
    const node = await SevDeviceNode.open('/dev/x', { addon });
    await Promise.all(Array.from({ length: 10 }, (_, i) => node.getReport(Buffer.alloc(64, i), 0)));
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('close waits for queued requests; later requests fail with EBADF and open nothing', async () => {
    const { node, addon } = await nodeFor([]);
    const pending = node.getReport(DATA, 0);
    await node.close();
    await expect(pending).resolves.toEqual(REPORT);
    await expect(node.getReport(DATA, 0)).rejects.toMatchObject({ code: 'device_io_error', errno: 'EBADF' });
    expect(addon.log).toEqual(['open(/dev/x)', 'getReport(10)', 'close(10)']);
  });
});
