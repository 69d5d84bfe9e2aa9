import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeviceOutputMalformed, NoTeeDevice, TsmGenerationMismatch, TsmProviderUnsupported, TsmVmplBelowFloor } from '../../errors';
import { REPORT_SIZE } from '../abi/report';
import { checkReportRequest } from './request';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * The configfs-tsm report interface (Linux ≥ 6.7): one directory per request under the report
 * root, attribute files written and read, the directory removed afterwards
 * (the kernel's configfs-tsm ABI document). Nothing here is an ioctl, so it stays on the async fs API.
 */
export const DEFAULT_TSM_ROOT = '/sys/kernel/config/tsm/report';

/**
 * The few filesystem calls the device makes. configfs populates a new directory with its
 * attributes and produces outblob on read, which a plain directory cannot; tests inject an
 * implementation that plays the kernel's part.
 */
export interface TsmFs {
  access(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Buffer | string): Promise<void>;
}

const nodeFs: TsmFs = {
  access: (path) => access(path),
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  readFile: (path) => readFile(path),
  writeFile: (path, data) => writeFile(path, data),
};

export interface TsmOptions {
  /** Default /sys/kernel/config/tsm/report. */
  root?: string;
  fs?: TsmFs;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function parseCount(text: Buffer, what: string): number {
  const value = text.toString('latin1').trim();
  if (!/^\d+$/.test(value)) throw new DeviceOutputMalformed(`configfs-tsm ${what} is not a number`, { attribute: what });
  return Number(value);
}

let entries = 0;

class TsmDevice implements ReportDevice {
  readonly name = 'tsm' as const;
  readonly virtual = false;
  /** configfs-tsm entries are independent, but one at a time keeps the kernel's report lock uncontended and the generation check meaningful. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly fs: TsmFs,
  ) {}

  async getReport(request: ReportRequest): Promise<DeviceReport> {
    checkReportRequest(request.reportData, request.vmpl);
    const run = this.queue.then(() => this.withRetry(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A generation mismatch means someone else wrote into our entry; one fresh attempt settles a transient race. */
  private async withRetry(request: ReportRequest): Promise<DeviceReport> {
    try {
      return await this.once(request);
    } catch (err) {
      if (!(err instanceof TsmGenerationMismatch)) throw err;
      return this.once(request);
    }
  }

  private async once(request: ReportRequest): Promise<DeviceReport> {
    const dir = join(this.path, `skr-${process.pid}-${++entries}-${randomBytes(4).toString('hex')}`);
    await this.fs.mkdir(dir).catch((err: unknown) => {
      if (isMissing(err)) throw new NoTeeDevice(`configfs-tsm report directory ${this.path} is not available`, { path: this.path });
      throw err;
    });
    try {
      return await this.fill(dir, request);
    } finally {
      // Entries persist until removed; a failure to remove must not hide the request's own outcome.
      await this.fs.rmdir(dir).catch(() => undefined);
    }
  }

  private async fill(dir: string, request: ReportRequest): Promise<DeviceReport> {
    const attr = (name: string) => join(dir, name);
    const required = (name: string) =>
      this.fs.readFile(attr(name)).catch((err: unknown) => {
        if (isMissing(err)) throw new DeviceOutputMalformed(`configfs-tsm entry lacks ${name}`, { attribute: name });
        throw err;
      });
    const provider = (await required('provider')).toString('latin1').trim();
    if (provider !== 'sev_guest') throw new TsmProviderUnsupported(provider);

    // The kernel bumps generation on every attribute write; count ours to know what to expect.
    let expected = parseCount(await required('generation'), 'generation');
    if (request.vmpl !== undefined) {
      const floor = await this.fs.readFile(attr('privlevel_floor')).then(
        (text) => parseCount(text, 'privlevel_floor'),
        (err: unknown) => {
          if (isMissing(err)) return 0;
          throw err;
        },
      );
      if (request.vmpl < floor) throw new TsmVmplBelowFloor(request.vmpl, floor);
      await this.fs.writeFile(attr('privlevel'), String(request.vmpl));
      expected++;
    }
    await this.fs.writeFile(attr('inblob'), request.reportData);
    expected++;

    const report = await required('outblob');
    let certTable: Buffer | undefined;
    if (request.withCerts) {
      certTable = await this.fs.readFile(attr('auxblob')).catch((err: unknown) => {
        if (isMissing(err)) return undefined;
        throw err;
      });
    }
    const actual = parseCount(await required('generation'), 'generation');
    if (actual !== expected) throw new TsmGenerationMismatch(expected, actual);
    if (report.length !== REPORT_SIZE) {
      throw new DeviceOutputMalformed(`configfs-tsm outblob is ${report.length} bytes, expected ${REPORT_SIZE}`, { expected: REPORT_SIZE, actual: report.length });
    }
    return certTable && certTable.length > 0 ? { report, certTable } : { report };
  }

  async close(): Promise<void> {
    await this.queue;
  }
}

/** Opens the configfs-tsm report interface; fails with no_tee_device when the kernel does not offer it. */
export async function openTsmDevice(options: TsmOptions = {}): Promise<ReportDevice> {
  const root = options.root ?? DEFAULT_TSM_ROOT;
  const fs = options.fs ?? nodeFs;
  await fs.access(root).catch(() => {
    throw new NoTeeDevice(`configfs-tsm report directory ${root} is not available`, { path: root });
  });
  return new TsmDevice(root, fs);
}
