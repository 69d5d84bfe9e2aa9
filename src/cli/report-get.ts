import { InvalidArgument } from '../errors';
import { describeDeviceChoices, isDeviceChoice, openDevice } from '../snp';
import { reportDataFor } from '../snp';
import { decodeRuntimeData } from '../sidecar';
import { parseFlags, parseVmpl } from './args';
import { stateDirFrom } from './state-dir';

const FLAGS = {
  device: { type: 'string' },
  'device-path': { type: 'string' },
  'state-dir': { type: 'string' },
  'runtime-data': { type: 'string' },
  vmpl: { type: 'string' },
} as const;

/** `skr report get`: one report from the chosen device, as hex. */
export async function reportGet(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, FLAGS);
  const choice = (flags.device as string | undefined) ?? 'auto';
  if (!isDeviceChoice(choice)) throw new InvalidArgument(`--device must be ${describeDeviceChoices()}`, { flag: 'device' });
  const device = await openDevice({
    device: choice,
    path: flags['device-path'] as string | undefined,
    stateDir: stateDirFrom(flags['state-dir'] as string | undefined),
  });
  try {
    let runtime: Buffer;
    try {
      runtime = decodeRuntimeData((flags['runtime-data'] as string | undefined) ?? '', 'runtime-data');
    } catch {
      throw new InvalidArgument('--runtime-data must be base64', { flag: 'runtime-data' });
    }
    const vmpl = flags.vmpl === undefined ? undefined : parseVmpl(flags.vmpl as string);
    const { report } = await device.getReport({ reportData: reportDataFor(runtime), vmpl });
    return { report: report.toString('hex'), device: device.name };
  } finally {
    await device.close();
  }
}
