import { ManagedIdentityCredential } from '@azure/identity';
import { startIdentity, type RunningIdentity } from '../../src/identity';
import { TokenVerifier } from '../../src/maa';
import { recordingProxy, refuseNonLoopbackConnections, setIdentityEnv, tempStateDir } from './harness';

/** App Service's shape (IDENTITY_ENDPOINT + IDENTITY_HEADER); its own file because MSAL keeps the first source it picks per process. */
let identity: RunningIdentity;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let restoreEnv: () => void;
let restoreNet: () => void;

beforeAll(async () => {
  state = await tempStateDir();
  identity = await startIdentity({ stateDir: state.dir });
  proxy = await recordingProxy(identity.url);
  restoreNet = refuseNonLoopbackConnections();
  restoreEnv = setIdentityEnv({ IDENTITY_ENDPOINT: `${proxy.url}/msi/token`, IDENTITY_HEADER: identity.appService.header });
});

afterAll(async () => {
  restoreEnv();
  restoreNet();
  await proxy.close();
  await identity.close();
  await state.remove();
});

test('ManagedIdentityCredential in App Service mode gets a verifiable Key Vault token', async () => {
  const token = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default');
  const claims = await new TokenVerifier({ trustedIssuers: [identity.issuer] }).verify(token.token);
  expect(claims).toMatchObject({ aud: 'https://vault.azure.net', oid: identity.defaultPrincipal.objectId });
  expect(proxy.seen).toHaveLength(1);
  expect(proxy.seen[0]).toMatchObject({ method: 'GET', url: '/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net', status: 200 });
  expect(proxy.seen[0]!.headers['x-identity-header']).toBe(identity.appService.header);
});
