import { X509Certificate } from 'node:crypto';
import { assertNotRevoked, createCrlSource, crlsFromFile, parseCrl, verifyCrl } from '../../src/snp/certs';
import { amdRoots } from '../../src/snp/roots';
import { verifyReport } from '../../src/snp/verify';
import { startServer, type LocalServer } from './certs/local-server';
import { fixture, loadVector } from './vectors';
import { noRetry } from './certs/getters';

/**
 * Revocation against AMD's own published CRLs (test/fixtures/amd-crl): they verify against the
 * pinned ARKs, the genuine reports pass the check inside each CRL's validity, and a CRL past its
 * nextUpdate is refused as stale. The clock is injected: both CRLs are past their nextUpdate today.
 */
const milanCrlFile = fixture('amd-crl', 'milan_crl.pem');
const genoaCrlFile = fixture('amd-crl', 'genoa_crl.pem');
const [milanCrlDer] = crlsFromFile(milanCrlFile);
const [genoaCrlDer] = crlsFromFile(genoaCrlFile);
const arkOf = (product: string) => amdRoots().find((r) => r.product === product)!;

/** Inside milan_crl.pem's thisUpdate (2025-05-06) .. nextUpdate (2026-05-12) and every Milan VEK's validity. */
const MILAN_TIME = new Date('2025-12-06T12:00:00Z');
/** Inside genoa_crl.pem's thisUpdate (2024-10-23) .. nextUpdate (2025-11-03) and both Genoa VCEKs' validity. */
const GENOA_TIME = new Date('2025-09-01T00:00:00Z');

describe("AMD's published CRLs", () => {
  test.each([
    ['Milan', milanCrlDer!],
    ['Genoa', genoaCrlDer!],
  ])('the %s CRL verifies against its pinned ARK and no other', (product, der) => {
    const crl = parseCrl(der);
    expect(() => verifyCrl(crl, arkOf(product).ark)).not.toThrow();
    for (const other of amdRoots().filter((r) => r.product !== product)) {
      expect(() => verifyCrl(crl, other.ark)).toThrow(expect.objectContaining({ code: 'crl_invalid' }));
    }
  });

  test('the Genoa CRL revokes serial 020001 (the older Genoa ASK) and not the current ASK 020002', () => {
    const crl = parseCrl(genoaCrlDer!);
    expect(crl.revokedSerials).toEqual(['20001']);
    const ask = arkOf('Genoa').ask!;
    expect(ask.serialNumber).toBe('020002');
    expect(() => assertNotRevoked(crl, ask, 'ASK')).not.toThrow();
    expect(parseCrl(milanCrlDer!).revokedSerials).toEqual([]);
  });

  test('PEM and DER files hold the same CRL', () => {
    expect(crlsFromFile(genoaCrlDer!)).toEqual([genoaCrlDer]);
    expect(genoaCrlFile.toString('latin1')).toMatch(/^-----BEGIN X509 CRL-----/);
  });
});

describe('genuine reports with checkRevocations on', () => {
  const files = createCrlSource({ files: [milanCrlFile, genoaCrlFile] });

  test.each([
    ['milan-v3-oak', MILAN_TIME],
    ['milan-v5-gcp-vmpl1', MILAN_TIME],
    ['milan-v2-aci-thim', MILAN_TIME],
    ['milan-v3-vlek-aws', MILAN_TIME],
    ['genoa-v5-oak', GENOA_TIME],
    ['genoa-v3-azure-hcl', GENOA_TIME],
  ])("%s passes against its ARK's CRL", async (id, now) => {
    const { report, vek } = loadVector(id);
    await expect(verifyReport({ report, vek }, { now, checkRevocations: true, crls: files.get })).resolves.toMatchObject({ genuine: true });
  });

  test('a Turin report fails closed when no Turin CRL is available', async () => {
    const { report, vek } = loadVector('turin-v5-oak');
    await expect(verifyReport({ report, vek }, { now: MILAN_TIME, checkRevocations: true, crls: files.get })).rejects.toMatchObject({ code: 'crl_unavailable' });
  });

  test('a CRL past its nextUpdate is refused as stale (crl_stale), not trusted for a grace period', async () => {
    const { report, vek } = loadVector('genoa-v5-oak');
    const afterNextUpdate = new Date('2025-11-03T01:00:01Z');
    await expect(verifyReport({ report, vek }, { now: afterNextUpdate, checkRevocations: true, crls: files.get })).rejects.toMatchObject({
      code: 'crl_stale',
      details: { nextUpdate: '2025-11-03T01:00:00.000Z' },
    });
    // Without the check the same evidence verifies at that time: the refusal is the CRL's.
    await expect(verifyReport({ report, vek }, { now: afterNextUpdate })).resolves.toBeDefined();
  });

  test('a CRL issued after the verification time is refused (crl_invalid)', async () => {
    const { report, vek } = loadVector('milan-v3-oak');
    await expect(verifyReport({ report, vek }, { now: new Date('2025-03-01T00:00:00Z'), checkRevocations: true, crls: files.get })).rejects.toMatchObject({
      code: 'crl_invalid',
      message: expect.stringMatching(/thisUpdate/),
    });
  });

  test("a file CRL of another product's ARK is not used for this chain", async () => {
    const { report, vek } = loadVector('genoa-v5-oak');
    const milanOnly = createCrlSource({ files: [milanCrlFile] });
    await expect(verifyReport({ report, vek }, { now: GENOA_TIME, checkRevocations: true, crls: milanOnly.get })).rejects.toMatchObject({ code: 'crl_unavailable' });
  });
});

describe('CRLs fetched from KDS (a local server standing in for kdsintf.amd.com)', () => {
  let server: LocalServer;
  let served: Record<string, Buffer> = {};
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const body = served[req.url ?? ''];
      if (body) return res.end(body);
      res.writeHead(404).end();
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const genoa = loadVector('genoa-v5-oak');

  test('one fetch serves every report until the CRL nextUpdate; then it is fetched again', async () => {
    served = { '/vcek/v1/Genoa/crl': genoaCrlDer! };
    let now = GENOA_TIME;
    const source = createCrlSource({ kds: { baseUrl: server.url }, http: noRetry, now: () => now });
    const verify = () => verifyReport({ report: genoa.report, vek: genoa.vek }, { now, checkRevocations: true, crls: source.get });
    await verify();
    await verify();
    expect(server.requests).toEqual(['/vcek/v1/Genoa/crl']);
    now = new Date('2025-11-04T00:00:00Z');
    // KDS still serves the same CRL, so the refetched one is stale too.
    await expect(verify()).rejects.toMatchObject({ code: 'crl_stale' });
    expect(server.requests).toEqual(['/vcek/v1/Genoa/crl', '/vcek/v1/Genoa/crl']);
  });

  test('a CRL KDS answers that the ARK did not sign is refused and not kept', async () => {
    served = { '/vcek/v1/Genoa/crl': milanCrlDer! };
    const source = createCrlSource({ kds: { baseUrl: server.url }, http: noRetry, now: () => GENOA_TIME });
    const verify = () => verifyReport({ report: genoa.report, vek: genoa.vek }, { now: GENOA_TIME, checkRevocations: true, crls: source.get });
    await expect(verify()).rejects.toMatchObject({ code: 'crl_invalid' });
    served = { '/vcek/v1/Genoa/crl': genoaCrlDer! };
    await expect(verify()).resolves.toMatchObject({ genuine: true });
    expect(server.requests).toHaveLength(2);
  });

  test('an unreachable KDS fails closed (crl_unavailable)', async () => {
    served = {};
    const source = createCrlSource({ kds: { baseUrl: server.url }, http: noRetry });
    await expect(verifyReport({ report: genoa.report, vek: genoa.vek }, { now: GENOA_TIME, checkRevocations: true, crls: source.get })).rejects.toMatchObject({
      code: 'crl_unavailable',
      message: expect.stringMatching(/HTTP 404/),
    });
  });

  test('a file given for the ARK is used instead of KDS', async () => {
    served = {};
    const source = createCrlSource({ files: [genoaCrlFile], kds: { baseUrl: server.url }, http: noRetry });
    await expect(verifyReport({ report: genoa.report, vek: genoa.vek }, { now: GENOA_TIME, checkRevocations: true, crls: source.get })).resolves.toBeDefined();
    expect(server.requests).toEqual([]);
    expect(source.coversArk(arkOf('Genoa').ark)).toBe(true);
    expect(source.coversArk(new X509Certificate(fixture('amd-roots', 'milan_ark.pem')))).toBe(false);
  });
});
