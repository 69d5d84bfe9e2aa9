import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VECTOR_EXPECTATIONS } from '../snp/vector-expectations';
import { FIXTURES, VECTOR_IDS } from '../snp/vectors';
import { runCli } from './run-cli';

const AT = '2025-12-06T12:00:00Z';
const vec = (id: string, file: string) => join(FIXTURES, 'snp', id, file);
const verify = (id: string, ...extra: string[]) => runCli(['report', 'verify', '--report', vec(id, 'report.bin'), '--vcek', vec(id, 'vek.der'), '--at', AT, ...extra]);

describe('skr report verify (CLI contract)', () => {
  test.each(VECTOR_IDS)('%s: exit 0 and the contract fields', (id) => {
    const expected = VECTOR_EXPECTATIONS[id]!;
    const { status, json } = verify(id);
    expect(status).toBe(0);
    expect(json).toMatchObject({
      version: expected.version,
      product: expected.product,
      signer: expected.signer,
      vmpl: expected.vmpl,
      policy: expected.policy,
      measurement: expected.measurement,
      hostData: expected.hostData,
      reportData: expected.reportData,
      chipId: expected.chipId,
      reportedTcb: expected.reportedTcb,
      debug: expected.policy === '0xb0000',
    });
    expect(json.chipId).toHaveLength(128);
  });

  test('--chain with the KDS bundle and --product agreeing with the evidence', () => {
    const { status, json } = verify('genoa-v5-oak', '--chain', join(FIXTURES, 'amd-roots', 'genoa_cert_chain.pem'), '--product', 'Genoa');
    expect(status).toBe(0);
    expect(json.product).toBe('Genoa');
  });

  test('a contradicting --product is refused with product_mismatch', () => {
    const { status, json } = verify('turin-v5-oak', '--product', 'Milan');
    expect(status).not.toBe(0);
    expect(json.error.code).toBe('product_mismatch');
  });

  test('without --at the clock is now, and the expired AWS VLEK is an error that says so', () => {
    const { status, json } = runCli(['report', 'verify', '--report', vec('milan-v3-vlek-aws', 'report.bin'), '--vcek', vec('milan-v3-vlek-aws', 'vek.der')]);
    expect(status).not.toBe(0);
    expect(json.error.code).toBe('vek_expired');
    expect(json.error.message).toMatch(/expired/);
  });

  test('a PEM --vcek, a hex report file and an Azure HCL report are accepted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skr-cli-'));
    const der = require('node:fs').readFileSync(vec('genoa-v3-azure-hcl', 'vek.der')) as Buffer;
    writeFileSync(join(dir, 'vek.pem'), `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);
    writeFileSync(join(dir, 'report.hex'), require('node:fs').readFileSync(vec('genoa-v3-azure-hcl', 'report.bin')).toString('hex'));
    const hex = runCli(['report', 'verify', '--report', join(dir, 'report.hex'), '--vcek', join(dir, 'vek.pem'), '--at', AT]);
    expect(hex.status).toBe(0);
    const hcl = runCli(['report', 'verify', '--report', vec('genoa-v3-azure-hcl', 'hcl-report.bin'), '--vcek', join(dir, 'vek.pem'), '--at', AT]);
    expect(hcl.status).toBe(0);
    expect(hcl.json.measurement).toBe(VECTOR_EXPECTATIONS['genoa-v3-azure-hcl']!.measurement);
  });

  test('validation runs only when its flags are given, and a failure exits non-zero', () => {
    expect(verify('milan-v2-gsg').status).toBe(0);
    const debug = verify('milan-v2-gsg', '--forbid-debug');
    expect(debug.status).not.toBe(0);
    expect(debug.json.error.code).toBe('policy_debug_allowed');
    const e = VECTOR_EXPECTATIONS['milan-v5-gcp-vmpl1']!;
    const ok = verify('milan-v5-gcp-vmpl1', '--vmpl', '1', '--measurement', e.measurement, '--host-data', e.hostData, '--min-tcb', '4,0,27,222');
    expect(ok.status).toBe(0);
    expect(ok.json.validation).toEqual({ passed: true });
    expect(verify('milan-v5-gcp-vmpl1', '--vmpl', '0').json.error.code).toBe('vmpl_mismatch');
    expect(verify('milan-v5-gcp-vmpl1', '--min-tcb', '4,0,28,0').json.error.code).toBe('reported_tcb_too_low');
    expect(verify('milan-v5-gcp-vmpl1', '--measurement', '00'.repeat(48)).json.error.code).toBe('measurement_mismatch');
  });

  test('an ARK of another product in --chain is refused: ark_not_trusted', () => {
    const { status, json } = verify('milan-v3-oak', '--chain', join(FIXTURES, 'amd-roots', 'genoa_cert_chain.pem'));
    expect(status).not.toBe(0);
    expect(json.error.code).toBe('ark_not_trusted');
  });

  test.each([
    [['report', 'verify', '--vcek', 'x'], 'invalid_argument'],
    [['report', 'verify', '--report', '/nonexistent', '--vcek', '/nonexistent'], 'invalid_argument'],
    [['report', 'verify', '--report', 'a', '--vcek', 'b', '--bogus'], 'invalid_argument'],
    [['report', 'verify', '--report', 'a', '--vcek', 'b', '--at', 'yesterday'], 'invalid_argument'],
    [['report', 'bogus'], 'invalid_argument'],
  ])('usage errors exit 2 with a JSON error: %j', (args, code) => {
    const { status, json } = runCli(args);
    expect(status).toBe(2);
    expect(json.error.code).toBe(code);
  });

  test.each([
    ['--vmpl', '4'],
    ['--measurement', 'zz'],
    ['--host-data', 'abcd'],
    ['--min-tcb', '1,2,3'],
    ['--product', 'Rome'],
  ])('bad validation flag %s %s is a usage error', (flag, value) => {
    const { status, json } = verify('milan-v3-oak', flag, value);
    expect(status).toBe(2);
    expect(json.error.code).toBe('invalid_argument');
  });

  test('a truncated report is refused with report_malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skr-cli-'));
    writeFileSync(join(dir, 'short.bin'), Buffer.alloc(100));
    const { status, json } = runCli(['report', 'verify', '--report', join(dir, 'short.bin'), '--vcek', vec('milan-v3-oak', 'vek.der')]);
    expect(status).toBe(1);
    expect(json.error.code).toBe('report_malformed');
  });
});
