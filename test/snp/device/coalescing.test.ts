import { CoalescingDevice } from '../../../src/snp/device/coalescing';
import type { DeviceReport, ReportDevice, ReportRequest } from '../../../src/snp/device/types';
import { openVirtualDevice, type VirtualDevice } from '../../../src/snp/device/virtual';
import { parseReport } from '../../../src/snp/abi';
import { verifyReport } from '../../../src/snp/verify';
import { KEYGEN_TIMEOUT, useTempDirs } from '../virtual/helpers';

const tempDir = useTempDirs();
let virtual: VirtualDevice;

beforeAll(async () => {
  virtual = await openVirtualDevice(await tempDir());
}, KEYGEN_TIMEOUT);

/**
 * The real virtual device, with its calls counted and, when asked, held until released: what a
 * test needs to see which call made which report.
 */
class WatchedDevice implements ReportDevice {
  readonly name = 'virtual' as const;
  readonly path = 'watched';
  readonly virtual = true;
  calls: ReportRequest[] = [];
  made: Buffer[] = [];
  hold = false;
  failNext = false;
  private held: (() => void)[] = [];

  async getReport(request: ReportRequest): Promise<DeviceReport> {
    this.calls.push({ ...request, reportData: Buffer.from(request.reportData) });
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('firmware error');
    }
    const result = await virtual.getReport(request);
    this.made.push(Buffer.from(result.report));
    return result;
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }

  async close(): Promise<void> {}
}

const data = (seed: number) => Buffer.alloc(64, seed);
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('32 identical requests at once cost two reports, and every caller gets a genuine report of its data', async () => {
  const watched = new WatchedDevice();
  const device = new CoalescingDevice(watched);
  const results = await Promise.all(Array.from({ length: 32 }, () => device.getReport({ reportData: data(1), withCerts: true })));
  expect(watched.calls).toHaveLength(2);
  for (const { report, certTable } of results) {
    expect(parseReport(report).reportData).toEqual(data(1));
    await expect(verifyReport({ report, certTable }, { now: new Date(), trustedRoots: [virtual.pki.root] })).resolves.toMatchObject({ signer: 'VCEK' });
  }
});

test('a request that arrives while a report is being made gets the next one, never the one already under way', async () => {
  const watched = new WatchedDevice();
  const device = new CoalescingDevice(watched);
  watched.hold = true;
  const first = device.getReport({ reportData: data(2) });
  await tick();
  const late = [device.getReport({ reportData: data(2) }), device.getReport({ reportData: data(2) })];
  await tick();
  expect(watched.calls).toHaveLength(1);
  watched.hold = false;
  watched.release();
  const [a, b, c] = await Promise.all([first, ...late]);
  expect(watched.calls).toHaveLength(2);
  expect(a!.report).toEqual(watched.made[0]);
  expect(b!.report).toEqual(watched.made[1]);
  expect(c!.report).toEqual(watched.made[1]);
  // ECDSA signatures are randomised: the two calls made two different reports.
  expect(watched.made[0]).not.toEqual(watched.made[1]);
});

test('different report data, VMPL or certificate choice are never shared', async () => {
  const watched = new WatchedDevice();
  const device = new CoalescingDevice(watched);
  const requests: ReportRequest[] = [{ reportData: data(3) }, { reportData: data(4) }, { reportData: data(3), vmpl: 1 }, { reportData: data(3), withCerts: true }];
  const results = await Promise.all(requests.map((r) => device.getReport(r)));
  expect(watched.calls).toHaveLength(4);
  results.forEach((result, i) => {
    expect(parseReport(result.report).reportData).toEqual(requests[i]!.reportData);
    expect(result.certTable !== undefined).toBe(requests[i]!.withCerts === true);
  });
  expect(parseReport(results[2]!.report).vmpl).toBe(1);
});

test('a failed report fails its own caller only; those waiting get a report of their own', async () => {
  const watched = new WatchedDevice();
  const device = new CoalescingDevice(watched);
  watched.hold = true;
  watched.failNext = true;
  const first = device.getReport({ reportData: data(5) });
  await tick();
  const waiting = device.getReport({ reportData: data(5) });
  watched.hold = false;
  watched.release();
  await expect(first).rejects.toThrow('firmware error');
  expect(parseReport((await waiting).report).reportData).toEqual(data(5));
  // Nothing is left in flight: the next request is a call of its own.
  await device.getReport({ reportData: data(5) });
  expect(watched.calls).toHaveLength(3);
});

test("callers share no buffer: changing an answer or a request afterwards changes no one else's", async () => {
  const watched = new WatchedDevice();
  const device = new CoalescingDevice(watched);
  watched.hold = true;
  const first = device.getReport({ reportData: data(6) });
  await tick();
  const mine = data(6);
  const waiting = [device.getReport({ reportData: mine }), device.getReport({ reportData: data(6) })];
  mine.fill(0xee);
  watched.hold = false;
  watched.release();
  await first;
  const [a, b] = await Promise.all(waiting);
  expect(parseReport(a!.report).reportData).toEqual(data(6));
  a!.report.fill(0);
  expect(parseReport(b!.report).reportData).toEqual(data(6));
});

test('a malformed request is refused with the one request check, before it reaches the device', async () => {
  const watched = new WatchedDevice();
  const device = new CoalescingDevice(watched);
  await expect(device.getReport({ reportData: Buffer.alloc(63) })).rejects.toMatchObject({ code: 'invalid_argument', details: { field: 'reportData' } });
  await expect(device.getReport({ reportData: data(7), vmpl: 1.5 })).rejects.toMatchObject({ code: 'invalid_argument', details: { field: 'vmpl' } });
  await expect(device.getReport({ reportData: data(7), vmpl: 4 })).rejects.toMatchObject({ code: 'invalid_argument', details: { field: 'vmpl' } });
  expect(watched.calls).toHaveLength(0);
  expect(device.name).toBe('virtual');
  expect(device.virtual).toBe(true);
});
