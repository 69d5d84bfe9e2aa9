import { readFileSync } from 'node:fs';
import { SecretClient } from '@azure/keyvault-secrets';
import { SecretsBackend, secretNameOf, type RunningKbs } from '../../src/kbs';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { issuerCredential, startStack, type Stack } from '../kms/harness';
import { admin, handshake, startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

/**
 * Resources kept as secrets in skr kms. Key Vault does not enforce a secret's `exp` and `nbf` on
 * a get (they are for the application to honour), and refuses a disabled one: the KBS, the
 * application here, must release neither an expired, a not-yet-valid nor a disabled resource,
 * and say so honestly (403), not as a vault failure.
 */
let device: VirtualDevice;
let stack: Stack;
let vault: SecretClient;
let kbs: RunningKbs;

beforeAll(async () => {
  device = await virtualGuest();
  stack = await startStack();
  stack.kms.roles.add('kbs-backend', 'Key Vault Secrets Officer');
  vault = new SecretClient(stack.kms.url, issuerCredential(stack.issuer, 'kbs-backend'), {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: stack.kms.caPem },
    retryOptions: { maxRetries: 0 },
  });
  kbs = await startTestKbs(device, { authPerMinute: 1000, backend: new SecretsBackend(vault) });
  expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/vault', virtualTeePolicy(kbs))).status).toBe(200);
  for (const tag of ['live', 'expired', 'early', 'disabled']) expect((await admin(kbs, 'POST', `/kbs/v0/resource/vault/demo/${tag}`, Buffer.from(tag))).status).toBe(200);
  const hour = 3_600_000;
  const version = async (tag: string) => (await vault.getSecret(secretNameOf(['vault', 'demo', tag]))).properties.version!;
  await vault.updateSecretProperties(secretNameOf(['vault', 'demo', 'expired']), await version('expired'), { expiresOn: new Date(Date.now() - hour) });
  await vault.updateSecretProperties(secretNameOf(['vault', 'demo', 'early']), await version('early'), { notBefore: new Date(Date.now() + hour) });
  await vault.updateSecretProperties(secretNameOf(['vault', 'demo', 'disabled']), await version('disabled'), { enabled: false });
}, 60_000);

afterAll(async () => {
  await kbs?.close();
  await stack?.close();
});

async function get(tag: string): Promise<Response> {
  const { cookie, attest } = await handshake(kbs, device);
  expect((await attest()).status).toBe(200);
  return fetch(`${kbs.url}/kbs/v0/resource/vault/demo/${tag}`, { headers: { cookie } });
}

test('a live resource secret is released (the refusals below are about the secret, not the setup)', async () => {
  expect((await get('live')).status).toBe(200);
});

test.each([
  ['expired', 'expired'],
  ['early', 'not_yet_valid'],
  ['disabled', 'disabled'],
])('the resource secret "%s" is 403 kbs_resource_unavailable (%s), audited as failed', async (tag, reason) => {
  const response = await get(tag);
  expect(response.status).toBe(403);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ code: 'kbs_resource_unavailable', details: { reason } });
  const last = JSON.parse(readFileSync(kbs.auditFile, 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(last).toMatchObject({ action: 'resource.get', resource: `vault/demo/${tag}`, outcome: 'failed', code: 'kbs_resource_unavailable' });
});

test('re-creating a deleted resource while the vault still holds its secret soft-deleted is 409 for the admin, not a vault failure', async () => {
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/vault/demo/recycled', Buffer.from('one'))).status).toBe(200);
  expect((await admin(kbs, 'DELETE', '/kbs/v0/resource/vault/demo/recycled')).status).toBe(200);
  const again = await admin(kbs, 'POST', '/kbs/v0/resource/vault/demo/recycled', Buffer.from('two'));
  expect(again.status).toBe(409);
  expect(await again.json()).toMatchObject({ code: 'kbs_resource_conflict' });
  const last = JSON.parse(readFileSync(kbs.auditFile, 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(last).toMatchObject({ action: 'resource.set', resource: 'vault/demo/recycled', outcome: 'failed', code: 'kbs_resource_conflict' });
});
