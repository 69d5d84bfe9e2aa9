import { fetchKdsChain, kdsChainUrl, kdsCrlUrl, kdsVcekUrl } from '../../../src/snp/certs/kds';
import { createCertSources } from '../../../src/snp/certs';
import { verifyReport } from '../../../src/snp/verify';
import { amdRootFile, vector } from './fixtures';
import { startServer, type LocalServer } from './local-server';
import { sharedDefaults } from './getters';

function split(url: string): { path: string; query: Record<string, string> } {
  const u = new URL(url);
  return { path: u.origin + u.pathname, query: Object.fromEntries(u.searchParams) };
}

describe('AMD KDS URLs', () => {
  it('names a Milan VCEK by the 64-byte CHIP_ID and decimal SPLs', () => {
    const { request } = vector('milan-v2-aci-thim', 'Milan');
    const { path, query } = split(kdsVcekUrl(request));
    expect(path).toBe(`https://kdsintf.amd.com/vcek/v1/Milan/${request.chipId.toString('hex')}`);
    expect(request.chipId.toString('hex')).toHaveLength(128);
    expect(query).toEqual({ blSPL: '3', teeSPL: '0', snpSPL: '8', ucodeSPL: '115' });
  });

  it('names a Genoa VCEK the same way under /Genoa', () => {
    const { request } = vector('genoa-v5-oak');
    const { path, query } = split(kdsVcekUrl(request, { baseUrl: 'http://127.0.0.1:1/' }));
    expect(path).toBe(`http://127.0.0.1:1/vcek/v1/Genoa/${request.chipId.toString('hex')}`);
    expect(query).toEqual({ blSPL: '10', teeSPL: '0', snpSPL: '25', ucodeSPL: '84' });
  });

  it('names a Turin VCEK by the 8-byte id and adds fmcSPL (real KDS example)', () => {
    const { request } = vector('turin-v5-oak');
    // https://kdsintf.amd.com/vcek/v1/Turin/3b42092f69c656d3?ucodeSPL=71&snpSPL=2&teeSPL=0&blSPL=1&fmcSPL=0
    const { path, query } = split(kdsVcekUrl(request));
    expect(path).toBe('https://kdsintf.amd.com/vcek/v1/Turin/3b42092f69c656d3');
    expect(query).toEqual({ ucodeSPL: '71', snpSPL: '2', teeSPL: '0', blSPL: '1', fmcSPL: '0' });
  });

  it('puts chains and CRLs under vcek/ or vlek/', () => {
    expect(kdsChainUrl('Turin', 'VCEK')).toBe('https://kdsintf.amd.com/vcek/v1/Turin/cert_chain');
    expect(kdsChainUrl('Genoa', 'VLEK')).toBe('https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain');
    expect(kdsCrlUrl('Milan', 'VCEK')).toBe('https://kdsintf.amd.com/vcek/v1/Milan/crl');
    expect(kdsCrlUrl('Milan', 'VLEK')).toBe('https://kdsintf.amd.com/vlek/v1/Milan/crl');
  });
});

describe('AMD KDS source', () => {
  let server: LocalServer;
  afterEach(() => server.close());

  it('reads a CRLF chain bundle (as KDS serves Turin) into ASK then ARK', async () => {
    const pem = amdRootFile('turin_cert_chain.pem').replace(/\n/g, '\r\n');
    server = await startServer((_req, res) => res.end(pem));
    const chain = await fetchKdsChain('Turin', 'VCEK', { baseUrl: server.url }, sharedDefaults);
    expect(server.requests).toEqual(['/vcek/v1/Turin/cert_chain']);
    expect(chain.map((c) => c.toString('base64'))).toEqual([amdRootFile('turin_ask.pem'), amdRootFile('turin_ark.pem')].map((p) => p.replace(/-----[^-]+-----|\s/g, '')));
  });

  it('fetches the VCEK and chain that verify a genuine Turin report', async () => {
    const { report, vek, request } = vector('turin-v5-oak');
    server = await startServer((req, res) => {
      if (req.url === '/vcek/v1/Turin/cert_chain') return res.end(amdRootFile('turin_cert_chain.pem'));
      if (req.url?.startsWith('/vcek/v1/Turin/3b42092f69c656d3?')) return res.end(vek);
      res.writeHead(404).end();
    });
    const fetcher = createCertSources({ kds: { baseUrl: server.url }, http: sharedDefaults }).fetchVek;
    const verified = await verifyReport({ report }, { now: new Date('2025-12-06'), fetcher });
    expect(verified.genuine).toBe(true);
    expect(verified.reportedTcb).toEqual(request.reportedTcb);
    // The chain is fetched once and the VCEK once; a second verify hits the cache.
    await verifyReport({ report }, { now: new Date('2025-12-06'), fetcher });
    expect(server.requests.filter((r) => r.includes('3b42092f69c656d3'))).toHaveLength(1);
  });

  it('does not try to fetch a VLEK or a VCEK for a masked CHIP_ID', async () => {
    server = await startServer((_req, res) => res.writeHead(500).end());
    const { request } = vector('milan-v3-vlek-aws');
    const fetcher = createCertSources({ kds: { baseUrl: server.url }, http: sharedDefaults }).fetchVek;
    await expect(fetcher(request)).rejects.toMatchObject({ code: 'vek_unavailable', details: { tried: [{ source: 'kds', reason: expect.stringMatching(/does not serve VLEKs/) }] } });
    await expect(fetcher({ ...request, kind: 'VCEK' })).rejects.toThrow(/CHIP_ID is masked/);
    expect(server.requests).toEqual([]);
  });
});
