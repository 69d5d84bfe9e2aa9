import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startIdentity } from '../../src/identity';
import { tempStateDir } from './harness';

let state: Awaited<ReturnType<typeof tempStateDir>>;
beforeEach(async () => {
  state = await tempStateDir();
});
afterEach(() => state.remove());

test('the default and officer principals, tenant, signing key and App Service secret survive a restart, kept 0600', async () => {
  const first = await startIdentity({ stateDir: state.dir });
  const snapshot = (i: typeof first) => ({ principal: i.defaultPrincipal, officer: i.officerPrincipal, tenant: i.tenantId, kid: i.context.keys.current().kid, header: i.appService.header });
  const before = snapshot(first);
  expect(before.officer.objectId).not.toBe(before.principal.objectId);
  await first.close();
  const second = await startIdentity({ stateDir: state.dir });
  expect(snapshot(second)).toEqual(before);
  await second.close();
  for (const file of ['identity.json', 'signing-keys.json', 'identity-header']) {
    expect((await stat(join(state.dir, 'identity', file))).mode & 0o777).toBe(0o600);
  }
});

test('state written before the officer principal keeps its default principal and gains an officer', async () => {
  const first = await startIdentity({ stateDir: state.dir });
  await first.close();
  const file = join(state.dir, 'identity', 'identity.json');
  const { tenantId, defaultPrincipal } = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ tenantId, defaultPrincipal }));
  const second = await startIdentity({ stateDir: state.dir });
  await second.close();
  expect(second.defaultPrincipal).toEqual(first.defaultPrincipal);
  expect(second.officerPrincipal.objectId).not.toBe(first.defaultPrincipal.objectId);
  expect(JSON.parse(await readFile(file, 'utf8')).officerPrincipal).toEqual(second.officerPrincipal);
});

test('an identity header file written with a newline or a wide mode is rewritten to exactly the secret, 0600', async () => {
  const first = await startIdentity({ stateDir: state.dir });
  await first.close();
  await writeFile(first.officer.headerFile, `${first.appService.header}\n`);
  await chmod(first.officer.headerFile, 0o644);
  const second = await startIdentity({ stateDir: state.dir });
  await second.close();
  expect(await readFile(second.officer.headerFile, 'utf8')).toBe(first.appService.header);
  expect((await stat(second.officer.headerFile)).mode & 0o777).toBe(0o600);
});

test.each([
  ['a principal named like the officer', { principals: [{ name: 'officer', objectId: '0a1b2c3d-0000-4000-8000-000000000001', clientId: '6f1d0a7e-5b3c-4e2a-9d8f-1a2b3c4d5e6f' }] }],
  ['a principal id that is not a GUID', { principals: [{ name: 'x', objectId: 'nope', clientId: '6f1d0a7e-5b3c-4e2a-9d8f-1a2b3c4d5e6f' }] }],
  [
    'two principals with one client id',
    {
      principals: [
        { name: 'a', objectId: '0a1b2c3d-0000-4000-8000-000000000001', clientId: '6f1d0a7e-5b3c-4e2a-9d8f-1a2b3c4d5e6f' },
        { name: 'b', objectId: '0a1b2c3d-0000-4000-8000-000000000002', clientId: '6F1D0A7E-5B3C-4E2A-9D8F-1A2B3C4D5E6F' },
      ],
    },
  ],
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
