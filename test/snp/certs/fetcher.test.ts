import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CERT_GUIDS, serializeCertTable } from '../../../src/snp/abi/cert-table';
import { createCrlSource, createCertSources, vekCachePath } from '../../../src/snp/certs';
import { VekUnavailable } from '../../../src/errors';
import { verifyReport } from '../../../src/snp/verify';
import { toDer } from '../../../src/snp/x509/vek';
import { amdRootFile, fixture, vector } from './fixtures';
import { scripted, startServer, type LocalServer } from './local-server';
import { noRetry } from './getters';

const milan = vector('milan-v2-aci-thim', 'Milan');
const kdsRoutes = (vek: Buffer) => (req: IncomingMessage, res: ServerResponse) => {
  if (req.url === '/vcek/v1/Milan/cert_chain') return res.end(amdRootFile('milan_cert_chain.pem'));
  if (req.url?.startsWith(`/vcek/v1/Milan/${milan.request.chipId.toString('hex')}?`)) return res.end(vek);
  res.writeHead(404).end();
};

describe('VEK fetcher', () => {
  let servers: LocalServer[] = [];
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skr-vek-cache-'));
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
    await rm(dir, { recursive: true, force: true });
  });
  async function serve(handler: Parameters<typeof startServer>[0]) {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  }

  it('tries every source in order and names each with its reason', async () => {
    const thim = await serve(scripted([503], ''));
    const kds = await serve(scripted([404], ''));
    const fetcher = createCertSources({
      certTable: () => undefined,
      securityContext: { env: {}, searchRoot: dir },
      thim: { url: thim.url },
      kds: { baseUrl: kds.url },
      http: noRetry,
    }).fetchVek;
    const error = (await fetcher(milan.request).catch((e: unknown) => e)) as VekUnavailable;
    expect(error).toBeInstanceOf(VekUnavailable);
    expect(error.code).toBe('vek_unavailable');
    expect(error.status).toBe(502);
    expect(error.details!.tried).toEqual([
      { source: 'cert-table', reason: 'no certificate table' },
      { source: 'security-context', reason: expect.stringMatching(/no host-amd-cert-base64/) },
      { source: 'thim', reason: expect.stringMatching(/HTTP 503/) },
      { source: 'kds', reason: expect.stringMatching(/HTTP 404/) },
    ]);
    expect(error.message).toMatch(/^no VCEK certificate could be obtained: cert-table: .*; security-context: .*; thim: .*; kds: /);
  });

  it('stops at the first source that has the right VEK, in the configured order', async () => {
    const thim = await serve(scripted([200], fixture('milan-v2-aci-thim', 'thim.json')));
    const kds = await serve(kdsRoutes(milan.vek));
    const fetcher = createCertSources({ order: ['kds', 'thim'], thim: { url: thim.url }, kds: { baseUrl: kds.url }, http: noRetry }).fetchVek;
    const got = await fetcher(milan.request);
    expect(toDer(got.vek)).toEqual(milan.vek);
    expect(kds.requests).toHaveLength(2);
    expect(thim.requests).toHaveLength(0);
  });

  it('says that no source is configured', async () => {
    await expect(createCertSources({}).fetchVek(milan.request)).rejects.toThrow(/no certificate source is configured/);
  });

  it('writes the disk cache and later serves from it without the network', async () => {
    const kds = await serve(kdsRoutes(milan.vek));
    await createCertSources({ kds: { baseUrl: kds.url }, cacheDir: dir, http: noRetry }).fetchVek(milan.request);
    const path = join(dir, vekCachePath(milan.request));
    expect(path).toBe(join(dir, 'vcek', 'Milan', milan.request.chipId.toString('hex'), 'bl03_tee00_snp08_ucode115.der'));
    expect(await readFile(path)).toEqual(milan.vek);

    const offline = await serve(scripted([500], ''));
    const got = await createCertSources({ kds: { baseUrl: offline.url }, cacheDir: dir, http: noRetry }).fetchVek(milan.request);
    expect(toDer(got.vek)).toEqual(milan.vek);
    expect(got.chain).toHaveLength(2);
    expect(offline.requests).toEqual([]);
    const verified = await verifyReport({ report: milan.report }, { now: new Date('2025-12-06'), product: 'Milan', fetcher: async () => got });
    expect(verified.genuine).toBe(true);
  });

  it('names the Turin cache file with its fmc SPL', () => {
    expect(vekCachePath(vector('turin-v5-oak').request)).toBe(join('vcek', 'Turin', '3b42092f69c656d3', 'bl01_tee00_snp02_ucode71_fmc00.der'));
  });

  it.each([
    ['a VCEK for another TCB', () => milan.vek],
    ['a file that is not a certificate', () => Buffer.from('garbage')],
  ])('ignores a cache entry holding %s', async (_name, content) => {
    const request = { ...milan.request, reportedTcb: { ...milan.request.reportedTcb, microcode: 116 } };
    const path = join(dir, vekCachePath(request));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content());
    await expect(createCertSources({ cacheDir: dir, certTable: () => undefined }).fetchVek(request)).rejects.toBeInstanceOf(VekUnavailable);
  });

  it('shares one fetch between concurrent requests for the same VCEK', async () => {
    const kds = await serve(kdsRoutes(milan.vek));
    const fetcher = createCertSources({ kds: { baseUrl: kds.url }, http: noRetry }).fetchVek;
    await Promise.all([fetcher(milan.request), fetcher(milan.request), fetcher(milan.request)]);
    expect(kds.requests.filter((r) => r.includes('?'))).toHaveLength(1);
  });

  it('takes a VLEK and its chain from the certificate table', async () => {
    const aws = vector('milan-v3-vlek-aws');
    const table = serializeCertTable([
      { guid: CERT_GUIDS.vlek, data: aws.vek },
      { guid: CERT_GUIDS.ask, data: toDer(amdRootFile('milan_asvk.pem')) },
      { guid: CERT_GUIDS.ark, data: toDer(amdRootFile('milan_ark.pem')) },
    ]);
    const fetcher = createCertSources({ certTable: table }).fetchVek;
    const got = await fetcher(aws.request);
    expect(toDer(got.vek)).toEqual(aws.vek);
    expect(got.chain).toHaveLength(2);
    const verified = await verifyReport({ report: aws.report }, { now: new Date('2025-06-01'), fetcher });
    expect(verified.signer).toBe('VLEK');
    // The same table has no VCEK.
    await expect(fetcher({ ...aws.request, kind: 'VCEK' })).rejects.toThrow(/cert-table: the certificate table has no VCEK entry/);
  });
});

describe('the network sources are given their HTTP client', () => {
  test.each([
    ['THIM', { thim: {} }],
    ['KDS', { kds: {} }],
  ])('%s without an HTTP getter is refused at construction, not at the first request', (_, options) => {
    expect(() => createCertSources(options)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: { field: 'http' } }));
  });

  test('KDS CRLs without an HTTP getter are refused; CRL files alone need none', () => {
    expect(() => createCrlSource({ kds: {} })).toThrow(expect.objectContaining({ code: 'invalid_argument', details: { field: 'http' } }));
    expect(() => createCrlSource({ files: [] })).not.toThrow();
  });
});
