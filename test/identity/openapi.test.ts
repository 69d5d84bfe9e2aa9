import request from 'supertest';
import { createIdentityApp, startIdentity, type RunningIdentity } from '../../src/identity';
import { IDENTITY_OPENAPI } from '../../src/identity/app';
import { documentedRoutes, openApiErrors, servedRoutes, undocumentedAnswer } from '../lib/openapi-conformance';
import { tempStateDir } from './harness';

const TOKEN = '/metadata/identity/oauth2/token';
const MSI = '/msi/token';
const KV = encodeURIComponent('https://vault.azure.net');

let identity: RunningIdentity;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let http: ReturnType<typeof createIdentityApp>;

beforeAll(async () => {
  state = await tempStateDir();
  identity = await startIdentity({ stateDir: state.dir, principals: [] });
  http = createIdentityApp(identity.context);
});

afterAll(async () => {
  await identity.close();
  await state.remove();
});

test('/openapi.json is a valid OpenAPI 3.1 document listing exactly the routes served', async () => {
  const doc = (await request(http).get('/openapi.json')).body;
  expect(doc).toEqual(IDENTITY_OPENAPI);
  expect(await openApiErrors(doc)).toBeUndefined();
  expect(documentedRoutes(doc)).toEqual(servedRoutes(http));
});

const imds = (query: string, headers: Record<string, string> = { Metadata: 'true' }) => ({ route: TOKEN, url: `${TOKEN}?${query}`, headers });
const msi = (query: string, header?: string) => ({ route: MSI, url: `${MSI}?${query}`, headers: header === undefined ? {} : { 'X-IDENTITY-HEADER': header } });

test.each<[string, number, () => { route: string; url: string; headers: Record<string, string> }]>([
  ['IMDS token', 200, () => imds(`api-version=2018-02-01&resource=${KV}`)],
  ['IMDS without Metadata', 400, () => imds(`api-version=2018-02-01&resource=${KV}`, {})],
  ['IMDS without resource', 400, () => imds('api-version=2018-02-01')],
  ['IMDS with resource twice', 400, () => imds(`api-version=2018-02-01&resource=${KV}&resource=${KV}`)],
  ['IMDS with an empty selector', 400, () => imds(`api-version=2018-02-01&resource=${KV}&client_id=`)],
  ['IMDS with an old api-version', 400, () => imds(`api-version=2017-09-01&resource=${KV}`)],
  ['IMDS for the officer', 403, () => imds(`api-version=2018-02-01&resource=${KV}&client_id=${identity.officerPrincipal.clientId}`)],
  ['App Service token', 200, () => msi(`api-version=2019-08-01&resource=${KV}`, identity.appService.header)],
  ['App Service without the header', 401, () => msi(`api-version=2019-08-01&resource=${KV}`)],
  ['App Service with another api-version', 400, () => msi(`api-version=2018-02-01&resource=${KV}`, identity.appService.header)],
  ['discovery', 200, () => ({ route: '/.well-known/openid-configuration', url: '/.well-known/openid-configuration', headers: {} })],
  ['keys', 200, () => ({ route: '/discovery/keys', url: '/discovery/keys', headers: {} })],
])('%s: %i', async (_name, status, exchange) => {
  const { route, url, headers } = exchange();
  const res = await request(http).get(url).set(headers);
  expect(res.status).toBe(status);
  expect(undocumentedAnswer(IDENTITY_OPENAPI, 'get', route, res.status, res.body)).toBeUndefined();
});

test("a schema violation names the field in IMDS's error shape", async () => {
  const res = await request(http).get(`${TOKEN}?api-version=2018-02-01`).set('Metadata', 'true');
  expect(res.body).toEqual({ error: 'invalid_request', error_description: 'resource is required' });
});
