import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startIdentity } from '../../src/identity';
import { tempStateDir } from './harness';

let state: Awaited<ReturnType<typeof tempStateDir>>;
beforeEach(async () => {
  state = await tempStateDir();
});
afterEach(() => state.remove());

test('the default principal, tenant, signing key and App Service secret survive a restart, kept 0600', async () => {
  const first = await startIdentity({ stateDir: state.dir });
  const before = { principal: first.defaultPrincipal, tenant: first.tenantId, kid: first.context.keys.current().kid, header: first.appService.header };
  await first.close();
  const second = await startIdentity({ stateDir: state.dir });
  expect({ principal: second.defaultPrincipal, tenant: second.tenantId, kid: second.context.keys.current().kid, header: second.appService.header }).toEqual(before);
  await second.close();
  for (const file of ['identity.json', 'signing-keys.json', 'identity-header']) {
    expect((await stat(join(state.dir, 'identity', file))).mode & 0o777).toBe(0o600);
  }
});

test.each([
  ['a principal id that is not a GUID', { principals: [{ name: 'x', objectId: 'nope', clientId: '6f1d0a7e-5b3c-4e2a-9d8f-1a2b3c4d5e6f' }] }],
  ['two principals with one client id', {
    principals: [
      { name: 'a', objectId: '0a1b2c3d-0000-4000-8000-000000000001', clientId: '6f1d0a7e-5b3c-4e2a-9d8f-1a2b3c4d5e6f' },
      { name: 'b', objectId: '0a1b2c3d-0000-4000-8000-000000000002', clientId: '6F1D0A7E-5B3C-4E2A-9D8F-1A2B3C4D5E6F' },
    ],
  }],
  ['a principal named like the default one', { principals: [{ name: 'default', objectId: '0a1b2c3d-0000-4000-8000-000000000001', clientId: '6f1d0a7e-5b3c-4e2a-9d8f-1a2b3c4d5e6f' }] }],
  ['a token lifetime over a day', { tokenLifetimeSeconds: 86_401 }],
])('refuses to start with %s', async (_name, options) => {
  await expect(startIdentity({ stateDir: state.dir, ...options })).rejects.toMatchObject({ code: 'invalid_argument' });
});

test('the token lifetime is configurable', async () => {
  const identity = await startIdentity({ stateDir: state.dir, tokenLifetimeSeconds: 300 });
  const res = await fetch(`${identity.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
  const body = (await res.json()) as { expires_in: string };
  await identity.close();
  expect(body.expires_in).toBe('300');
});
