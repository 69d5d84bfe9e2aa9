import { join } from 'node:path';
import { ADDON_PATH, loadSevGuestAddon } from '../../../src/snp/native';
import { ensureAddon } from './fuse-harness';

const REPO = join(__dirname, '..', '..', '..');

describe('loadSevGuestAddon', () => {
  beforeAll(ensureAddon, 120_000);

  it('finds the addon node-gyp built under the package root', () => {
    expect(ADDON_PATH).toBe(join(REPO, 'build', 'Release', 'sevguest.node'));
    const addon = loadSevGuestAddon();
    expect(addon).toBe(loadSevGuestAddon());
    for (const name of ['open', 'close', 'getReport', 'getExtReport', 'getLegacyReport'] as const) expect(typeof addon[name]).toBe('function');
    expect(addon.maxCertsLen).toBe(65536);
  });

  it('says how to build the addon when it is not there', () => {
    // With no package.json in sight the loader looks next to itself, where no addon is built.
    jest.isolateModules(() => {
      jest.doMock('node:fs', () => ({ ...jest.requireActual<typeof import('node:fs')>('node:fs'), existsSync: () => false }));
      const native = jest.requireActual<typeof import('../../../src/snp/native')>('../../../src/snp/native');
      expect(() => native.loadSevGuestAddon()).toThrow(expect.objectContaining({ code: 'native_addon_unavailable', status: 503 }));
      expect(() => native.loadSevGuestAddon()).toThrow(/npm run build:native/);
    });
  });
});
