import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import type { RunningKbs } from '../../src/kbs';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

/** An attacker who can reach the KBS's port and holds no admin key, or holds it but bends its token. */
const TRUSTEE = 'https://github.com/confidential-containers/kbs/errors/';

let device: VirtualDevice;
let kbs: RunningKbs;
let adminKey: KeyObject;

beforeAll(async () => {
  device = await virtualGuest();
  kbs = await startTestKbs(device);
  adminKey = createPrivateKey(readFileSync(kbs.adminKeyFile!));
}, 60_000);

afterAll(async () => {
  await kbs?.close();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const seconds = () => Math.floor(Date.now() / 1000);

function putPolicy(token: string, prefix: string): Promise<Response> {
  return fetch(`${kbs.url}/kbs/v0/resource-policy/${prefix}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: virtualTeePolicy(kbs) });
}

async function signed(claims: Record<string, unknown>, key: KeyObject = adminKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' }).sign(key);
}

describe('admin tokens an attacker can make', () => {
  test.each([
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ exp: seconds() + 600 })}.`],
    [
      'HS256 keyed with the public key',
      async () => {
        const secret = new TextEncoder().encode(readFileSync(kbs.adminKeyFile!, 'utf8'));
        return new SignJWT({ exp: seconds() + 600 }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
      },
    ],
    ['another Ed25519 key', async () => signed({ exp: seconds() + 600 }, generateKeyPairSync('ed25519').privateKey)],
    ['an expired token', async () => signed({ iat: seconds() - 7200, exp: seconds() - 3600 })],
    ['no exp', async () => signed({ iat: seconds() })],
    ['nbf in the future', async () => signed({ iat: seconds(), nbf: seconds() + 3600, exp: seconds() + 7200 })],
    ['iat in the future (minted ahead of time)', async () => signed({ iat: seconds() + 86_400, exp: seconds() + 90_000 })],
    ['a non-numeric iat', async () => signed({ iat: 'now', exp: seconds() + 600 })],
  ])('%s is refused with 401 AdminAuthAccess and changes nothing', async (name, make) => {
    const prefix = `adversary-${name.replace(/[^a-z0-9]+/gi, '-')}`;
    const response = await putPolicy(await make(), prefix);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}AdminAuthAccess`, code: 'kbs_admin_unauthorized' });
    expect(kbs.broker.options.policies.list().map((p) => p.prefix)).not.toContain(prefix);
  });

  test('a well-formed token from the admin key is accepted (the refusals above are not blanket)', async () => {
    const response = await putPolicy(await signed({ iat: seconds(), exp: seconds() + 600 }), 'adversary');
    expect(response.status).toBe(200);
    expect(kbs.broker.options.policies.list().map((p) => p.prefix)).toContain('adversary');
  });
});

describe('admin routes read no body before the token is checked', () => {
  test.each([
    ['malformed JSON', '{"version":'],
    ['a body over the limit', JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })],
  ])('an anonymous policy PUT with %s is 401, not a parse error', async (_name, body) => {
    const response = await fetch(`${kbs.url}/kbs/v0/resource-policy/anonymous`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'kbs_admin_unauthorized' });
  });

  test('an authorised policy PUT with malformed JSON is still a 400', async () => {
    const response = await fetch(`${kbs.url}/kbs/v0/resource-policy/malformed`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await signed({ iat: seconds(), exp: seconds() + 600 })}` },
      body: '{"version":',
    });
    expect(response.status).toBe(400);
  });
});

describe('admin changes the backend fails', () => {
  const LONG = 'L'.repeat(60);
  const path = `${LONG}/${LONG}/${LONG}`;
  const lastLine = () => JSON.parse(readFileSync(kbs.auditFile, 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;

  test.each([
    ['POST', 'resource.set'],
    ['DELETE', 'resource.delete'],
  ])('%s of a resource no backend name can hold is refused and audited as failed before the answer', async (method, action) => {
    const token = await signed({ iat: seconds(), exp: seconds() + 600, sub: 'operator' });
    const response = await fetch(`${kbs.url}/kbs/v0/resource/${path}`, { method, headers: { authorization: `Bearer ${token}` }, ...(method === 'POST' ? { body: 'x' } : {}) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'kbs_resource_name_unmappable' });
    expect(lastLine()).toMatchObject({ action, outcome: 'failed', principal: 'operator', resource: path, code: 'kbs_resource_name_unmappable' });
  });
});
