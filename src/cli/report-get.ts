import { createHash } from 'node:crypto';
import { InvalidArgument } from '../errors';
import { decodeBase64Url } from '../lib/base64url';
import { isDeviceChoice, openDevice } from '../snp/device';
import { parseFlags, parseInteger } from './args';
import { stateDirFrom } from './state-dir';

const FLAGS = {
  device: { type: 'string' },
  'device-path': { type: 'string' },
  'state-dir': { type: 'string' },
  'runtime-data': { type: 'string' },
  vmpl: { type: 'string' },
} as const;

/** Runtime data arrives base64 (standard or URL-safe, as Microsoft's sidecar accepts it). */
export function decodeRuntimeData(text: string): Buffer {
  const bytes = decodeBase64Url(text.replace(/\+/g, '-').replace(/\//g, '_'));
  if (!bytes) throw new InvalidArgument('--runtime-data must be base64', { flag: 'runtime-data' });
  return bytes;
}

/** REPORT_DATA as Microsoft's sidecar makes it: SHA-256 of the runtime data, then 32 zero bytes. */
export function reportDataFor(runtimeData: Buffer): Buffer {
  return Buffer.concat([createHash('sha256').update(runtimeData).digest(), Buffer.alloc(32)]);
}

/** `skr report get`: one report from the chosen device, as hex. */
export async function reportGet(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, FLAGS);
  const choice = (flags.device as string | undefined) ?? 'auto';
  if (!isDeviceChoice(choice)) throw new InvalidArgument('--device must be auto, sev-guest, sev, tsm or virtual', { flag: 'device' });
  const device = await openDevice({
    device: choice,
    path: flags['device-path'] as string | undefined,
    stateDir: stateDirFrom(flags['state-dir'] as string | undefined),
  });
  try {
    const runtime = decodeRuntimeData((flags['runtime-data'] as string | undefined) ?? '');
    const vmpl = flags.vmpl === undefined ? undefined : parseInteger(flags.vmpl as string, 'vmpl', 0, 3);
    const { report } = await device.getReport({ reportData: reportDataFor(runtime), vmpl });
    return { report: report.toString('hex'), device: device.name };
  } finally {
    await device.close();
  }
}
