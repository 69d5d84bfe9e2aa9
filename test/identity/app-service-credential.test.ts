import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { startIdentity, type RunningIdentity } from '../../src/identity';
import { TokenVerifier } from '../../src/maa';
import { recordingProxy, refuseNonLoopbackConnections, setIdentityEnv, tempStateDir } from './harness';

/**
 * App Service's shape (IDENTITY_ENDPOINT + IDENTITY_HEADER), set up as the officer contract
 * says: the endpoint and the header file's contents. Its own file because MSAL keeps the first
 * source it picks per process.
 */
let identity: RunningIdentity;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let state: Awaited<ReturnType<typeof tempStateDir>>;
let restoreEnv: () => void;
let restoreNet: () => void;
let header: string;

beforeAll(async () => {
  state = await tempStateDir();
  identity = await startIdentity({ stateDir: state.dir });
  proxy = await recordingProxy(identity.url);
  restoreNet = refuseNonLoopbackConnections();
  header = await readFile(identity.officer.headerFile, 'utf8');
  const endpoint = identity.officer.endpoint.replace(identity.url, proxy.url);
  restoreEnv = setIdentityEnv({ IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: header });
});

afterAll(async () => {
  restoreEnv();
  restoreNet();
  await proxy.close();
  await identity.close();
  await state.remove();
});

test("the header file is absolute, 0600 and owned by the service's user, and holds exactly the header", async () => {
  expect(isAbsolute(identity.officer.headerFile)).toBe(true);
  const info = await stat(identity.officer.headerFile);
  expect(info.mode & 0o777).toBe(0o600);
  expect(info.uid).toBe(process.getuid!());
  expect(header).toBe(identity.appService.header);
  expect(identity.officer.endpoint).toBe(`${identity.url}/msi/token`);
});

test("ManagedIdentityCredential with IDENTITY_ENDPOINT and the header file's contents gets a verifiable officer token", async () => {
  const token = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default');
  const claims = await new TokenVerifier({ keyRingIssuers: [identity.verification] }).verify(token.token);
  expect(claims).toMatchObject({ aud: 'https://vault.azure.net', oid: identity.officerPrincipal.objectId });
  expect(claims.oid).not.toBe(identity.defaultPrincipal.objectId);
  expect(proxy.seen).toHaveLength(1);
  expect(proxy.seen[0]).toMatchObject({ method: 'GET', url: '/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net', status: 200 });
  expect(proxy.seen[0]!.headers['x-identity-header']).toBe(header);
});
