import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReport } from '../../src/snp/abi';
import { describeWithFuse, FUSE_SETUP_TIMEOUT_MS, startFuseSev, type FuseSev } from '../snp/native/fuse-harness';
import { runCli } from './run-cli';

const runtime = Buffer.from('{"keys":[]}');
const expectedReportData = Buffer.concat([createHash('sha256').update(runtime).digest(), Buffer.alloc(32)]);

describe('skr report get (CLI contract)', () => {
  test('the virtual device, chosen by name: report_data = SHA-256(runtime data) ‖ 32 zero bytes', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'skr-cli-state-'));
    const init = runCli(['virtual', 'init', '--state-dir', stateDir]);
    expect(init.status).toBe(0);
    expect(init.json.arkSha256).toMatch(/^[0-9a-f]{64}$/);
    const { status, json } = runCli(['report', 'get', '--device', 'virtual', '--state-dir', stateDir, '--runtime-data', runtime.toString('base64'), '--vmpl', '2']);
    expect(status).toBe(0);
    expect(json.device).toBe('virtual');
    const report = parseReport(Buffer.from(json.report, 'hex'));
    expect(report.reportData).toEqual(expectedReportData);
    expect(report.vmpl).toBe(2);
  });

  test('auto never falls back to the virtual device: no_tee_device naming where it looked', () => {
    const { status, json } = runCli(['report', 'get']);
    expect(status).not.toBe(0);
    expect(json.error.code).toBe('no_tee_device');
    expect(json.error.message).toContain('/dev/sev-guest');
    expect(json.error.message).toContain('/sys/kernel/config/tsm/report');
  });

  test.each([
    [['--device', 'quantum'], 'invalid_argument'],
    [['--device', 'virtual', '--runtime-data', '***'], 'invalid_argument'],
    [['--device', 'sev-guest', '--device-path', '/nonexistent/sev-guest'], 'no_tee_device'],
  ])('%j → %s', (args, code) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'skr-cli-state-'));
    const { status, json } = runCli(['report', 'get', '--state-dir', stateDir, ...args]);
    expect(status).not.toBe(0);
    expect(json.error.code).toBe(code);
  });
});

describeWithFuse('skr report get through the kernel (FUSE sev-guest)', () => {
  let fuse: FuseSev;
  beforeAll(async () => {
    fuse = await startFuseSev();
  }, FUSE_SETUP_TIMEOUT_MS);
  afterAll(() => fuse?.stop(), 30_000);

  test.each([
    ['sev-guest', () => fuse.guestPath],
    ['sev', () => fuse.legacyPath],
  ])('--device %s', (device, path) => {
    const { status, json } = runCli(['report', 'get', '--device', device, '--device-path', path(), '--runtime-data', runtime.toString('base64')]);
    expect(status).toBe(0);
    expect(json.device).toBe(device);
    expect(parseReport(Buffer.from(json.report, 'hex')).reportData).toEqual(expectedReportData);
  });
});
