import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSidecarConfig } from '../../../src/sidecar/config';
import { DEVICE_CHOICES, DEVICE_TYPES, describeDeviceChoices, openDevice } from '../../../src/snp/device';
import { runCli } from '../../cli/run-cli';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'skr.js');
const names = DEVICE_TYPES.map((type) => type.name);

describe('the device registry is the one list of device names', () => {
  test('the choices are auto and every registered device, each once', () => {
    expect(DEVICE_CHOICES).toEqual(['auto', ...names]);
    expect(new Set(names).size).toBe(names.length);
    expect(describeDeviceChoices()).toBe(`${['auto', ...names].slice(0, -1).join(', ')} or ${names[names.length - 1]}`);
  });

  test('auto probes hardware only: the virtual device has no probe', () => {
    expect(DEVICE_TYPES.find((type) => type.name === 'virtual')).not.toHaveProperty('probe');
    expect(DEVICE_TYPES.filter((type) => 'probe' in type).map((type) => type.name)).toEqual(['tsm', 'sev-guest', 'sev']);
  });

  test.each(DEVICE_CHOICES)('the sidecar config accepts %s', (device) => {
    expect(loadSidecarConfig({ flags: { device }, env: {} }).device).toBe(device);
  });

  test("the sidecar config refuses an unknown device, naming the registry's choices", () => {
    expect(() => loadSidecarConfig({ flags: { device: 'quantum' }, env: {} })).toThrow(`device must be ${describeDeviceChoices()}`);
  });

  test('openDevice opens a registered device by name and refuses an unknown one', async () => {
    const device = await openDevice({ device: 'virtual', stateDir: mkdtempSync(join(tmpdir(), 'skr-registry-')) });
    expect(device.name).toBe('virtual');
    await device.close();
    await expect(openDevice({ device: 'quantum' as never })).rejects.toMatchObject({ code: 'invalid_argument' });
  }, 60_000);

  test("skr report get refuses an unknown device, naming the registry's choices", () => {
    const { status, json } = runCli(['report', 'get', '--device', 'quantum']);
    expect(status).not.toBe(0);
    expect(json.error).toMatchObject({ code: 'invalid_argument', message: `--device must be ${describeDeviceChoices()}` });
  });

  test("the CLI usage offers the registry's choices for --device", () => {
    const { stderr } = spawnSync(process.execPath, [BIN, 'no-such-command'], { encoding: 'utf8' });
    const offered = [...stderr.matchAll(/--device ([a-z|-]+)\]/g)].map((m) => m[1]);
    expect(offered).toEqual([DEVICE_CHOICES.join('|'), DEVICE_CHOICES.join('|')]);
  });
});
