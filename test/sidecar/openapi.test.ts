import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { RunningVerifier } from '../../src/maa/service/server';
import { uvmIssuer } from '../../src/maa/uvm';
import { createSidecarApp } from '../../src/sidecar/app';
import { EvidenceCollector, reportDevice } from '../../src/sidecar/evidence';
import { SIDECAR_OPENAPI } from '../../src/sidecar/openapi';
import { createCertSources } from '../../src/snp/certs';
import type { RunningSidecar } from '../../src/sidecar/server';
import type { ReportDevice } from '../../src/snp/device/types';
import { documentedRoutes, openApiErrors, servedRoutes, undocumentedAnswer } from '../lib/openapi-conformance';
import { startTestVerifier } from '../maa/verifier-harness';
import { startTestSidecar, virtualState } from './harness';

const runtime = Buffer.from(JSON.stringify({ keys: [] })).toString('base64');

describe('the sidecar answers as its OpenAPI document says', () => {
  let verifier: RunningVerifier;
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    const state = await virtualState();
    verifier = await startTestVerifier({ trustedRoots: [state.root], trustedUvmIssuers: [uvmIssuer(state.uvm.issuer.did, state.uvm.issuer.feed)] });
    sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': verifier.url });
  });
  afterAll(async () => {
    await sidecar.close();
    await verifier.close();
  });

  test('/openapi.json is a valid OpenAPI 3.1 document listing exactly the routes served', async () => {
    const doc = (await request(sidecar.url).get('/openapi.json')).body;
    expect(await openApiErrors(doc)).toBeUndefined();
    expect(documentedRoutes(doc)).toEqual(servedRoutes(createSidecarApp(sidecar.context)));
  });

  test.each<[string, string, unknown]>([
    ['get', '/status', undefined],
    ['post', '/attest/raw', { runtime_data: runtime }],
    ['post', '/attest/raw', { runtime_data: 42 }],
    ['post', '/attest/raw', {}],
    ['post', '/attest/raw', { runtime_data: 'A'.repeat(70 * 1024) }],
    ['post', '/attest/combined', { runtime_data: runtime }],
    ['post', '/attest/combined', { runtime_data: '***' }],
    ['post', '/attest/maa', { runtime_data: runtime }],
    ['post', '/attest/maa', { runtime_data: runtime, maa_endpoint: 'https://evil.example.com' }],
    ['post', '/attest/maa', { runtime_data: Buffer.from('[1]').toString('base64') }],
    ['post', '/key/release', { kid: 'k/not-a-version' }],
    ['post', '/key/release', { kid: 'k', enc: 'RSA1_5' }],
    ['post', '/key/release', { kid: 'k', access_token: '' }],
    ['post', '/key/release', { kid: 'k', akv_endpoint: 'https://evil.example.com' }],
    ['post', '/key/release', [1, 2]],
    ['get', '/metrics', undefined],
    ['get', '/openapi.json', undefined],
  ])('%s %s (case %#)', async (method, path, body) => {
    const res =
      method === 'get'
        ? await request(sidecar.url).get(path)
        : await request(sidecar.url)
            .post(path)
            .send(body as object);
    expect(undocumentedAnswer(SIDECAR_OPENAPI, method, path, res.status, res.body)).toBeUndefined();
  });

  test('a schema violation names the field in the sidecar envelope', async () => {
    const res = await request(sidecar.url).post('/key/release').send({ kid: 7 });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'kid must be string', code: 'invalid_request' });
    const missing = await request(sidecar.url).post('/attest/raw').send({});
    expect(missing.body).toEqual({ error: 'runtime_data is required', code: 'invalid_request' });
  });

  /** The sidecar's device (reportDevice) over one that counts the requests it is given, held until released. */
  async function countedSidecar(limit: number) {
    const seen = { entered: 0, inFlight: 0, most: 0 };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inner = sidecar.context.evidence.device;
    const counting: ReportDevice = {
      name: inner.name,
      path: inner.path,
      virtual: inner.virtual,
      close: async () => undefined,
      getReport: async (req) => {
        seen.entered++;
        seen.most = Math.max(seen.most, ++seen.inFlight);
        await held;
        try {
          return await inner.getReport(req);
        } finally {
          seen.inFlight--;
        }
      },
    };
    const evidence = new EvidenceCollector(reportDevice(counting, limit), createCertSources({ order: [] }), { defaultProduct: 'Milan' });
    const server = http.createServer(createSidecarApp({ ...sidecar.context, evidence }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { seen, release, url, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  test('/attest/raw waits for the device-concurrency limit like every other route', async () => {
    const counted = await countedSidecar(1);
    try {
      const distinct = (i: number) => Buffer.from(JSON.stringify({ request: i })).toString('base64');
      const answers = Promise.all(
        [0, 1, 2].map((i) =>
          request(counted.url)
            .post('/attest/raw')
            .send({ runtime_data: distinct(i) }),
        ),
      );
      // Give the other two requests every chance to reach the device before the first leaves it.
      for (let i = 0; i < 200 && counted.seen.entered < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      counted.release();
      expect((await answers).map((r) => r.status)).toEqual([200, 200, 200]);
      expect([counted.seen.most, counted.seen.entered]).toEqual([1, 3]);
    } finally {
      await counted.close();
    }
  });

  test('identical /attest/raw requests share reports before the limit: a burst of 16 takes two places at the device, not 16', async () => {
    const counted = await countedSidecar(1);
    try {
      const answers = Promise.all(Array.from({ length: 16 }, () => request(counted.url).post('/attest/raw').send({ runtime_data: runtime })));
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      counted.release();
      expect((await answers).map((r) => r.status)).toEqual(Array(16).fill(200));
      expect(counted.seen.entered).toBeLessThanOrEqual(2);
    } finally {
      await counted.close();
    }
  });
});
