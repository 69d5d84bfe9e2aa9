import { openVirtualDevice } from '../src/snp/device/virtual';

/**
 * The virtual device's own signing rate, in this process and without HTTP: reports one at a
 * time, and many in flight at once (each a P-384 signature on libuv's thread pool). The
 * figure behind the virtual signer's choice of the thread pool over worker threads.
 */
export interface DeviceFigures {
  serial_rps: number;
  concurrent_rps: number;
}

const REPORTS = 400;

async function rate(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Math.round(REPORTS / (Number(process.hrtime.bigint() - start) / 1e9));
}

export async function benchVirtualDevice(stateDir: string): Promise<DeviceFigures> {
  const device = await openVirtualDevice(stateDir);
  const reportData = Buffer.alloc(64, 1);
  await device.getReport({ reportData });
  const serial_rps = await rate(async () => {
    for (let i = 0; i < REPORTS; i++) await device.getReport({ reportData });
  });
  const concurrent_rps = await rate(() => Promise.all(Array.from({ length: REPORTS }, () => device.getReport({ reportData }))));
  await device.close();
  return { serial_rps, concurrent_rps };
}
