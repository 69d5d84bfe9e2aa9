import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { KbsClient, type RunningKbs } from '../../src/kbs';
import { explainRelease } from '../../src/kms/policy';
import { teePubkeyOf } from '../../src/kbs/tee-pubkey';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { admin, handshake, post, startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

const TRUSTEE = 'https://github.com/confidential-containers/kbs/errors/';
const SECRET = Buffer.from('demo secret \u0001\u0002', 'latin1');

let device: VirtualDevice;
let kbs: RunningKbs;
let other: RunningKbs;

beforeAll(async () => {
  device = await virtualGuest();
  kbs = await startTestKbs(device, { authPerMinute: 1000 });
  other = await startTestKbs(device);
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/secret', SECRET)).status).toBe(200);
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/denied', Buffer.from('never'))).status).toBe(200);
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo-x/secret', Buffer.from('outside'))).status).toBe(200);
  expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default/demo', virtualTeePolicy(kbs))).status).toBe(200);
  // The more specific prefix wins: this one asks for a measurement the virtual guest does not have.
  expect(
    (await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default/demo/denied', virtualTeePolicy(kbs, 'submods.cpu0.ear.veraison.annotated-evidence.snp.x-ms-sevsnpvm-launchmeasurement', 'ab'.repeat(48))))
      .status,
  ).toBe(200);
}, 60_000);

afterAll(async () => {
  await kbs?.close();
  await other?.close();
});

describe('skr kbs over real sockets with the virtual device', () => {
  test.each([
    ['ECDH-ES+A256KW-P256', 'guest-components'],
    ['ECDH-ES+A256KW-P521', 'guest-components'],
    ['RSA-OAEP-256', 'skr'],
  ] as const)('auth → attest → resource with a %s TEE key and %s evidence', async (keyAlgorithm, evidence) => {
    const client = new KbsClient({ url: kbs.url, device, keyAlgorithm, evidence });
    expect(await client.getResource('default/demo/secret')).toEqual(SECRET);
  });

  test('/auth answers the CLI contract: nonce, extra-params "" and the session cookie', async () => {
    const response = await post(kbs, '/kbs/v0/auth', { version: '0.4.0', tee: 'snp', 'extra-params': '' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['extra-params', 'nonce']);
    expect(body['extra-params']).toBe('');
    expect(Buffer.from(body.nonce as string, 'base64')).toHaveLength(32);
    expect(response.headers.get('set-cookie')).toMatch(/^kbs-session-id=[0-9a-f]{32}; Expires=/);
  });

  test("a wrong protocol version is 401 with trustee's AttestationError type", async () => {
    const response = await post(kbs, '/kbs/v0/auth', { version: '0.3.0', tee: 'snp', 'extra-params': '' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}AttestationError`, code: 'kbs_version_unsupported' });
  });

  test('a denied resource is 403 PolicyDeny with the explanation skr policy explain gives for the same token', async () => {
    const { cookie, attest } = await handshake(kbs, device);
    const { token } = (await (await attest()).json()) as { token: string };
    const response = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/denied`, { headers: { cookie } });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { type: string; details: { explanation: unknown; reason: string } };
    expect(body.type).toBe(`${TRUSTEE}PolicyDeny`);
    expect(body.details.reason).toBe('claims_not_satisfied');
    const policy = virtualTeePolicy(kbs, 'submods.cpu0.ear.veraison.annotated-evidence.snp.x-ms-sevsnpvm-launchmeasurement', 'ab'.repeat(48));
    const explained = explainRelease({ policy, token });
    expect(explained.allowed).toBe(false);
    expect(body.details.explanation).toEqual(explained.explanation);
    // The client surfaces it as a release denial with the explanation.
    await expect(new KbsClient({ url: kbs.url, device }).getResource('default/demo/denied')).rejects.toMatchObject({ code: 'release_denied', status: 403 });
  });

  test("the token is trustee's EAR shape and carries the tee-pubkey it was bound to", async () => {
    const { attest, teePubkey } = await handshake(kbs, device);
    const { token } = (await (await attest()).json()) as { token: string };
    const claims = decodeJwt(token) as Record<string, any>;
    expect(claims.iss).toBe(kbs.issuer);
    expect(claims.eat_profile).toBe('tag:github.com,2024:confidential-containers/Trustee');
    expect(claims.submods.cpu0['ear.status']).toBe('warning'); // a virtual TEE is never affirming
    expect(claims.submods.cpu0['ear.veraison.annotated-evidence'].runtime_data_claims['tee-pubkey']).toEqual(teePubkey);
    expect(claims.exp - claims.iat).toBe(300);
  });

  test('a reused nonce (a second /attest on the session) is refused', async () => {
    const { attest } = await handshake(kbs, device);
    expect((await attest()).status).toBe(200);
    const again = await attest();
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ type: `${TRUSTEE}AttestationError`, code: 'kbs_session_missing', details: { reason: 'already_attested' } });
  });

  test('a nonce from another session is refused, and the session is spent', async () => {
    const first = await handshake(kbs, device);
    const second = await handshake(kbs, device);
    const crossed = await post(kbs, '/kbs/v0/attest', second.body, { cookie: first.cookie });
    expect(crossed.status).toBe(401);
    expect(await crossed.json()).toMatchObject({ details: { reason: 'nonce_mismatch' } });
    expect((await first.attest()).status).toBe(401);
  });

  test('a replayed session cookie after expiry gets no token and no resource', async () => {
    let now = Date.now();
    const clocked = await startTestKbs(device, { now: () => new Date(now) });
    try {
      const { attest, cookie } = await handshake(clocked, device);
      now += 301_000;
      const late = await attest();
      expect(late.status).toBe(401);
      expect(await late.json()).toMatchObject({ details: { reason: 'unknown_or_expired' } });
      const resource = await fetch(`${clocked.url}/kbs/v0/resource/default/demo/secret`, { headers: { cookie } });
      expect(resource.status).toBe(401);
      expect(await resource.json()).toMatchObject({ type: `${TRUSTEE}TokenNotFound` });
    } finally {
      await clocked.close();
    }
  });

  test('evidence bound to one tee-pubkey but sent with another is refused', async () => {
    const swapped = teePubkeyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ECDH-ES+A256KW');
    const { attest } = await handshake(kbs, device, { sendKey: swapped });
    const response = await attest();
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}AttestationError`, details: { cause: 'runtime_data_mismatch' } });
  });

  test('a token whose tee-pubkey is swapped after attestation is refused', async () => {
    const { attest } = await handshake(kbs, device);
    const { token } = (await (await attest()).json()) as { token: string };
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    claims.submods.cpu0['ear.veraison.annotated-evidence'].runtime_data_claims['tee-pubkey'] = teePubkeyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ECDH-ES+A256KW');
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const response = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { headers: { authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}TokenVerifierError` });
  });

  test('a token from another KBS is refused; its own token works as a bearer', async () => {
    const elsewhere = await handshake(other, device);
    const { token: foreign } = (await (await elsewhere.attest()).json()) as { token: string };
    const refused = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { headers: { authorization: `Bearer ${foreign}` } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: `${TRUSTEE}TokenVerifierError` });

    const here = await handshake(kbs, device);
    const { token } = (await (await here.attest()).json()) as { token: string };
    const allowed = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { headers: { authorization: `Bearer ${token}` } });
    expect(allowed.status).toBe(200);
  });

  test.each([
    ['a sibling whose name extends the prefix', '/kbs/v0/resource/default/demo-x/secret', 403, 'PolicyDeny'],
    ['a dot-dot segment', '/kbs/v0/resource/default/demo/%2E%2E', 404, 'InvalidRequestPath'],
    ['an encoded slash', '/kbs/v0/resource/default%2Fdemo/secret/x', 404, 'InvalidRequestPath'],
    ['four segments', '/kbs/v0/resource/default/demo/secret/x', 404, 'InvalidRequestPath'],
  ])('a path escaping its policy prefix is refused: %s', async (_name, path, status, variant) => {
    const { cookie, attest } = await handshake(kbs, device);
    expect((await attest()).status).toBe(200);
    const response = await fetch(`${kbs.url}${path}`, { headers: { cookie } });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}${variant}` });
  });

  test('/auth is rate limited per source address with 429 and Retry-After', async () => {
    const limited = await startTestKbs(device, { authPerMinute: 2 });
    try {
      const auth = () => post(limited, '/kbs/v0/auth', { version: '0.4.0', tee: 'snp', 'extra-params': '' });
      expect((await auth()).status).toBe(200);
      expect((await auth()).status).toBe(200);
      const third = await auth();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  test('admin changes need a token from the admin key, and are audited without resource bytes', async () => {
    const { cookie, attest } = await handshake(kbs, device);
    expect((await attest()).status).toBe(200);
    expect((await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${kbs.url}/kbs/v0/resource/default/demo/denied`, { headers: { cookie } })).status).toBe(403);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const refused = await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/secret', Buffer.from('overwrite'), stranger);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: `${TRUSTEE}AdminAuthAccess` });
    const anonymous = await fetch(`${kbs.url}/kbs/v0/resource-policy/default`, { method: 'PUT', body: virtualTeePolicy(kbs) });
    expect(anonymous.status).toBe(401);
    const audit = readFileSync(kbs.auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'resource.set', outcome: 'done', resource: 'default/demo/secret' }),
        expect.objectContaining({ action: 'policy.set', outcome: 'done', resource: 'default/demo' }),
        expect.objectContaining({ action: 'resource.get', outcome: 'allowed', resource: 'default/demo/secret' }),
        expect.objectContaining({ action: 'resource.get', outcome: 'denied', resource: 'default/demo/denied' }),
      ]),
    );
    expect(readFileSync(kbs.auditFile, 'utf8')).not.toContain('demo secret');
  });

  test('a resource no policy covers is denied by default; an allowed missing one is 404', async () => {
    expect((await admin(kbs, 'POST', '/kbs/v0/resource/other/x/y', Buffer.from('z'))).status).toBe(200);
    const { cookie, attest } = await handshake(kbs, device);
    expect((await attest()).status).toBe(200);
    const uncovered = await fetch(`${kbs.url}/kbs/v0/resource/other/x/y`, { headers: { cookie } });
    expect(uncovered.status).toBe(403);
    expect(await uncovered.json()).toMatchObject({ details: { reason: 'no_policy' } });
    const missing = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/absent`, { headers: { cookie } });
    expect(missing.status).toBe(404);
  });
});

test('HEAD on a resource releases nothing and records nothing', async () => {
  const { cookie, attest } = await handshake(kbs, device);
  expect((await attest()).status).toBe(200);
  const before = readFileSync(kbs.auditFile, 'utf8');
  const response = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { method: 'HEAD', headers: { cookie } });
  expect(response.status).toBe(404);
  expect(readFileSync(kbs.auditFile, 'utf8')).toBe(before);
});
