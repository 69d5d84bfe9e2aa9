import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { openTsmDevice, type TsmFs } from '../../../src/snp/device/tsm';

interface FakeOptions {
  provider?: string;
  floor?: number;
  auxblob?: Buffer;
  outSize?: number;
  /** How many requests see another writer bump generation behind their back. */
  races?: number;
}

/**
 * Plays the kernel's part over a temporary directory: a new entry gets its attributes, each
 * write bumps generation, and writing inblob produces outblob (REPORT_DATA at 0x50) and auxblob.
 */
class FakeConfigfs implements TsmFs {
  made: string[] = [];
  removed: string[] = [];
  writes: string[] = [];
  active = 0;
  maxActive = 0;
  private races: number;

  constructor(private readonly options: FakeOptions = {}) {
    this.races = options.races ?? 0;
  }

  access = (path: string) => access(path);
  readFile = (path: string) => readFile(path);

  async mkdir(path: string): Promise<void> {
    await mkdir(path);
    this.made.push(path);
    this.maxActive = Math.max(this.maxActive, ++this.active);
    await writeFile(join(path, 'provider'), `${this.options.provider ?? 'sev_guest'}\n`);
    await writeFile(join(path, 'generation'), '0\n');
    if (this.options.floor !== undefined) await writeFile(join(path, 'privlevel_floor'), `${this.options.floor}\n`);
  }

  async rmdir(path: string): Promise<void> {
    // configfs removes an entry with its attributes; a plain directory needs rm -r.
    await rm(path, { recursive: true });
    this.removed.push(path);
    this.active--;
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    const dir = dirname(path);
    const attribute = basename(path);
    this.writes.push(`${attribute}=${Buffer.isBuffer(data) ? data.length + ' bytes' : data}`);
    await writeFile(path, data);
    let generation = Number(await readFile(join(dir, 'generation'), 'latin1')) + 1;
    if (attribute === 'inblob') {
      const report = Buffer.alloc(this.options.outSize ?? 0x4a0);
      Buffer.from(data).copy(report, 0x50);
      await writeFile(join(dir, 'outblob'), report);
      if (this.options.auxblob) await writeFile(join(dir, 'auxblob'), this.options.auxblob);
      if (this.races > 0) {
        this.races--;
        generation++;
      }
    }
    await writeFile(join(dir, 'generation'), `${generation}\n`);
  }
}

describe('configfs-tsm device', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'skr-tsm-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const reportData = Buffer.alloc(64, 0x5a);

  it('gets a report through a private entry and removes it', async () => {
    const fs = new FakeConfigfs();
    const device = await openTsmDevice({ root, fs });
    expect(device).toMatchObject({ name: 'tsm', path: root, virtual: false });
    const { report, certTable } = await device.getReport({ reportData });
    expect(report).toHaveLength(0x4a0);
    expect(report.subarray(0x50, 0x90)).toEqual(reportData);
    expect(certTable).toBeUndefined();
    expect(fs.writes).toEqual(['inblob=64 bytes']);
    expect(fs.made).toHaveLength(1);
    expect(fs.removed).toEqual(fs.made);
    expect(await readdir(root)).toEqual([]);
  });

  it('writes privlevel when a VMPL is asked for and returns auxblob with certificates', async () => {
    const fs = new FakeConfigfs({ floor: 0, auxblob: Buffer.from('table') });
    const device = await openTsmDevice({ root, fs });
    const { certTable } = await device.getReport({ reportData, vmpl: 2, withCerts: true });
    expect(certTable?.toString()).toBe('table');
    expect(fs.writes).toEqual(['privlevel=2', 'inblob=64 bytes']);
  });

  it('treats an empty or missing auxblob as no certificate table', async () => {
    for (const auxblob of [Buffer.alloc(0), undefined]) {
      const device = await openTsmDevice({ root, fs: new FakeConfigfs({ auxblob }) });
      expect((await device.getReport({ reportData, withCerts: true })).certTable).toBeUndefined();
    }
  });

  it('retries once when another writer moved generation, then succeeds', async () => {
    const fs = new FakeConfigfs({ races: 1 });
    const device = await openTsmDevice({ root, fs });
    await expect(device.getReport({ reportData })).resolves.toHaveProperty('report');
    expect(fs.made).toHaveLength(2);
    expect(fs.removed).toEqual(fs.made);
  });

  it('gives up after the second generation mismatch', async () => {
    const fs = new FakeConfigfs({ races: 2 });
    const device = await openTsmDevice({ root, fs });
    await expect(device.getReport({ reportData })).rejects.toMatchObject({ code: 'tsm_generation_mismatch', details: { expected: 1, actual: 2 } });
    expect(fs.made).toHaveLength(2);
    expect(await readdir(root)).toEqual([]);
  });

  it.each([
    ['a provider other than sev_guest', { provider: 'tdx_guest' }, {}, 'tsm_provider_unsupported'],
    ['an outblob of the wrong size', { outSize: 0x4a0 + 0x20 }, {}, 'tee_output_malformed'],
    ['a VMPL below privlevel_floor', { floor: 2 }, { vmpl: 1 }, 'vmpl_below_floor'],
  ])('refuses %s and still removes the entry', async (_name, fake: FakeOptions, extra, code) => {
    const fs = new FakeConfigfs(fake);
    const device = await openTsmDevice({ root, fs });
    await expect(device.getReport({ reportData, ...extra })).rejects.toMatchObject({ code });
    expect(fs.made).toHaveLength(1);
    expect(fs.removed).toEqual(fs.made);
    expect(await readdir(root)).toEqual([]);
  });

  it('writes nothing when the VMPL is below the floor', async () => {
    const fs = new FakeConfigfs({ floor: 1 });
    const device = await openTsmDevice({ root, fs });
    await expect(device.getReport({ reportData, vmpl: 0 })).rejects.toThrow(/below this guest's privlevel_floor 1/);
    expect(fs.writes).toEqual([]);
  });

  it.each([
    ['REPORT_DATA shorter than 64 bytes', { reportData: Buffer.alloc(32) }],
    ['a VMPL outside 0..3', { reportData, vmpl: 4 }],
  ])('rejects %s before touching configfs', async (_name, request) => {
    const fs = new FakeConfigfs();
    const device = await openTsmDevice({ root, fs });
    await expect(device.getReport(request)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(fs.made).toEqual([]);
  });

  it('serialises concurrent requests', async () => {
    const fs = new FakeConfigfs();
    const device = await openTsmDevice({ root, fs });
    const reports = await Promise.all([1, 2, 3, 4].map((n) => device.getReport({ reportData: Buffer.alloc(64, n) })));
    expect(reports.map((r) => r.report[0x50])).toEqual([1, 2, 3, 4]);
    expect(fs.maxActive).toBe(1);
    await device.close();
  });

  it('keeps serving after a failed request', async () => {
    const fs = new FakeConfigfs({ floor: 1 });
    const device = await openTsmDevice({ root, fs });
    await expect(device.getReport({ reportData, vmpl: 0 })).rejects.toThrow();
    await expect(device.getReport({ reportData, vmpl: 1 })).resolves.toHaveProperty('report');
  });

  it('says there is no TEE device when the report directory is absent', async () => {
    await expect(openTsmDevice({ root: join(root, 'missing') })).rejects.toMatchObject({ code: 'no_tee_device', status: 503 });
  });

  it('refuses a directory that is not configfs (default fs: entries come without attributes)', async () => {
    const device = await openTsmDevice({ root });
    await expect(device.getReport({ reportData })).rejects.toMatchObject({ code: 'tee_output_malformed', details: { attribute: 'provider' } });
    expect(await readdir(root)).toEqual([]);
  });
});
