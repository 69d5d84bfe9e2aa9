import { createCertSources, parseThimCertification } from '../../../src/snp/certs';
import { verifyReport } from '../../../src/snp/verify';
import { fixture, vector } from './fixtures';
import { scripted, startServer, type LocalServer } from './local-server';
import { sharedDefaults } from './getters';

const thimJson = fixture('milan-v2-aci-thim', 'thim.json').toString('utf8');

describe('THIM certification', () => {
  it('parses the real THIM answer', () => {
    const thim = parseThimCertification(thimJson);
    expect(thim.tcbm).toBe('7308000000000003');
    expect(thim.cacheControl).toBe('86400');
    expect(thim.vcekCert).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('has a tcbm equal to the REPORTED_TCB its VCEK is for', () => {
    const report = fixture('milan-v2-aci-thim', 'report.bin');
    expect(report.readBigUInt64LE(0x180).toString(16).padStart(16, '0')).toBe(parseThimCertification(thimJson).tcbm);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['no vcekCert', JSON.stringify({ ...JSON.parse(thimJson), vcekCert: undefined }), /lacks vcekCert/],
    ['a bad tcbm', JSON.stringify({ ...JSON.parse(thimJson), tcbm: 'xyz' }), /tcbm/],
    ['an empty chain', JSON.stringify({ ...JSON.parse(thimJson), certificateChain: 'nothing' }), /no PEM/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseThimCertification(text)).toThrow(message);
  });

  describe('from the endpoint', () => {
    let server: LocalServer;
    afterEach(() => server.close());

    it('supplies the VCEK that verifies the real ACI report', async () => {
      server = await startServer(scripted([200], thimJson));
      const fetcher = createCertSources({ thim: { url: `${server.url}/metadata/THIM/amd/certification` }, http: sharedDefaults }).fetchVek;
      const { report } = vector('milan-v2-aci-thim', 'Milan');
      const verified = await verifyReport({ report }, { now: new Date('2025-12-06'), product: 'Milan', fetcher });
      expect(verified.genuine).toBe(true);
      expect(verified.vek.der.equals(fixture('milan-v2-aci-thim', 'vek.der'))).toBe(true);
      expect(server.requests).toEqual(['/metadata/THIM/amd/certification']);
      expect(server.headers[0]!.metadata).toBe('true');
    });

    it('is not used for a report at another TCB', async () => {
      server = await startServer(scripted([200], thimJson));
      const fetcher = createCertSources({ thim: { url: server.url }, http: sharedDefaults }).fetchVek;
      const { request } = vector('milan-v2-aci-thim', 'Milan');
      await expect(fetcher({ ...request, reportedTcb: { ...request.reportedTcb, microcode: 116 } })).rejects.toMatchObject({
        code: 'vek_unavailable',
        details: { tried: [{ source: 'thim', reason: expect.stringMatching(/ucode=115, not the reported .*ucode=116/) }] },
      });
    });
  });
});
