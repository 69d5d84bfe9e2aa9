import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { startStack, startTestIssuer, type Stack, type TestIssuer } from './harness';
import { raw } from './raw';

/** What the SDK never sends: malformed requests, forged or misdirected tokens, missing roles. */
let stack: Stack;
let stranger: TestIssuer;
let officerToken: string;
const API = '?api-version=7.6';

beforeAll(async () => {
  stack = await startStack({ bodyLimit: '64kb' });
  stranger = await startTestIssuer();
  officerToken = await stack.issuer.mint({ oid: stack.officer });
});

afterAll(async () => {
  await stranger.close();
  await stack.close();
});

const call = (method: string, path: string, options: Parameters<typeof raw>[4] = {}) => raw(stack.kms.url, stack.kms.caPem, method, path, { token: officerToken, ...options });
const anonymous = (method: string, path: string, body?: string) => raw(stack.kms.url, stack.kms.caPem, method, path, body === undefined ? {} : { body });

describe('challenge authentication', () => {
  test('a request without a token gets the Key Vault challenge before its body is read', async () => {
    const res = await anonymous('POST', `/keys/k/create${API}`, '{not json');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer authorization="${stack.identity.issuer}", resource="https://vault.azure.net"`);
    expect(res.body).toEqual({ error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.', innererror: { code: 'unauthorized' } } });
  });

  test('an empty body with no token is challenged, not refused as invalid', async () => {
    expect((await anonymous('POST', `/keys/k/create${API}`, '')).status).toBe(401);
  });

  const forged: [string, () => Promise<string>][] = [
    ['a wrong audience', () => stack.issuer.mint({ oid: stack.officer, aud: 'https://storage.azure.com' })],
    ['an untrusted issuer', () => stranger.mint({ oid: stack.officer })],
    [
      'a trusted issuer name signed by another key',
      () =>
        new SignJWT({ oid: stack.officer, aud: 'https://vault.azure.net', exp: Math.floor(Date.now() / 1000) + 600 })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(stack.issuer.url)
          .sign(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    ],
    ['alg none', async () => new UnsecuredJWT({ oid: stack.officer, aud: 'https://vault.azure.net' }).setIssuer(stack.issuer.url).setExpirationTime('10m').encode()],
    [
      'HS256 keyed with a guessable secret',
      () =>
        new SignJWT({ oid: stack.officer, aud: 'https://vault.azure.net' })
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .setIssuer(stack.issuer.url)
          .setExpirationTime('10m')
          .sign(Buffer.from('secret')),
    ],
    ['an expired token', () => stack.issuer.mint({ oid: stack.officer }, { expiresIn: -600 })],
    ['a token not valid yet', () => stack.issuer.mint({ oid: stack.officer, nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ['a token without exp', () => stack.issuer.mint({ oid: stack.officer, exp: undefined })],
    ['a token naming no principal', () => stack.issuer.mint({})],
  ];
  test.each(forged)('a token with %s is refused with 401 and the challenge', async (_name, make) => {
    const res = await call('GET', `/keys${API}`, { token: await make() });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('Unauthorized');
    expect(res.headers['www-authenticate']).toContain('resource="https://vault.azure.net"');
  });

  test('Managed HSM audience tokens are accepted too', async () => {
    const token = await stack.issuer.mint({ oid: stack.officer, aud: 'https://managedhsm.azure.net' });
    expect((await call('GET', `/keys${API}`, { token })).status).toBe(200);
  });
});

describe('request validation', () => {
  test.each([
    ['no api-version', `/keys`],
    ['an api-version no specification publishes', `/keys?api-version=7.7`],
    ['a made-up preview', `/keys?api-version=7.4-preview.9`],
  ])('%s is BadParameter', async (_name, path) => {
    const res = await call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BadParameter');
  });

  // 7.4-preview.1 is what older @azure/keyvault-keys releases send on their first call.
  test.each(['7.0', '7.3', '7.4-preview.1', '7.4', '7.5', '7.6', '2025-07-01'])('api-version %s is accepted, percent-encoded as the SDK sends it', async (version) => {
    expect((await call('GET', `/keys?api%2Dversion=${version}`)).status).toBe(200);
  });

  test.each([
    ['not JSON', '{"kty":'],
    ['an array', '[]'],
    ['kty of the wrong type', '{"kty":5}'],
    ['an unknown kty', '{"kty":"DSA"}'],
    ['key_size as a string', '{"kty":"RSA","key_size":"2048"}'],
    ['an unsupported RSA size', '{"kty":"RSA","key_size":1024}'],
    ['an unknown curve', '{"kty":"EC","crv":"P-192"}'],
    ['enabled as a string', '{"kty":"oct","attributes":{"enabled":"yes"}}'],
    ['an unknown key operation', '{"kty":"oct","key_ops":["launch"]}'],
    ['tags with a number', '{"kty":"oct","tags":{"a":1}}'],
    ['release policy data that is not base64url', '{"kty":"oct","release_policy":{"data":"!!"}}'],
    ['nbf after exp', '{"kty":"oct","attributes":{"nbf":200,"exp":100}}'],
  ])('create with %s is BadParameter', async (_name, body) => {
    const res = await call('POST', `/keys/validation/create${API}`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BadParameter');
  });

  test('a key name outside Key Vault’s alphabet is BadParameter', async () => {
    expect((await call('POST', `/keys/bad_name/create${API}`, { body: '{"kty":"oct"}' })).status).toBe(400);
  });

  test('a body over the limit is 413', async () => {
    const res = await call('POST', `/keys/big/create${API}`, { body: JSON.stringify({ kty: 'oct', tags: { a: 'x'.repeat(100_000) } }) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('RequestEntityTooLarge');
  });

  test('import accepts "hsm" and padded base64url (Microsoft’s sidecar) and refuses inconsistent keys', async () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const pad = (s: string) => s + '='.repeat((4 - (s.length % 4)) % 4);
    const ok = await call('PUT', `/keys/imported/${API}`, { body: JSON.stringify({ key: { kty: 'EC', crv: 'P-256', x: pad(jwk.x!), y: pad(jwk.y!), d: pad(jwk.d!) }, hsm: true }) });
    expect(ok.status).toBe(200);
    expect(ok.body.key).toEqual({ kid: expect.stringMatching(/\/keys\/imported\/[0-9a-f]{32}$/), kty: 'EC-HSM', key_ops: ['sign', 'verify'], crv: 'P-256', x: jwk.x, y: jwk.y });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const bad = await call('PUT', `/keys/imported${API}`, { body: JSON.stringify({ key: { kty: 'EC', crv: 'P-256', x: other.x, y: other.y, d: jwk.d } }) });
    expect(bad.status).toBe(400);
    const publicOnly = await call('PUT', `/keys/imported${API}`, { body: JSON.stringify({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } }) });
    expect(publicOnly.status).toBe(400);
  });

  test('a version that is not 32 hex characters finds no key', async () => {
    await call('POST', `/keys/versioned/create${API}`, { body: '{"kty":"oct"}' });
    const res = await call('GET', `/keys/versioned/not-a-version${API}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('KeyNotFound');
  });

  test('operations outside key_ops and on expired keys are 403 Forbidden', async () => {
    await call('POST', `/keys/verify-only/create${API}`, { body: '{"kty":"EC","key_ops":["verify"]}' });
    const sign = await call('POST', `/keys/verify-only/sign${API}`, { body: JSON.stringify({ alg: 'ES256', value: randomBytes(32).toString('base64url') }) });
    expect(sign.status).toBe(403);
    expect(sign.body.error.code).toBe('Forbidden');
    await call('POST', `/keys/expired/create${API}`, { body: JSON.stringify({ kty: 'oct', attributes: { exp: Math.floor(Date.now() / 1000) - 10 } }) });
    const enc = await call('POST', `/keys/expired//encrypt${API}`, { body: JSON.stringify({ alg: 'A256GCM', value: 'AAAA' }) });
    expect(enc.status).toBe(403);
  });
});

describe('RBAC', () => {
  const principal = () => `p-${randomBytes(4).toString('hex')}`;

  test('a principal without a role is denied (403) every operation, and the denial is audited', async () => {
    const who = principal();
    const token = await stack.issuer.mint({ oid: who });
    const res = await call('POST', `/keys/rbac-none/create${API}`, { token, body: '{"kty":"oct"}' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('Forbidden');
    expect((await call('GET', `/keys${API}`, { token })).status).toBe(403);
    const [entry] = await stack.kms.audit.query({ principal: who, limit: 1 });
    expect(entry).toMatchObject({ principal: who, operation: 'list', decision: 'deny', status: 403, reason: expect.stringContaining('forbidden') });
  });

  test('a Crypto User can use keys but not manage them', async () => {
    const who = principal();
    stack.kms.roles.add(who, 'Key Vault Crypto User');
    const token = await stack.issuer.mint({ oid: who });
    await call('POST', `/keys/rbac-user/create${API}`, { body: '{"kty":"oct"}' });
    expect((await call('POST', `/keys/rbac-user/encrypt${API}`, { token, body: JSON.stringify({ alg: 'A256GCM', value: 'AAAA' }) })).status).toBe(200);
    expect((await call('GET', `/keys/rbac-user${API}`, { token })).status).toBe(200);
    expect((await call('POST', `/keys/rbac-user/create${API}`, { token, body: '{"kty":"oct"}' })).status).toBe(403);
    expect((await call('DELETE', `/keys/rbac-user${API}`, { token })).status).toBe(403);
    expect((await call('POST', `/keys/rbac-user/release${API}`, { token, body: '{"target":"t"}' })).status).toBe(403);
  });

  test('a Crypto Service Release User may only release', async () => {
    const who = principal();
    stack.kms.roles.add(who, 'crypto-service-release-user');
    const token = await stack.issuer.mint({ oid: who });
    await call('POST', `/keys/rbac-release/create${API}`, { body: '{"kty":"oct"}' });
    // Past authorization: the release itself refuses a target that is no token.
    expect((await call('POST', `/keys/rbac-release/release${API}`, { token, body: '{"target":"t"}' })).status).toBe(400);
    expect((await call('GET', `/keys/rbac-release${API}`, { token })).status).toBe(403);
  });

  test('a key-scoped role grants that key only', async () => {
    const who = principal();
    stack.kms.roles.add(who, 'crypto-officer', '/keys/scoped-a');
    const token = await stack.issuer.mint({ oid: who });
    expect((await call('POST', `/keys/scoped-a/create${API}`, { token, body: '{"kty":"oct"}' })).status).toBe(200);
    expect((await call('POST', `/keys/scoped-b/create${API}`, { token, body: '{"kty":"oct"}' })).status).toBe(403);
    expect((await call('GET', `/keys${API}`, { token })).status).toBe(403);
  });

  test.each<[string, () => string | undefined]>([
    ['no token', () => undefined],
    ["a principal's bearer token", () => officerToken],
    ['a wrong admin token', () => 'not-the-admin-token'],
  ])('the admin API answers %s with 401 before it reads the body, even bad JSON', async (_name, tokenOf) => {
    const token = tokenOf();
    for (const body of ['{not json', '"'.repeat(100_000)]) {
      const res = await raw(stack.kms.url, stack.kms.caPem, 'POST', '/admin/roles', token === undefined ? { body } : { token, body });
      expect([body.slice(0, 9), res.status]).toEqual([body.slice(0, 9), 401]);
    }
    // With the admin token the same body is read, and refused as what it is.
    expect((await call('POST', '/admin/roles', { token: stack.kms.adminToken, body: '{not json' })).status).toBe(400);
  });

  test('the admin API grants and revokes roles with the admin token only', async () => {
    const who = principal();
    const admin = { token: stack.kms.adminToken };
    expect((await call('POST', '/admin/roles', { token: officerToken, body: JSON.stringify({ principal: who, role: 'crypto-user' }) })).status).toBe(401);
    const added = await call('POST', '/admin/roles', { ...admin, body: JSON.stringify({ principal: who, role: 'crypto-user', scope: '/' }) });
    expect(added.status).toBe(201);
    expect((await call('GET', `/admin/roles?principal=${who}`, admin)).body.value).toEqual([expect.objectContaining({ principal: who, role: 'crypto-user', scope: '/' })]);
    const token = await stack.issuer.mint({ oid: who });
    expect((await call('GET', `/keys${API}`, { token })).status).toBe(200);
    expect((await call('DELETE', `/admin/roles/${added.body.id}`, admin)).status).toBe(204);
    expect((await call('GET', `/keys${API}`, { token })).status).toBe(403);
  });
});

describe('audit', () => {
  test('records operations with principal, key, version and decision, and never key material', async () => {
    const k = randomBytes(32);
    const imported = await call('PUT', `/keys/audited${API}`, { body: JSON.stringify({ key: { kty: 'oct', k: k.toString('base64url') } }) });
    expect(imported.status).toBe(200);
    const version = imported.body.key.kid.split('/').pop();
    await call('POST', `/keys/audited/${version}/wrapkey${API}`, { body: JSON.stringify({ alg: 'A256KW', value: randomBytes(32).toString('base64url') }) });
    const entries = await stack.kms.audit.query({ key: 'audited' });
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'import', key: 'audited', version, principal: stack.officer, decision: 'allow', status: 200 }),
        expect.objectContaining({ operation: 'wrapKey', key: 'audited', version, decision: 'allow' }),
      ]),
    );
    const everything = JSON.stringify(await stack.kms.audit.query({ limit: 10_000 }));
    expect(everything).not.toContain(k.toString('base64url'));
    expect(everything).not.toContain(k.toString('hex'));
    expect(everything).not.toContain(officerToken);
  });
});
