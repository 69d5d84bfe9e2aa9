import request from 'supertest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createIdentityApp, startIdentity, type RunningIdentity } from '../../src/identity';
import { TokenVerifier } from '../../src/maa';
import { tempStateDir } from './harness';

const TOKEN = '/metadata/identity/oauth2/token';
const KV = 'https://vault.azure.net';
const NOW = new Date('2026-11-02T10:00:00Z');
const app = { name: 'app', objectId: '5b7f2c57-2f3e-4a55-9a3d-0a6b2f1f6c11', clientId: 'c8a4a3d9-4f2b-4d1e-b3a7-39b0d4c1e2f0' };

let identity: RunningIdentity;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let http: ReturnType<typeof createIdentityApp>;

beforeAll(async () => {
  state = await tempStateDir();
  identity = await startIdentity({ stateDir: state.dir, principals: [app], now: () => NOW });
  http = createIdentityApp(identity.context);
});

afterAll(async () => {
  await identity.close();
  await state.remove();
});

const imds = (query: string) => request(http).get(`${TOKEN}?${query}`).set('Metadata', 'true');

describe('IMDS token path', () => {
  test.each([TOKEN, `${TOKEN}/`])('%s answers IMDS JSON with string expiries and a token for the resource', async (path) => {
    const res = await request(http)
      .get(`${path}?api-version=2018-02-01&resource=${encodeURIComponent(KV)}`)
      .set('Metadata', 'true');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const exp = Math.floor(NOW.getTime() / 1000) + 3600;
    expect(res.body).toEqual({
      access_token: expect.any(String),
      refresh_token: '',
      expires_in: '3600',
      expires_on: String(exp),
      ext_expires_in: '3600',
      not_before: String(exp - 3600),
      resource: KV,
      token_type: 'Bearer',
      client_id: identity.defaultPrincipal.clientId,
    });
    expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: identity.context.keys.current().kid });
    expect(decodeJwt(res.body.access_token)).toMatchObject({ iss: identity.issuer, aud: KV, oid: identity.defaultPrincipal.objectId, exp, nbf: exp - 3600, jti: expect.any(String) });
  });

  test.each([
    ['a trailing slash', `${KV}/`],
    ['a v2 scope', `${KV}/.default`],
    ['upper case', 'HTTPS://VAULT.AZURE.NET'],
  ])('a resource written with %s gets the audience Key Vault checks, and is echoed as written', async (_name, resource) => {
    const res = await imds(`api-version=2018-02-01&resource=${encodeURIComponent(resource)}`);
    expect(res.status).toBe(200);
    expect(res.body.resource).toBe(resource);
    expect(decodeJwt(res.body.access_token).aud).toBe(KV);
  });

  test.each([
    ["no Metadata header (the shape of @azure/identity's availability probe)", () => request(http).get(TOKEN).set('Accept', 'application/json'), 'metadata_header_required'],
    ['Metadata: false', () => request(http).get(`${TOKEN}?api-version=2018-02-01&resource=${KV}`).set('Metadata', 'false'), 'metadata_header_required'],
    ['no api-version', () => imds(`resource=${KV}`), 'invalid_request'],
    ['an api-version older than IMDS identity', () => imds(`api-version=2017-09-01&resource=${KV}`), 'invalid_request'],
    ['no resource', () => imds('api-version=2018-02-01'), 'invalid_request'],
    ['a resource twice', () => imds(`api-version=2018-02-01&resource=${KV}&resource=${KV}`), 'invalid_request'],
    ['a resource off the allow-list', () => imds('api-version=2018-02-01&resource=https://management.azure.com'), 'resource_not_allowed'],
    ['a look-alike resource', () => imds('api-version=2018-02-01&resource=https://vault.azure.net.evil.example'), 'resource_not_allowed'],
    ['an unknown client_id', () => imds(`api-version=2018-02-01&resource=${KV}&client_id=00000000-1111-2222-3333-444444444444`), 'identity_not_found'],
    ['an unknown msi_res_id', () => imds(`api-version=2018-02-01&resource=${KV}&msi_res_id=/subscriptions/x/nope`), 'identity_not_found'],
    ['two selectors', () => imds(`api-version=2018-02-01&resource=${KV}&client_id=${app.clientId}&object_id=${app.objectId}`), 'invalid_request'],
    ['X-Forwarded-For (a proxied request)', () => imds(`api-version=2018-02-01&resource=${KV}`).set('X-Forwarded-For', '10.0.0.5'), 'invalid_request'],
  ])("400 with IMDS's error shape for %s", async (_name, send, code) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: code, error_description: expect.any(String) });
    // @azure/identity treats a 403 mentioning "unreachable" as "no IMDS here".
    expect(res.text).not.toMatch(/unreachable/);
  });

  test.each([
    ['client_id', app.clientId.toUpperCase()],
    ['object_id', app.objectId],
    ['msi_res_id', '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/SKR-LOCAL/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app'],
    ['mi_res_id', '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/skr-local/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app'],
  ])('%s selects the named principal', async (key, value) => {
    const res = await imds(`api-version=2018-02-01&resource=${KV}&${key}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    expect(res.body.client_id).toBe(app.clientId);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ oid: app.objectId, sub: app.objectId, appid: app.clientId });
  });

  test.each([
    ['client_id', () => identity.officerPrincipal.clientId],
    ['object_id', () => identity.officerPrincipal.objectId],
    ['msi_res_id', () => '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/skr-local/providers/Microsoft.ManagedIdentity/userAssignedIdentities/officer'],
    ['mi_res_id', () => '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/skr-local/providers/Microsoft.ManagedIdentity/userAssignedIdentities/OFFICER'],
  ])('the officer selected by %s is refused (403): its tokens need the identity header', async (key, value) => {
    const res = await imds(`api-version=2018-02-01&resource=${KV}&${key}=${encodeURIComponent(value())}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'identity_header_required', error_description: expect.any(String) });
    expect(res.body.access_token).toBeUndefined();
    expect(res.text).not.toMatch(/unreachable/);
  });

  test.each(['post', 'put', 'delete', 'patch'] as const)('%s is 405', async (method) => {
    const res = await request(http)[method](`${TOKEN}?api-version=2018-02-01&resource=${KV}`).set('Metadata', 'true');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  test('an unknown path is 404 in the same error shape', async () => {
    const res = await request(http).get('/metadata/instance?api-version=2021-02-01').set('Metadata', 'true');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});

describe('App Service token path', () => {
  const msi = (query: string) => request(http).get(`/msi/token?${query}`);

  test('with the header and no selector it gives the officer principal', async () => {
    const res = await msi(`api-version=2019-08-01&resource=${KV}`).set('X-IDENTITY-HEADER', identity.appService.header);
    expect(res.status).toBe(200);
    expect(res.body.client_id).toBe(identity.officerPrincipal.clientId);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ oid: identity.officerPrincipal.objectId, appid: identity.officerPrincipal.clientId });
  });

  test('with the header a caller may still select the default principal', async () => {
    const res = await msi(`api-version=2019-08-01&resource=${KV}&principal_id=${identity.defaultPrincipal.objectId}`).set('X-IDENTITY-HEADER', identity.appService.header);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).oid).toBe(identity.defaultPrincipal.objectId);
  });

  test('answers with the configured X-IDENTITY-HEADER', async () => {
    const res = await msi(`api-version=2019-08-01&resource=${KV}&client_id=${app.clientId}`).set('X-IDENTITY-HEADER', identity.appService.header);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', resource: KV, client_id: app.clientId, expires_on: String(Math.floor(NOW.getTime() / 1000) + 3600) });
  });

  test.each([
    ['no header', undefined, 401, 'unauthorized'],
    ['a wrong header', 'nope', 401, 'unauthorized'],
  ])('%s is refused', async (_name, header, status, code) => {
    const req = msi(`api-version=2019-08-01&resource=${KV}`);
    const res = await (header === undefined ? req : req.set('X-IDENTITY-HEADER', header));
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(code);
  });

  test('another api-version is refused', async () => {
    const res = await msi(`api-version=2017-09-01&resource=${KV}`).set('X-IDENTITY-HEADER', identity.appService.header);
    expect(res.status).toBe(400);
  });
});

describe('OpenID discovery', () => {
  test('publishes the issuer, named after the tenant and not the port, and a JWKS with x5c and n/e where the endpoint listens', async () => {
    expect(identity.issuer).toBe(`https://sts.skr.invalid/${identity.tenantId}`);
    const discovery = await request(http).get('/.well-known/openid-configuration');
    expect(discovery.body).toMatchObject({ issuer: identity.issuer, jwks_uri: `${identity.url}/discovery/keys`, token_endpoint: `${identity.url}${TOKEN}` });
    const jwks = await request(http).get('/discovery/keys');
    expect(jwks.body.keys).toEqual([{ kid: identity.context.keys.current().kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: expect.any(String), e: 'AQAB', x5c: [expect.any(String)] }]);
  });

  test('TokenVerifier accepts a token with the key ring and refuses it after exp', async () => {
    const res = await request(identity.url).get(`${TOKEN}?api-version=2018-02-01&resource=${KV}`).set('Metadata', 'true');
    const at = (ms: number) => new TokenVerifier({ keyRingIssuers: [identity.verification], now: () => new Date(NOW.getTime() + ms) });
    await expect(at(0).verify(res.body.access_token)).resolves.toMatchObject({ aud: KV });
    await expect(at(3600_000 + 61_000).verify(res.body.access_token)).rejects.toMatchObject({ code: 'token_invalid' });
  });
});
