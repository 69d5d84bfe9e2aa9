import request from 'supertest';
import { createVerifierApp, VERIFIER_OPENAPI } from '../../../src/maa/service/app';
import type { RunningVerifier } from '../../../src/maa/service/server';
import type { VirtualDevice } from '../../../src/snp/device/virtual';
import { documentedRoutes, openApiErrors, servedRoutes, undocumentedAnswer } from '../../lib/openapi-conformance';
import { startTestVerifier } from '../verifier-harness';
import { attestBody, virtualGuest, virtualUvmIssuerOf } from '../virtual-evidence';

/** A request: the documented route it exercises, the URL sent, and what it carries. */
interface Exchange {
  method: 'get' | 'post' | 'delete';
  route: string;
  url: string;
  body?: unknown;
  admin?: boolean;
}

describe('the verifier answers as its OpenAPI document says', () => {
  let guest: VirtualDevice;
  let verifier: RunningVerifier;
  let genuine: object;
  beforeAll(async () => {
    guest = await virtualGuest();
    verifier = await startTestVerifier({ trustedRoots: [guest.pki.root], trustedUvmIssuers: [virtualUvmIssuerOf(guest)] });
    genuine = await attestBody(guest, { keys: [] });
  });
  afterAll(async () => {
    await verifier.close();
  });

  test('/openapi.json is a valid OpenAPI 3.1 document listing exactly the routes served', async () => {
    const doc = (await request(verifier.url).get('/openapi.json')).body;
    expect(doc).toEqual(VERIFIER_OPENAPI);
    expect(await openApiErrors(doc)).toBeUndefined();
    expect(documentedRoutes(doc)).toEqual(servedRoutes(createVerifierApp(verifier.context)));
  });

  const attest = '/attest/{type}';
  const cases: [string, number, () => Exchange][] = [
    ['attest: 200', 200, () => ({ method: 'post', route: attest, url: '/attest/SevSnpVm?api-version=2022-08-01', body: genuine })],
    ['attest: type in another case', 200, () => ({ method: 'post', route: attest, url: '/attest/sevsnpvm?api-version=2020-10-01', body: genuine })],
    ['attest: unknown type', 400, () => ({ method: 'post', route: attest, url: '/attest/Tpm?api-version=2022-08-01', body: genuine })],
    ['attest: no api-version', 400, () => ({ method: 'post', route: attest, url: '/attest/SevSnpVm', body: genuine })],
    ['attest: report not a string', 400, () => ({ method: 'post', route: attest, url: '/attest/SevSnpVm?api-version=2022-08-01', body: { report: 5 } })],
    ['attest: too large', 413, () => ({ method: 'post', route: attest, url: '/attest/SevSnpVm?api-version=2022-08-01', body: { report: 'A'.repeat(300 * 1024) } })],
    ['challenge', 200, () => ({ method: 'post', route: '/challenge', url: '/challenge' })],
    ['certs', 200, () => ({ method: 'get', route: '/certs', url: '/certs' })],
    ['discovery', 200, () => ({ method: 'get', route: '/.well-known/openid-configuration', url: '/.well-known/openid-configuration' })],
    ['refs without the admin token', 401, () => ({ method: 'get', route: '/admin/refs', url: '/admin/refs' })],
    ['refs', 200, () => ({ method: 'get', route: '/admin/refs', url: '/admin/refs', admin: true })],
    ['add a ref', 201, () => ({ method: 'post', route: '/admin/refs', url: '/admin/refs', admin: true, body: { kind: 'measurement', value: 'ab'.repeat(48) } })],
    ['add a ref with a bad kind', 400, () => ({ method: 'post', route: '/admin/refs', url: '/admin/refs', admin: true, body: { kind: 'colour', value: 'red' } })],
    ['add a ref whose note is not a string', 400, () => ({ method: 'post', route: '/admin/refs', url: '/admin/refs', admin: true, body: { kind: 'measurement', value: 'ab'.repeat(48), note: 5 } })],
    ['remove a ref', 204, () => ({ method: 'delete', route: '/admin/refs/{kind}/{value}', url: `/admin/refs/measurement/${'ab'.repeat(48)}`, admin: true })],
    ['remove a ref that is not there', 404, () => ({ method: 'delete', route: '/admin/refs/{kind}/{value}', url: `/admin/refs/measurement/${'cd'.repeat(48)}`, admin: true })],
    ['rotate', 200, () => ({ method: 'post', route: '/admin/signing-keys/rotate', url: '/admin/signing-keys/rotate', admin: true })],
    ['openapi', 200, () => ({ method: 'get', route: '/openapi.json', url: '/openapi.json' })],
  ];
  test.each(cases)('%s: %i', async (_name, status, exchange) => {
    const { method, route, url, body, admin } = exchange();
    let req = request(verifier.url)[method](url);
    if (admin) req = req.set('authorization', `Bearer ${verifier.adminToken}`);
    const res = body === undefined ? await req : await req.send(body as object);
    expect(res.status).toBe(status);
    expect(undocumentedAnswer(VERIFIER_OPENAPI, method, route, res.status, res.body)).toBeUndefined();
  });

  test('a body or charset the parser cannot read is 400 invalid_request, as on every other surface', async () => {
    for (const type of ['application/json; charset=koi8-r', 'application/json']) {
      const res = await request(verifier.url)
        .post('/attest/SevSnpVm?api-version=2022-08-01')
        .set('content-type', type)
        .set('content-encoding', type.includes('koi8') ? 'identity' : 'x-unknown')
        .send('{}');
      expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    }
  });
});
