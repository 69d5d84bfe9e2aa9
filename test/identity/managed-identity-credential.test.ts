import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { startIdentity, type RunningIdentity } from '../../src/identity';
import { TokenVerifier } from '../../src/maa';
import { recordingProxy, refuseNonLoopbackConnections, setIdentityEnv, tempStateDir } from './harness';

/**
 * The real @azure/identity client against the endpoint, selected the way a deployment selects
 * it: AZURE_POD_IDENTITY_AUTHORITY_HOST. MSAL keeps the identity source it picks first in a
 * static for the life of the process (its module registry), so this file uses one endpoint
 * throughout and the App Service shape has a file of its own.
 */
const KV_SCOPE = 'https://vault.azure.net/.default';
const app = { name: 'app', objectId: '5b7f2c57-2f3e-4a55-9a3d-0a6b2f1f6c11', clientId: 'c8a4a3d9-4f2b-4d1e-b3a7-39b0d4c1e2f0' };

let identity: RunningIdentity;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let restoreEnv: () => void;
let restoreNet: () => void;
const verifier = () => new TokenVerifier({ keyRingIssuers: [identity.verification] });

beforeAll(async () => {
  state = await tempStateDir();
  identity = await startIdentity({ stateDir: state.dir, principals: [app] });
  proxy = await recordingProxy(identity.url);
  restoreNet = refuseNonLoopbackConnections();
  restoreEnv = setIdentityEnv({ AZURE_POD_IDENTITY_AUTHORITY_HOST: proxy.url });
});

afterAll(async () => {
  restoreEnv();
  restoreNet();
  await proxy.close();
  await identity.close();
  await state.remove();
});

beforeEach(() => {
  proxy.seen.length = 0;
});

test('the default principal gets a Key Vault token that TokenVerifier accepts, from one IMDS request and no probe', async () => {
  const before = Math.floor(Date.now() / 1000);
  const token = await new ManagedIdentityCredential().getToken(KV_SCOPE);
  const claims = await verifier().verify(token.token);

  expect(claims).toMatchObject({
    iss: identity.issuer,
    aud: 'https://vault.azure.net',
    oid: identity.defaultPrincipal.objectId,
    sub: identity.defaultPrincipal.objectId,
    appid: identity.defaultPrincipal.clientId,
    tid: identity.tenantId,
  });
  expect(claims.exp! - claims.iat!).toBe(3600);
  expect(claims.iat!).toBeGreaterThanOrEqual(before);
  // MSAL turns expires_on into "seconds from now" and back, so it may land a second early.
  expect(claims.exp! * 1000 - token.expiresOnTimestamp).toBeGreaterThanOrEqual(0);
  expect(claims.exp! * 1000 - token.expiresOnTimestamp).toBeLessThanOrEqual(1000);

  // What MSAL 5.6 sends: IMDS's path with a trailing slash, api-version 2018-02-01, the
  // resource without /.default, Metadata: true.
  expect(proxy.seen).toHaveLength(1);
  const [seen] = proxy.seen;
  expect(seen).toMatchObject({ method: 'GET', url: '/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net', status: 200 });
  expect(seen!.headers).toMatchObject({ metadata: 'true', 'x-client-sku': 'msal.js.node' });
});

test.each([
  ['clientId', { clientId: app.clientId }, `client_id=${app.clientId}`],
  ['objectId', { objectId: app.objectId }, `object_id=${app.objectId}`],
  ['resourceId', { resourceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/skr-local/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app` }, 'msi_res_id='],
])('a user-assigned principal selected by %s gets a token carrying its ids', async (_name, options, query) => {
  const token = await new ManagedIdentityCredential(options as { clientId: string }).getToken('https://managedhsm.azure.net/.default');
  const claims = await verifier().verify(token.token);
  expect(claims).toMatchObject({ aud: 'https://managedhsm.azure.net', oid: app.objectId, sub: app.objectId, appid: app.clientId });
  expect(proxy.seen.at(-1)!.url).toContain(query);
});

test('an unknown client id is refused as IMDS refuses it, without retries', async () => {
  const credential = new ManagedIdentityCredential({ clientId: '00000000-1111-2222-3333-444444444444' });
  await expect(credential.getToken(KV_SCOPE)).rejects.toThrow(/identity_not_found|Identity not found/);
  expect(proxy.seen.map((s) => s.status)).toEqual([400]);
});

test('a resource outside the allow-list gets no token', async () => {
  await expect(new ManagedIdentityCredential().getToken('https://management.azure.com/.default')).rejects.toThrow(/resource_not_allowed|not issued/);
  expect(proxy.seen.map((s) => s.status)).toEqual([400]);
});

test('a new credential reuses the token MSAL cached for an earlier one (its cache is per process)', async () => {
  await new ManagedIdentityCredential().getToken(KV_SCOPE);
  expect(proxy.seen).toHaveLength(0);
});

test('DefaultAzureCredential reaches the endpoint through its managed-identity link', async () => {
  // A resource not asked for before in this file, so the request is not answered from MSAL's cache.
  const token = await new DefaultAzureCredential().getToken('https://attest.azure.net/.default');
  const claims = await verifier().verify(token.token);
  expect(claims).toMatchObject({ aud: 'https://attest.azure.net', oid: identity.defaultPrincipal.objectId });
  expect(proxy.seen).toHaveLength(1);
  expect(proxy.seen[0]!.headers.metadata).toBe('true');
});
