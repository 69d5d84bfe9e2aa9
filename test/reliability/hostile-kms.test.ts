import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { createRelease, releaseSignerFromPem } from '../../src/kms/release';
import { createTlsMaterial, type TlsMaterial } from '../../src/tls/certificates';
import { issuerCredential, startStack, type Stack } from '../kms/harness';
import { raw, type RawResponse } from '../kms/raw';
import { hostileBodyText, hostileHeaders, hostileString, hostileValueText, objectText } from './arbitraries';

/**
 * Every KMS endpoint under hostile input: random and malformed bodies, paths and queries with
 * a genuine bearer token; forged bearer tokens on every route; forged, foreign and unsatisfying
 * attestation tokens on release. Never a 5xx, every refusal in Key Vault's error envelope with
 * a stable code, and never a release that the policy does not allow — while a genuine token
 * still releases throughout, so the properties could fail.
 */
const API = 'api-version=7.6';
const RUNS = Number(process.env.SKR_RELIABILITY_RUNS ?? 500);
const runs = (share: number) => Math.max(50, Math.round(RUNS * share));
const HOSTDATA = 'ab'.repeat(32);

let tls: TlsMaterial;
let stack: Stack;
let bearer: string;
let genuineAttestation: string;
let teeJwk: Record<string, unknown>;

const call = (method: string, path: string, options: Parameters<typeof raw>[4] = {}) => raw(stack.kms.url, tls.caPem, method, path, options);

/** Never a 5xx; a refusal is JSON `{"error":{"code","message"}}` with a stable code. */
function expectKvRefusal(res: RawResponse, context: string): void {
  if (res.status >= 500 || res.status === 0) throw new Error(`${res.status} for hostile input: ${context} → ${JSON.stringify(res.body).slice(0, 300)}`);
  if (res.status < 400) return;
  const error = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!String(res.headers['content-type']).startsWith('application/json') || typeof error?.code !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(error.code) || typeof error.message !== 'string') {
    throw new Error(`refusal outside Key Vault's envelope: ${context} → ${res.status} ${String(JSON.stringify(res.body)).slice(0, 300)}`);
  }
}

/** The policy of the releasable keys: the test issuer as authority, one host_data. */
const policy = (authority: string) => ({
  version: '1.0.0',
  anyOf: [{ authority, allOf: [{ claim: 'x-ms-sevsnpvm-hostdata', equals: HOSTDATA }, { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }],
});

const attestationClaims = () => ({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-sevsnpvm-hostdata': HOSTDATA, 'x-ms-runtime': { keys: [teeJwk] } });

beforeAll(async () => {
  tls = await createTlsMaterial();
  // No authority allow-list: the KMS trusts whatever authority a key's policy names (here the test issuer).
  stack = await startStack({ tls, release: createRelease({ signer: releaseSignerFromPem(tls.keyPem, [tls.certPem, tls.caPem]) }) });
  bearer = await stack.issuer.mint({ oid: stack.officer });
  const client = stack.client(issuerCredential(stack.issuer, stack.officer));
  const encodedPolicy = Buffer.from(JSON.stringify(policy(stack.issuer.url)));
  await client.createOctKey('releasable', { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy } });
  await client.createOctKey('not-exportable', { hsm: true, keySize: 256 });
  await client.createOctKey('hostile-target', { hsm: true, keySize: 256 });
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  teeJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'tee', key_ops: ['encrypt'] };
  genuineAttestation = await stack.issuer.mint(attestationClaims());
}, 120_000);
afterAll(() => stack?.close());

/** The KMS still works: a key reads, and a genuine token releases (a signed JWS, 200). */
async function expectStillReleasing(): Promise<void> {
  expect((await call('GET', `/keys/releasable?${API}`, { token: bearer })).status).toBe(200);
  const res = await call('POST', `/keys/releasable/release?${API}`, { token: bearer, body: JSON.stringify({ target: genuineAttestation }) });
  expect(res.status).toBe(200);
  expect(String((res.body as { value: string }).value).split('.')).toHaveLength(3);
}

test('a genuine attestation token releases; a non-exportable key or one without a policy never does', async () => {
  await expectStillReleasing();
  for (const name of ['not-exportable', 'hostile-target']) {
    const res = await call('POST', `/keys/${name}/release?${API}`, { token: bearer, body: JSON.stringify({ target: genuineAttestation }) });
    expectKvRefusal(res, name);
    expect(res.status).toBeGreaterThanOrEqual(400);
  }
});

/** Routes of the keys API, with the fields their bodies name. */
const ROUTES: { method: string; path: string; fields: string[] }[] = [
  { method: 'GET', path: '/keys', fields: [] },
  { method: 'POST', path: '/keys/{n}/create', fields: ['kty', 'key_size', 'crv', 'key_ops', 'attributes', 'tags', 'release_policy', 'public_exponent'] },
  { method: 'PUT', path: '/keys/{n}', fields: ['key', 'hsm', 'attributes', 'tags', 'release_policy'] },
  { method: 'GET', path: '/keys/{n}', fields: [] },
  { method: 'GET', path: '/keys/{n}/{v}', fields: [] },
  { method: 'PATCH', path: '/keys/{n}', fields: ['key_ops', 'attributes', 'tags', 'release_policy'] },
  { method: 'PATCH', path: '/keys/{n}/{v}', fields: ['key_ops', 'attributes', 'tags', 'release_policy'] },
  { method: 'GET', path: '/keys/{n}/versions', fields: [] },
  { method: 'POST', path: '/keys/{n}/rotate', fields: [] },
  { method: 'GET', path: '/keys/{n}/rotationpolicy', fields: [] },
  { method: 'PUT', path: '/keys/{n}/rotationpolicy', fields: ['lifetimeActions', 'attributes'] },
  { method: 'DELETE', path: '/keys/{n}', fields: [] },
  { method: 'GET', path: '/deletedkeys', fields: [] },
  { method: 'GET', path: '/deletedkeys/{n}', fields: [] },
  { method: 'POST', path: '/deletedkeys/{n}/recover', fields: [] },
  { method: 'DELETE', path: '/deletedkeys/{n}', fields: [] },
  { method: 'POST', path: '/keys/{n}/backup', fields: [] },
  { method: 'POST', path: '/keys/restore', fields: ['value'] },
  ...['encrypt', 'decrypt', 'wrapkey', 'unwrapkey', 'sign', 'verify'].flatMap((op) => [
    { method: 'POST', path: `/keys/{n}/${op}`, fields: ['alg', 'value', 'digest', 'iv', 'tag', 'aad'] },
    { method: 'POST', path: `/keys/{n}/{v}/${op}`, fields: ['alg', 'value', 'digest', 'iv', 'tag', 'aad'] },
  ]),
  { method: 'POST', path: '/keys/{n}/release', fields: ['target', 'enc', 'nonce'] },
  { method: 'POST', path: '/keys/{n}/{v}/release', fields: ['target', 'enc', 'nonce'] },
  { method: 'POST', path: '/rng', fields: ['count'] },
];

/** Key names: the mutable victim (never the releasable key: a DELETE must not end the run), unknown ones, hostile ones. */
const nameSegment = fc.oneof(
  fc.constantFrom('hostile-target', 'no-such-key', 'not-exportable', '..', '%00', '%ZZ', 'a'.repeat(200)),
  hostileString.map((s) => encodeURIComponent(s).slice(0, 300) || 'x'),
);
const versionSegment = fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), hostileString.map((s) => encodeURIComponent(s).slice(0, 100) || 'v'));
const apiVersion = fc.oneof(fc.constantFrom(`?${API}`, '?api-version=7.4', '', '?api-version=', '?api-version=1.0', `?${API}&${API}`, '?api-version[]=7.6'), hostileString.map((s) => `?api-version=${encodeURIComponent(s)}`));

test('every route, a genuine bearer, hostile paths, queries and bodies: never a 5xx, refusals in the envelope, nothing released', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES).chain((route) =>
        fc.record({
          route: fc.constant(route),
          name: nameSegment,
          version: versionSegment,
          query: apiVersion,
          headers: hostileHeaders,
          body: route.fields.length ? fc.oneof(objectText(Object.fromEntries(route.fields.map((f) => [f, hostileValueText]))), hostileBodyText) : fc.option(hostileBodyText, { nil: undefined }),
        }),
      ),
      async ({ route, name, version, query, headers, body }) => {
        const path = route.path.replace('{n}', name).replace('{v}', version) + query;
        const res = await call(route.method, path, { token: bearer, headers, ...(body !== undefined ? { body } : {}) });
        const context = `${route.method} ${path.slice(0, 200)} ${String(body).slice(0, 200)}`;
        expectKvRefusal(res, context);
        if (route.path.endsWith('/release')) expect({ context, status: res.status }).not.toMatchObject({ status: 200 });
      },
    ),
    { numRuns: runs(1) },
  );
  await expectStillReleasing();
}, 600_000);

/** Bearer tokens that must never pass: each is minted afresh so expiry-based ones stay as meant. */
const FORGED_BEARERS: [string, () => Promise<string>][] = [
  ['alg none', async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${bearer.split('.')[1]}.`],
  ['HS256 keyed with the issuer\'s public key', async () => {
    const pem = (await (await fetch(`${stack.issuer.url}/keys`)).text());
    return new SignJWT({ oid: stack.officer, aud: 'https://vault.azure.net' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(stack.issuer.url).setExpirationTime('10m').sign(Buffer.from(pem));
  }],
  ['RS256 by an untrusted key with the trusted kid', () => stack.issuer.mint({ oid: stack.officer }, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })],
  ['a wrong audience', () => stack.issuer.mint({ oid: stack.officer, aud: 'https://storage.azure.com' })],
  ['an expired token', () => stack.issuer.mint({ oid: stack.officer }, { expiresIn: -600 })],
  ['nbf in the future', () => stack.issuer.mint({ oid: stack.officer, nbf: Math.floor(Date.now() / 1000) + 3600 })],
  ['no exp', async () => new SignJWT({ oid: stack.officer, aud: 'https://vault.azure.net', iss: stack.issuer.url }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(stack.issuer.key)],
  ['no principal', async () => new SignJWT({ aud: 'https://vault.azure.net', iss: stack.issuer.url }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('10m').sign(stack.issuer.key)],
  ['a foreign issuer', async () => new SignJWT({ oid: stack.officer, aud: 'https://vault.azure.net', iss: 'https://login.example.com/tenant' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('10m').sign(stack.issuer.key)],
  ['a tampered payload', async () => {
    const [h, , s] = bearer.split('.');
    return `${h}.${Buffer.from(JSON.stringify({ oid: 'someone-else', aud: 'https://vault.azure.net', iss: stack.issuer.url, exp: 9_999_999_999 })).toString('base64url')}.${s}`;
  }],
  ['garbage', async () => 'not.a.token'],
  ['a huge token', async () => 'A'.repeat(70_000)],
];

test('forged bearer tokens on every route: 401 with the challenge, never a 2xx, never a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...FORGED_BEARERS), fc.constantFrom('', ' ', 'bearer '), async (route, [what, forge], scheme) => {
      const token = await forge();
      const path = `${route.path.replace('{n}', 'releasable').replace('{v}', '0'.repeat(32))}?${API}`;
      const body = route.fields.includes('target') ? JSON.stringify({ target: genuineAttestation }) : route.fields.length ? '{}' : undefined;
      const headers = { authorization: scheme === '' ? `Bearer ${token}` : scheme === ' ' ? `Bearer  ${token}` : `bearer ${token}` };
      const res = await call(route.method, path, { headers, ...(body !== undefined ? { body } : {}) });
      expectKvRefusal(res, `${what} on ${route.method} ${path}`);
      // A token past Node's header limit is refused before any route: 431, in the same envelope.
      expect({ what, route: route.path, status: res.status }).toEqual({ what, route: route.path, status: what === 'a huge token' ? 431 : 401 });
    }),
    { numRuns: runs(0.3) },
  );
  await expectStillReleasing();
}, 600_000);

/** Attestation tokens that must never release the key. */
const FORGED_TARGETS: [string, () => Promise<string>][] = [
  ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${genuineAttestation.split('.')[1]}.`],
  ['HS256', async () => new SignJWT(attestationClaims()).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(stack.issuer.url).setExpirationTime('10m').sign(Buffer.from('secret'))],
  ['an untrusted key', () => stack.issuer.mint(attestationClaims(), { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })],
  ['expired', () => stack.issuer.mint(attestationClaims(), { expiresIn: -600 })],
  ['another host_data', () => stack.issuer.mint({ ...attestationClaims(), 'x-ms-sevsnpvm-hostdata': 'cd'.repeat(32) })],
  ['host_data as a number', () => stack.issuer.mint({ ...attestationClaims(), 'x-ms-sevsnpvm-hostdata': 0 })],
  ['no runtime key', () => stack.issuer.mint({ ...attestationClaims(), 'x-ms-runtime': {} })],
  ['a weak runtime key', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    return stack.issuer.mint({ ...attestationClaims(), 'x-ms-runtime': { keys: [{ ...weak, key_ops: ['encrypt'] }] } });
  }],
  ['an issuer the policy does not name', async () =>
    new SignJWT(attestationClaims()).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://sharedeus2.eus2.attest.azure.net').setExpirationTime('10m').sign(stack.issuer.key)],
  ['a tampered payload', async () => {
    const [h, , s] = genuineAttestation.split('.');
    return `${h}.${Buffer.from(JSON.stringify({ ...attestationClaims(), iss: stack.issuer.url, 'x-ms-sevsnpvm-is-debuggable': true })).toString('base64url')}.${s}`;
  }],
];

test('release with forged, foreign or unsatisfying attestation tokens and hostile enc/nonce: never released, never a 5xx', async () => {
  const target = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...FORGED_TARGETS).map(([what, forge]) => ({ what, forge })) },
    { weight: 1, arbitrary: hostileString.map((s) => ({ what: 'a hostile string', forge: async () => s })) },
  );
  await fc.assert(
    fc.asyncProperty(
      target,
      fc.option(fc.oneof(fc.constantFrom('CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384', 'RSA-OAEP', ''), hostileString), { nil: undefined }),
      fc.option(hostileString, { nil: undefined }),
      async ({ what, forge }, enc, nonce) => {
        const body = JSON.stringify({ target: await forge(), ...(enc !== undefined ? { enc } : {}), ...(nonce !== undefined ? { nonce } : {}) });
        const res = await call('POST', `/keys/releasable/release?${API}`, { token: bearer, body });
        expectKvRefusal(res, `${what} enc=${String(enc)}`);
        expect({ what, status: res.status }).not.toMatchObject({ status: 200 });
      },
    ),
    { numRuns: runs(0.3) },
  );
  await expectStillReleasing();
}, 600_000);

test('the release JWS names this KMS: its x5c leads to the KMS certificate', async () => {
  const res = await call('POST', `/keys/releasable/release?${API}`, { token: bearer, body: JSON.stringify({ target: genuineAttestation }) });
  const header = JSON.parse(Buffer.from(String((res.body as { value: string }).value).split('.')[0]!, 'base64url').toString()) as { x5c: string[] };
  expect(new X509Certificate(Buffer.from(header.x5c[0]!, 'base64')).raw.equals(new X509Certificate(tls.certPem).raw)).toBe(true);
});
