import { generateKeyPairSync, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startDevStack, type RunningStack } from '../../src/dev/stack';
import { hostileBodyText, hostileHeaders, hostileString, hostileValueText, objectText, RUNS } from './arbitraries';
import {
  algNone,
  expectKvAnswer,
  expectNoKeyMaterial,
  fetchOfficerToken,
  fetchAttestationToken,
  forgedBearers,
  forgedTargets,
  kmsCall,
  PLAUSIBLE,
  releasableKeyBody,
  releasedMaterial,
  signClaims,
  teeKeyPair,
  type RawResponse,
  type SigningIdentity,
  withTamperedPayload,
} from './kms-hostile-helpers';

/**
 * Every KMS endpoint under hostile input, on the embedded stack (virtual device, verifier,
 * identity endpoint, KMS, sidecar): random and malformed bodies, paths, queries and methods with
 * a genuine bearer token; forged bearer tokens on every route; forged, foreign and unsatisfying
 * attestation tokens on release. Never a 5xx, every refusal in Key Vault's error envelope, never
 * a release the policy does not allow — and after each property the KMS still reads keys and
 * still releases the demo key, the same material as before, to a genuine token.
 */
const API = 'api-version=7.6';
/** Runs per property: the brief's budget, lowered (never raised) by SKR_RELIABILITY_RUNS. */
const runs = (n: number) => Math.min(n, RUNS);

let stateDir: string;
let stack: RunningStack;
/** The identity endpoint's token for its default principal: Crypto Officer and Release User. */
let bearer: string;
/** A genuine attestation token of the virtual TEE, carrying `tee`'s public key. */
let attestation: string;
let tee: { privateKey: KeyObject; jwk: Record<string, unknown> };
/** The demo key's material as first released: every later release must give the same bytes. */
let demoMaterial: Buffer;
let demoVersion: string;
let identityKey: SigningIdentity;
let verifierKey: SigningIdentity;
let untrusted: KeyObject;
let weakJwk: Record<string, unknown>;

const call = (method: string, path: string, options: Parameters<typeof kmsCall>[3] = {}) => kmsCall(stack, method, path, options);
const asOfficer = (method: string, path: string, body?: string) => call(method, path, { token: bearer, ...(body !== undefined ? { body } : {}) });
const releaseDemo = (target: string, path = `/keys/demo/release?${API}`) => asOfficer('POST', path, JSON.stringify({ target }));
const releaseDemoWithBearer = (token: string) => call('POST', `/keys/demo/release?${API}`, { token, body: JSON.stringify({ target: attestation }) });
/** Keys hostile traffic may change or delete; each is recreated when a hostile request deleted it. */
const VICTIMS: Record<string, string> = {
  'hk-victim': '', // filled in beforeAll: releasable like demo, so hostile releases hit a real policy
  'hk-rsa': JSON.stringify({ kty: 'RSA', key_size: 2048 }),
  'hk-ec': JSON.stringify({ kty: 'EC', crv: 'P-256' }),
  'hk-oct': JSON.stringify({ kty: 'oct-HSM', key_size: 256 }),
};
/** Keys hostile traffic never names: the release checks below depend on them as created. */
const PROTECTED = ['demo', 'demo-denied', 'hk-not-exportable', 'hk-no-policy', 'hk-disabled'];
/** Keys of the crypto property, which needs them as created (all key_ops, enabled); hostile traffic never names them either. */
const CRYPTO_KEYS: Record<'hk-crypto-rsa' | 'hk-crypto-ec' | 'hk-crypto-oct', string> = {
  'hk-crypto-rsa': JSON.stringify({ kty: 'RSA', key_size: 2048 }),
  'hk-crypto-ec': JSON.stringify({ kty: 'EC', crv: 'P-256' }),
  'hk-crypto-oct': JSON.stringify({ kty: 'oct-HSM', key_size: 256 }),
};

async function createKey(name: string, body: string): Promise<RawResponse> {
  const res = await asOfficer('POST', `/keys/${name}/create?${API}`, body);
  if (res.status !== 200) throw new Error(`creating ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** A victim that hostile traffic deleted comes back (purged, then created afresh) so later runs still reach a key. */
async function restoreVictim(name: string): Promise<void> {
  if ((await asOfficer('GET', `/keys/${name}?${API}`)).status === 200) return;
  await asOfficer('DELETE', `/deletedkeys/${name}?${API}`);
  await createKey(name, VICTIMS[name]!);
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'skr-hostile-kms-'));
  stack = await startDevStack({ port: 0, stateDir });
  tee = teeKeyPair();
  untrusted = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  weakJwk = { ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }), kid: 'weak', key_ops: ['encrypt'] };
  const signing = (issuer: string, ring: { current(): { kid: string; privateKey: KeyObject; certificate: { publicKey: KeyObject } } }): SigningIdentity => {
    const k = ring.current();
    return { issuer, key: k.privateKey, kid: k.kid, publicKey: k.certificate.publicKey };
  };
  identityKey = signing(stack.identity.issuer, stack.identity.context.keys);
  verifierKey = signing(stack.verifier.issuer, stack.verifier.context.keys);
  [bearer, attestation] = await Promise.all([fetchOfficerToken(stack.endpoints.officer), fetchAttestationToken(stack.sidecar.url, tee.jwk)]);

  VICTIMS['hk-victim'] = releasableKeyBody(stack, { exportable: true });
  for (const [name, body] of Object.entries({ ...VICTIMS, ...CRYPTO_KEYS })) await createKey(name, body);
  await createKey('hk-not-exportable', releasableKeyBody(stack, { exportable: false }));
  await createKey('hk-no-policy', JSON.stringify({ kty: 'oct-HSM', key_size: 256 }));
  await createKey('hk-disabled', releasableKeyBody(stack, { exportable: true, enabled: false }));

  const first = await releaseDemo(attestation);
  if (first.status !== 200) throw new Error(`the genuine release failed: ${first.status} ${JSON.stringify(first.body)}`);
  demoMaterial = await releasedMaterial(first, tee.privateKey);
  demoVersion = String((await asOfficer('GET', `/keys/demo?${API}`)).body.key.kid)
    .split('/')
    .pop()!;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/**
 * A release that must not happen: no key material and no release JWS in the answer, and a POST
 * (the release itself) refused in the envelope. Another method may get Express's automatic
 * answer (OPTIONS lists the allowed methods), which releases nothing.
 */
function expectNotReleased(res: RawResponse, context: string, method = 'POST'): void {
  expectKvAnswer(res, method, context);
  expectNoKeyMaterial(res, context);
  const value = (res.body as { value?: unknown } | undefined)?.value;
  if (typeof value === 'string' || (method === 'POST' && res.status < 400)) throw new Error(`released (or not refused): ${context} → ${res.status}`);
}

/**
 * The KMS is still itself: the demo key reads as before (public parts only), the genuine token
 * still releases it — by name and by version — with the same material, and the keys that must
 * never be released still are not.
 */
async function expectKmsStillServing(): Promise<void> {
  const read = await asOfficer('GET', `/keys/demo?${API}`);
  expect(read.status).toBe(200);
  expect(read.body.key).toMatchObject({ kid: `${stack.kms.vaultUrl}/keys/demo/${demoVersion}`, kty: 'oct-HSM' });
  expectNoKeyMaterial(read, 'GET /keys/demo');
  for (const path of [`/keys/demo/release?${API}`, `/keys/demo/${demoVersion}/release?${API}`]) {
    const res = await releaseDemo(attestation, path);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    expect((await releasedMaterial(res, tee.privateKey)).equals(demoMaterial)).toBe(true);
  }
  for (const name of PROTECTED.filter((n) => n !== 'demo')) expectNotReleased(await releaseDemo(attestation, `/keys/${name}/release?${API}`), `release of ${name}`);
}

describe('keys that must never be released, with a genuine attestation token', () => {
  test("the demo key is released to the genuine token (so every refusal below is the key's doing), in a JWS signed under the stack's CA", async () => {
    await expectKmsStillServing();
    const jws = String((await releaseDemo(attestation)).body.value);
    const [header, payload, signature] = jws.split('.') as [string, string, string];
    const x5c = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { x5c: string[] }).x5c;
    const signer = new X509Certificate(Buffer.from(x5c[0]!, 'base64'));
    expect(signer.verify(new X509Certificate(stack.kms.caPem).publicKey)).toBe(true);
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), signer.publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  test.each([
    ['hk-not-exportable', 400],
    ['hk-no-policy', 400],
    ['hk-disabled', 403],
    ['demo-denied', 403],
  ] as const)('%s is refused with %i, by name and by version', async (name, status) => {
    const version = String((await asOfficer('GET', `/keys/${name}?${API}`)).body.key.kid)
      .split('/')
      .pop();
    for (const path of [`/keys/${name}/release?${API}`, `/keys/${name}/${version}/release?${API}`]) {
      const res = await releaseDemo(attestation, path);
      expectNotReleased(res, path);
      expect({ path, status: res.status }).toEqual({ path, status });
    }
  });

  test('an exportable key without a release policy cannot even be created (AKV.SKR.1004)', async () => {
    const res = await asOfficer('POST', `/keys/hk-exportable-no-policy/create?${API}`, JSON.stringify({ kty: 'oct-HSM', key_size: 256, attributes: { exportable: true } }));
    expect(expectKvAnswer(res, 'POST', 'exportable without policy')).toBe('BadParameter');
    expect((await asOfficer('GET', `/keys/hk-exportable-no-policy?${API}`)).status).toBe(404);
  });
});

// ---- every route with a genuine bearer --------------------------------------------------------

interface Route {
  method: string;
  path: string;
  /** The body fields the route reads; hostile values go in them. */
  fields: string[];
}

const CRYPTO_FIELDS = ['alg', 'value', 'digest', 'iv', 'tag', 'aad'];
const ROUTES: Route[] = [
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
    { method: 'POST', path: `/keys/{n}/${op}`, fields: CRYPTO_FIELDS },
    { method: 'POST', path: `/keys/{n}/{v}/${op}`, fields: CRYPTO_FIELDS },
  ]),
  { method: 'POST', path: '/keys/{n}/release', fields: ['target', 'enc', 'nonce'] },
  { method: 'POST', path: '/keys/{n}/{v}/release', fields: ['target', 'enc', 'nonce'] },
  { method: 'POST', path: '/rng', fields: ['count'] },
];
const ADMIN_ROUTES: Route[] = [
  { method: 'GET', path: '/admin/roles', fields: [] },
  { method: 'POST', path: '/admin/roles', fields: ['principal', 'role', 'scope'] },
  { method: 'DELETE', path: '/admin/roles/{n}', fields: [] },
  { method: 'GET', path: '/admin/audit', fields: [] },
];

const safeDecode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};
const isProtected = (segment: string) => [...PROTECTED, ...Object.keys(CRYPTO_KEYS)].includes(safeDecode(segment).toLowerCase());

/** Key names: the victims, an unknown one, path tricks and hostile strings — never a protected key (names are case-insensitive). */
const nameSegment = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.keys(VICTIMS), 'no-such-key') },
    { weight: 1, arbitrary: fc.constantFrom('..', '.', '%00', '%ZZ', '%2F', '%2e%2e', 'a'.repeat(128), 'a'.repeat(1000), '-', 'HK-VICTIM', 'hk_victim', '__proto__', 'constructor') },
    { weight: 2, arbitrary: hostileString.map((s) => encodeURIComponent(s).slice(0, 400) || 'x') },
  )
  .filter((s) => !isProtected(s));

/** Versions: well-formed unknown ones and hostile strings (never a protected key's name: `/keys/./demo` would reach it). */
const versionSegment = fc
  .oneof(
    fc.stringMatching(/^[0-9a-f]{32}$/),
    fc.constantFrom('0'.repeat(32), 'F'.repeat(32), '0'.repeat(31), 'latest', '%ZZ', ''),
    hostileString.map((s) => encodeURIComponent(s).slice(0, 200) || 'v'),
  )
  .filter((s) => !isProtected(s));

/**
 * One query parameter, its value cut to 4 000 characters so the request head stays under Node's
 * 16 KiB header limit (past it the HTTP parser answers before the app; that case has its own test).
 */
const param = (name: string, value: fc.Arbitrary<string>) => value.map((v) => `${name}=${encodeURIComponent(v).slice(0, 4_000)}`);
/** Query strings: api-version missing, garbage, repeated, bracketed; paging parameters out of range or undecodable. */
const queryString = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(API) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '',
          'api-version=',
          'api-version=7.0',
          'api-version=2016-10-01',
          `${API}&${API}`,
          'api-version[]=7.6',
          'api-version[a]=7.6',
          'API-VERSION=7.6',
          'api%2Dversion=7.6',
          '%',
          '&&&',
          'api-version=7.6%00',
        ),
      },
      { weight: 1, arbitrary: param('api-version', hostileString) },
    ),
    fc.option(fc.oneof(param('maxresults', fc.oneof(hostileString, fc.integer().map(String))), param('$skiptoken', hostileString), param('principal', hostileString)), { nil: undefined }),
  )
  .map(([api, extra]) => `?${[api, extra].filter((p) => p !== undefined).join('&')}`);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'SEARCH', 'FOO'];

/** Mostly no extra header; sometimes a content type or encoding the body parser must refuse. */
const headerVariant = fc.oneof({ weight: 4, arbitrary: fc.constant<Record<string, string>>({}) }, { weight: 1, arbitrary: hostileHeaders });

/** A field's value: near what the route wants (PLAUSIBLE, or `own`), or any hostile value at all. */
function fieldValue(field: string, own: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const near = own[field] ?? PLAUSIBLE[field];
  return near ? fc.oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: hostileValueText }) : hostileValueText;
}

/** A request on one of `routes`: its own method mostly, path segments, query, headers and body all hostile. */
function hostileRequest(routes: Route[], own: Record<string, fc.Arbitrary<string>> = {}, knownVersions: string[] = []) {
  return fc.constantFrom(...routes).chain((route) =>
    fc.record({
      route: fc.constant(route),
      method: fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      name: nameSegment,
      // The victims' real versions too, so versioned routes reach a key and not only a 404.
      version: knownVersions.length ? fc.oneof(versionSegment, fc.constantFrom(...knownVersions)) : versionSegment,
      query: queryString,
      headers: headerVariant,
      body: route.fields.length
        ? fc.oneof({ weight: 4, arbitrary: objectText(Object.fromEntries(route.fields.map((f) => [f, fieldValue(f, own)]))) }, { weight: 1, arbitrary: hostileBodyText })
        : fc.option(hostileBodyText, { nil: undefined, freq: 3 }),
    }),
  );
}

/** Every version of every victim, as the versions list names them. */
async function victimVersions(): Promise<string[]> {
  const lists = await Promise.all(Object.keys(VICTIMS).map((name) => asOfficer('GET', `/keys/${name}/versions?${API}`)));
  return lists.flatMap((res) => (res.body.value as { kid: string }[]).map((item) => item.kid.split('/').pop()!));
}

/** A genuine blob (a backup, a token) truncated, extended, or with one character changed. */
function mutated(genuine: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: genuine.length - 1 }).map((n) => genuine.slice(0, n)),
    fc.string({ minLength: 1, maxLength: 64 }).map((tail) => genuine + tail),
    fc.constant(genuine + 'A'.repeat(200_000)),
    fc.tuple(fc.nat({ max: genuine.length - 1 }), fc.constantFrom('A', '_', '-', '=', '.', '+')).map(([at, c]) => genuine.slice(0, at) + c + genuine.slice(at + 1)),
  );
}

test('every keys-API route with a genuine bearer: hostile paths, queries, methods, headers and bodies', async () => {
  const backup = String((await asOfficer('POST', `/keys/hk-oct/backup?${API}`)).body.value);
  const ownValues = {
    // A genuine backup damaged, and attestation tokens damaged or forged: restore and release get past the type checks.
    value: fc.oneof(
      PLAUSIBLE.value!,
      mutated(backup).map((v) => JSON.stringify(v)),
    ),
    target: fc
      .oneof(
        mutated(attestation),
        fc.constantFrom(
          algNone(attestation),
          withTamperedPayload(attestation, (c) => ({ ...c, 'x-ms-sevsnpvm-vmpl': 0, exp: 4_102_444_800 })),
        ),
      )
      .map((v) => JSON.stringify(v)),
  };
  await fc.assert(
    fc.asyncProperty(hostileRequest(ROUTES, ownValues, await victimVersions()), async ({ route, method, name, version, query, headers, body }) => {
      const path = route.path.replace('{n}', name).replace('{v}', version) + query;
      // A GET or HEAD with a body is legal HTTP; the body is sent as it is.
      const res = await call(method, path, { token: bearer, headers, ...(body !== undefined ? { body } : {}) });
      const context = `${method} ${path.slice(0, 200)} ${JSON.stringify(headers)} ${String(body).slice(0, 200)}`;
      expectKvAnswer(res, method, context);
      if (route.path.endsWith('/release')) expectNotReleased(res, context, method);
      else expectNoKeyMaterial(res, context);
      if (method === 'DELETE' && res.status < 300 && name in VICTIMS) await restoreVictim(name);
    }),
    { numRuns: runs(300) },
  );
  for (const name of Object.keys(VICTIMS)) await restoreVictim(name);
  await expectKmsStillServing();
}, 300_000);

test('the admin API with its own token: hostile bodies, ids and audit queries never break it nor its role assignments', async () => {
  const officer = stack.identity.officerPrincipal.objectId;
  const rolesBefore = await stack.kms.roles.list(officer);
  const auditQuery = fc
    .record({
      key: fc.option(hostileString, { nil: undefined }),
      principal: fc.option(hostileString, { nil: undefined }),
      decision: fc.option(fc.oneof(fc.constantFrom('allow', 'deny', 'error'), hostileString), { nil: undefined }),
      since: fc.option(fc.oneof(fc.integer().map(String), fc.constantFrom('NaN', '-1', '1e309', '0x10', ''), hostileString), { nil: undefined }),
      limit: fc.option(fc.oneof(fc.integer().map(String), fc.constantFrom('NaN', '-1', '0', '1e309', '99999999999'), hostileString), { nil: undefined }),
    })
    // Each value cut to 2 000 characters: the request head stays under Node's header limit.
    .map(
      (q) =>
        `?${new URLSearchParams(
          Object.entries(q)
            .filter((e): e is [string, string] => e[1] !== undefined)
            .map(([k, v]): [string, string] => [k, v.slice(0, 2_000)]),
        ).toString()}`,
    );
  await fc.assert(
    fc.asyncProperty(hostileRequest(ADMIN_ROUTES), fc.oneof(auditQuery, queryString), async ({ route, method, name, headers, body }, query) => {
      const path = route.path.replace('{n}', name) + query;
      const res = await call(method, path, { headers: { authorization: `Bearer ${stack.kms.adminToken}`, ...headers }, ...(body !== undefined ? { body } : {}) });
      expectKvAnswer(res, method, `${method} ${path.slice(0, 200)} ${String(body).slice(0, 200)}`);
    }),
    { numRuns: runs(200) },
  );
  // Hostile role additions may add assignments; none of the officer's may have gone.
  expect(await stack.kms.roles.list(officer)).toEqual(expect.arrayContaining(rolesBefore));
  await expectKmsStillServing();
}, 300_000);

test('regression: audit queries with a non-integer or out-of-range limit or since are a 400, not a 500 nor an unbounded answer (found by the property above)', async () => {
  const audit = (query: string) => call('GET', `/admin/audit?${query}`, { headers: { authorization: `Bearer ${stack.kms.adminToken}` } });
  for (const query of ['limit=.2', 'limit=-1', 'limit=0', 'limit=1001', 'limit=abc', 'limit=1e3', 'since=NaN', 'since=1.5', 'since=-1']) {
    const res = await audit(query);
    expect({ query, status: res.status, code: expectKvAnswer(res, 'GET', query) }).toEqual({ query, status: 400, code: 'BadParameter' });
  }
  const one = await audit('limit=1&since=0');
  expect(one.status).toBe(200);
  expect(one.body.value).toHaveLength(1);
});

// ---- key creation and import with near-valid bodies ------------------------------------------

/** Private JWKs of each kind, two of each, whose members a mutation mixes up. */
function privateJwks(): Record<'RSA' | 'EC' | 'oct', Record<string, string>[]> {
  const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const oct = () => ({ kty: 'oct', k: randomBytes(32).toString('base64url') });
  return { RSA: [rsa(), rsa()], EC: [ec(), ec()], oct: [oct(), oct()] };
}

/** A genuine private JWK changed in one member: dropped, taken from the other key of its kind, zero-extended, padded, truncated, or re-typed. */
function mutatedJwk(jwks: ReturnType<typeof privateJwks>): fc.Arbitrary<Record<string, unknown>> {
  return fc.constantFrom('RSA', 'EC', 'oct' as const).chain((kind) => {
    const [mine, other] = jwks[kind] as [Record<string, string>, Record<string, string>];
    const members = Object.keys(mine).filter((m) => m !== 'kty');
    return fc.oneof(
      { weight: 1, arbitrary: fc.constant<Record<string, unknown>>({ ...mine }) },
      {
        weight: 6,
        arbitrary: fc.tuple(fc.constantFrom(...members), fc.constantFrom('drop', 'swap', 'zero-extend', 'pad', 'truncate', 'flip')).map(([m, how]): Record<string, unknown> => {
          const bytes = Buffer.from(mine[m]!, 'base64url');
          const changed: Record<string, unknown> = { ...mine };
          if (how === 'drop') delete changed[m];
          if (how === 'swap') changed[m] = other[m];
          if (how === 'zero-extend') changed[m] = Buffer.concat([Buffer.alloc(1), bytes]).toString('base64url');
          if (how === 'pad') changed[m] = bytes.toString('base64');
          if (how === 'truncate') changed[m] = bytes.subarray(0, bytes.length - 1).toString('base64url');
          if (how === 'flip') changed[m] = Buffer.from(bytes.map((b, i) => (i === bytes.length - 1 ? b ^ 1 : b))).toString('base64url');
          return changed;
        }),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Record<string, unknown>>({ ...mine, kty: `${kind}-HSM` }, { ...mine, key_hsm: 'AAAA' }, { ...mine, kty: kind.toLowerCase() }, { ...mine, key_ops: ['sign'] }),
      },
    );
  });
}

/** Whether a key as the KMS describes it may be used now for `ops` (enabled, inside nbf..exp, ops granted). */
function usableFor(bundle: { key: { key_ops?: string[] }; attributes: { enabled?: boolean; nbf?: number; exp?: number } }, ops: string[]): boolean {
  const now = Math.floor(Date.now() / 1000);
  const a = bundle.attributes;
  return a.enabled !== false && (a.nbf === undefined || a.nbf <= now - 5) && (a.exp === undefined || a.exp > now + 60) && ops.every((op) => bundle.key.key_ops?.includes(op));
}

/** A key the KMS accepted must work: RSA and EC keys sign a digest that then verifies, oct keys wrap a key that then unwraps. */
async function expectKeyWorks(
  name: string,
  bundle: { key: { kty: string; kid: string; key_ops?: string[]; crv?: string }; attributes: { enabled?: boolean; nbf?: number; exp?: number } },
  context: string,
): Promise<void> {
  const version = bundle.key.kid.split('/').pop();
  const at = `/keys/${name}/${version}`;
  const family = bundle.key.kty.replace(/-HSM$/, '');
  if (family === 'oct') {
    if (!usableFor(bundle, ['wrapKey', 'unwrapKey'])) return;
    const key = randomBytes(32).toString('base64url');
    const wrapped = await asOfficer('POST', `${at}/wrapkey?${API}`, JSON.stringify({ alg: 'CKM_AES_KEY_WRAP_PAD', value: key }));
    const unwrapped = await asOfficer('POST', `${at}/unwrapkey?${API}`, JSON.stringify({ alg: 'CKM_AES_KEY_WRAP_PAD', value: wrapped.body?.value }));
    expect({ context, statuses: [wrapped.status, unwrapped.status], same: unwrapped.body?.value === key }).toEqual({ context, statuses: [200, 200], same: true });
    return;
  }
  if (!usableFor(bundle, ['sign', 'verify'])) return;
  const alg = family === 'RSA' ? 'PS256' : (({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', 'P-256K': 'ES256K' } as Record<string, string>)[bundle.key.crv ?? ''] ?? 'ES256');
  const digest = randomBytes(alg.endsWith('384') ? 48 : alg.endsWith('512') ? 64 : 32).toString('base64url');
  const signed = await asOfficer('POST', `${at}/sign?${API}`, JSON.stringify({ alg, value: digest }));
  const verified = await asOfficer('POST', `${at}/verify?${API}`, JSON.stringify({ alg, digest, value: signed.body?.value }));
  expect({ context, statuses: [signed.status, verified.status], verified: verified.body?.value }).toEqual({ context, statuses: [200, 200], verified: true });
}

test('key creation, import, update and rotation policy with near-valid bodies: never a 5xx, and every key accepted works', async () => {
  const jwks = privateJwks();
  const names = ['hk-made-a', 'hk-made-b', 'hk-made-c'];
  /** A valid body, then up to two of its fields (or new ones) replaced by near-valid or hostile values: mostly one thing wrong at a time. */
  const oneThingWrong = (base: fc.Arbitrary<Record<string, unknown>>, fields: string[], own: Record<string, fc.Arbitrary<string>> = {}) =>
    fc
      .tuple(
        base,
        fc.array(
          fc.constantFrom(...fields).chain((f) => fc.tuple(fc.constant(f), fc.oneof({ weight: 3, arbitrary: own[f] ?? PLAUSIBLE[f]! }, { weight: 1, arbitrary: hostileValueText }))),
          { maxLength: 2 },
        ),
      )
      .map(([valid, changes]) => {
        const text: Record<string, string> = Object.fromEntries(Object.entries(valid).map(([k, v]) => [k, JSON.stringify(v)]));
        for (const [field, value] of changes) text[field] = value;
        return `{${Object.entries(text)
          .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
          .join(',')}}`;
      });
  const validCreate = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kty: fc.constantFrom('oct-HSM', 'oct'), key_size: fc.constantFrom(128, 192, 256) }) },
    { weight: 2, arbitrary: fc.record({ kty: fc.constantFrom('EC', 'EC-HSM'), crv: fc.constantFrom('P-256', 'P-384', 'P-521', 'P-256K') }) },
    { weight: 1, arbitrary: fc.record({ kty: fc.constantFrom('RSA', 'RSA-HSM'), key_size: fc.constant(2048) }) },
  );
  const validImport = fc.record({ key: mutatedJwk(jwks) }, { requiredKeys: ['key'] });
  const validUpdate = fc.record({ tags: fc.constant({ purpose: 'hostile-kms' }), attributes: fc.constant({ enabled: true }) }, { requiredKeys: [] });
  const validRotation = fc.constant({ lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P1Y' } });
  const request = fc.oneof(
    fc.record({
      method: fc.constant('POST'),
      suffix: fc.constant('/create'),
      body: oneThingWrong(validCreate, ['kty', 'key_size', 'crv', 'public_exponent', 'key_ops', 'attributes', 'tags', 'release_policy']),
    }),
    fc.record({ method: fc.constant('PUT'), suffix: fc.constant(''), body: oneThingWrong(validImport, ['hsm', 'key_ops', 'attributes', 'tags', 'release_policy']) }),
    fc.record({ method: fc.constant('PATCH'), suffix: fc.constant(''), body: oneThingWrong(validUpdate, ['key_ops', 'attributes', 'tags', 'release_policy']) }),
    fc.record({ method: fc.constant('PUT'), suffix: fc.constant('/rotationpolicy'), body: oneThingWrong(validRotation, ['lifetimeActions', 'attributes']) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...names), request, async (name, { method, suffix, body: text }) => {
      const res = await asOfficer(method, `/keys/${name}${suffix}?${API}`, text);
      const context = `${method} /keys/${name}${suffix} ${text.slice(0, 400)}`;
      expectKvAnswer(res, method, context);
      expectNoKeyMaterial(res, context);
      if (res.status === 200 && suffix !== '/rotationpolicy') await expectKeyWorks(name, res.body, context);
    }),
    { numRuns: runs(200) },
  );
  await expectKmsStillServing();
}, 300_000);

test('regression: an RSA JWK whose e does not belong to its d is refused at import, not stored as a key that cannot verify (found by the property above)', async () => {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<string, string>;
  for (const e of ['AQA', 'Aw', 'AQAD']) {
    const res = await asOfficer('PUT', `/keys/hk-import-e?${API}`, JSON.stringify({ key: { ...jwk, e } }));
    expect({ e, status: res.status, code: expectKvAnswer(res, 'PUT', `import with e=${e}`) }).toEqual({ e, status: 400, code: 'BadParameter' });
  }
  expect((await asOfficer('GET', `/keys/hk-import-e?${API}`)).status).toBe(404);
  // The genuine key imports and works, padded members (Microsoft's sidecar pads) included.
  const padded = Object.fromEntries(Object.entries(jwk).map(([k, v]) => [k, k === 'kty' ? v : v + '='.repeat((4 - (v.length % 4)) % 4)]));
  for (const key of [jwk, padded]) {
    const res = await asOfficer('PUT', `/keys/hk-import-e?${API}`, JSON.stringify({ key }));
    expect(res.status).toBe(200);
    await expectKeyWorks('hk-import-e', res.body, 'genuine import');
  }
});

// ---- crypto operations with well-typed, wrong-sized inputs -----------------------------------

type Op = 'encrypt' | 'decrypt' | 'wrapkey' | 'unwrapkey' | 'sign' | 'verify';
const RSA_BLOCK = [256, 256, 256, 256, 255, 257, 0];
/**
 * Each test key's algorithms for an operation and the value lengths that matter to it: an
 * RSA-2048 block (and one byte off), the largest OAEP / PKCS#1 plaintexts, digest sizes, AES
 * blocks and key sizes. Most requests use these, so they get past the algorithm and size checks
 * into the arithmetic, where an unexpected input would surface as a 5xx.
 */
const FAMILIES: Record<keyof typeof CRYPTO_KEYS, (op: Op) => { algs: string[]; lengths: number[] }> = {
  'hk-crypto-rsa': (op) =>
    op === 'sign' || op === 'verify'
      ? { algs: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], lengths: op === 'sign' ? [32, 48, 64, 31, 0, 256] : RSA_BLOCK }
      : { algs: ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'], lengths: op === 'encrypt' || op === 'wrapkey' ? [0, 1, 32, 190, 214, 215, 245, 246, 256] : RSA_BLOCK },
  'hk-crypto-ec': (op) => ({ algs: ['ES256', 'ES384', 'ES512', 'ES256K'], lengths: op === 'verify' ? [64, 64, 63, 65, 0, 96] : [32, 31, 33, 48, 64, 66, 0] }),
  'hk-crypto-oct': (op) =>
    op === 'wrapkey' || op === 'unwrapkey'
      ? { algs: ['A128KW', 'A256KW', 'CKM_AES_KEY_WRAP', 'CKM_AES_KEY_WRAP_PAD'], lengths: [0, 1, 8, 15, 16, 17, 24, 32, 40, 4096] }
      : { algs: ['A128GCM', 'A256GCM', 'A256CBC', 'A256CBCPAD', 'A128CBC'], lengths: [0, 1, 15, 16, 17, 31, 32, 33, 48, 4096] },
};
const OPS: Op[] = ['encrypt', 'decrypt', 'wrapkey', 'unwrapkey', 'sign', 'verify'];
const ALL_ALGS = [...new Set(Object.values(FAMILIES).flatMap((f) => OPS.flatMap((op) => f(op).algs)))];
const ALL_LENGTHS = [...new Set(Object.values(FAMILIES).flatMap((f) => OPS.flatMap((op) => f(op).lengths)))];
/** Bytes of one of `lengths` (mostly) or any length: random, all zero or all 0xff (for RSA, a block above the modulus). */
const sizedBytes = (lengths: readonly number[]) =>
  fc
    .tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...lengths) }, { weight: 1, arbitrary: fc.constantFrom(...ALL_LENGTHS) }), fc.constantFrom('random', 'zero', 'ff'))
    .chain(([length, fill]) => (fill === 'random' ? fc.uint8Array({ minLength: length, maxLength: length }).map((b) => Buffer.from(b)) : fc.constant(Buffer.alloc(length, fill === 'ff' ? 0xff : 0))));
/** What undoes an operation that succeeded, and how its answer feeds the inverse. */
const INVERSE: Partial<Record<Op, 'decrypt' | 'unwrapkey' | 'verify'>> = { encrypt: 'decrypt', wrapkey: 'unwrapkey', sign: 'verify' };

test('crypto operations on real RSA, EC and oct keys with well-typed but wrong-sized inputs: never a 5xx, and what succeeds round-trips', async () => {
  const request = fc.tuple(fc.constantFrom(...(Object.keys(FAMILIES) as (keyof typeof FAMILIES)[])), fc.constantFrom(...OPS)).chain(([name, op]) => {
    const { algs, lengths } = FAMILIES[name](op);
    return fc.record({
      name: fc.constant(name),
      op: fc.constant(op),
      alg: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...algs) }, { weight: 1, arbitrary: fc.constantFrom(...ALL_ALGS) }),
      value: sizedBytes(lengths),
      extra: fc.record({ iv: sizedBytes([12, 16]), tag: sizedBytes([16]), aad: sizedBytes([0, 16]), digest: sizedBytes(FAMILIES[name]('sign').lengths) }, { requiredKeys: [] }),
    });
  });
  await fc.assert(
    fc.asyncProperty(request, async ({ name, op, alg, value, extra }) => {
      const b64 = (bytes: Buffer) => bytes.toString('base64url');
      const body = { alg, value: b64(value), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, b64(v)])) };
      const res = await asOfficer('POST', `/keys/${name}/${op}?${API}`, JSON.stringify(body));
      const context = `${op} on ${name} with ${alg}, value ${value.length} bytes, ${Object.entries(extra)
        .map(([k, v]) => `${k} ${v.length}`)
        .join(', ')}`;
      expectKvAnswer(res, 'POST', context);
      // Wrapping yields a wrapped key and unwrapping a key: an empty one means no check was made.
      if (res.status === 200 && (op === 'wrapkey' || op === 'unwrapkey')) expect({ context, empty: res.body.value === '' }).toEqual({ context, empty: false });
      const inverse = INVERSE[op];
      if (res.status !== 200 || !inverse) return;
      // A success must be a real one: the inverse operation gives back what went in.
      const out = res.body as { value: string; iv?: string; tag?: string; aad?: string };
      const back =
        inverse === 'verify'
          ? { alg, digest: body.value, value: out.value }
          : { alg, value: out.value, ...(out.iv ? { iv: out.iv } : {}), ...(out.tag ? { tag: out.tag } : {}), ...(out.aad ? { aad: out.aad } : {}) };
      const undo = await asOfficer('POST', `/keys/${name}/${inverse}?${API}`, JSON.stringify(back));
      expect({ context, inverse, status: undo.status }).toEqual({ context, inverse, status: 200 });
      expect({ context, value: undo.body.value }).toEqual({ context, value: inverse === 'verify' ? true : body.value });
    }),
    { numRuns: runs(300) },
  );
  await expectKmsStillServing();
}, 300_000);

test('regression: an RSA1_5 block not below the modulus is a 400, not a 500 (found by the property above)', async () => {
  const block = Buffer.alloc(256, 0xff).toString('base64url');
  for (const op of ['decrypt', 'unwrapkey']) {
    const res = await asOfficer('POST', `/keys/hk-crypto-rsa/${op}?${API}`, JSON.stringify({ alg: 'RSA1_5', value: block }));
    expect({ op, status: res.status, code: expectKvAnswer(res, 'POST', op) }).toEqual({ op, status: 400, code: 'BadParameter' });
  }
  // A genuine RSA1_5 ciphertext still decrypts.
  const plain = Buffer.from('a secret of thirty-two bytes....').toString('base64url');
  const enc = await asOfficer('POST', `/keys/hk-crypto-rsa/encrypt?${API}`, JSON.stringify({ alg: 'RSA1_5', value: plain }));
  const dec = await asOfficer('POST', `/keys/hk-crypto-rsa/decrypt?${API}`, JSON.stringify({ alg: 'RSA1_5', value: enc.body.value }));
  expect([enc.status, dec.status, dec.body.value]).toEqual([200, 200, plain]);
});

test('regression: wrapping or unwrapping an empty value is a 400 — AES key wrap would "unwrap" it to an empty key unchecked (found by the property above)', async () => {
  for (const [name, alg] of [
    ['hk-crypto-oct', 'A256KW'],
    ['hk-crypto-oct', 'CKM_AES_KEY_WRAP_PAD'],
    ['hk-crypto-rsa', 'RSA-OAEP'],
  ]) {
    for (const op of ['wrapkey', 'unwrapkey']) {
      const res = await asOfficer('POST', `/keys/${name}/${op}?${API}`, JSON.stringify({ alg, value: '' }));
      expect({ op, alg, status: res.status, code: expectKvAnswer(res, 'POST', `${op} ${alg}`) }).toEqual({ op, alg, status: 400, code: 'BadParameter' });
    }
  }
  // A real key still wraps and unwraps.
  const key = Buffer.alloc(32, 7).toString('base64url');
  const wrapped = await asOfficer('POST', `/keys/hk-crypto-oct/wrapkey?${API}`, JSON.stringify({ alg: 'CKM_AES_KEY_WRAP_PAD', value: key }));
  const unwrapped = await asOfficer('POST', `/keys/hk-crypto-oct/unwrapkey?${API}`, JSON.stringify({ alg: 'CKM_AES_KEY_WRAP_PAD', value: wrapped.body.value }));
  expect([wrapped.status, unwrapped.status, unwrapped.body.value]).toEqual([200, 200, key]);
});

// ---- forged bearer tokens --------------------------------------------------------------------

/** How the forged token is written into the header: the canonical spelling and the lenient ones a parser might take. */
const SPELLINGS: [string, (token: string) => string][] = [
  ['Bearer', (t) => `Bearer ${t}`],
  ['Bearer and three spaces', (t) => `Bearer   ${t}`],
  ['lower-case bearer', (t) => `bearer ${t}`],
  ['Bearer and a tab', (t) => `Bearer\t${t}`],
];

test('forged bearer tokens on every route (admin included): 401 in the envelope with the challenge, never a 2xx, never a 5xx', async () => {
  const forgeries = forgedBearers(bearer, identityKey, untrusted, attestation);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES, ...ADMIN_ROUTES),
      fc.constantFrom(...forgeries),
      fc.constantFrom(...SPELLINGS),
      fc.constantFrom(API, '', 'api-version=garbage'),
      async (route, forgery, [spelling, write], api) => {
        const path = `${route.path.replace('{n}', 'demo').replace('{v}', demoVersion)}?${api}`;
        // The release body is a genuine one: only the bearer stands between it and a release.
        const body = route.fields.includes('target') ? JSON.stringify({ target: attestation }) : route.fields.length ? '{}' : undefined;
        const res = await call(route.method, path, { headers: { authorization: write(await forgery.make()) }, ...(body !== undefined ? { body } : {}) });
        const context = `${forgery.what} (${spelling}) on ${route.method} ${path}`;
        expect({ context, code: expectKvAnswer(res, route.method, context), status: res.status }).toEqual({ context, code: 'Unauthorized', status: 401 });
        expectNoKeyMaterial(res, context);
        // The keys API answers with Key Vault's challenge, so a client knows where to get a token.
        if (!route.path.startsWith('/admin')) expect(res.headers['www-authenticate']).toMatch(/^Bearer authorization="[^"]+", resource="https:\/\/vault\.azure\.net"$/);
      },
    ),
    { numRuns: runs(300) },
  );
  await expectKmsStillServing();
}, 300_000);

/** The genuine token under a scheme or shape the challenge must not take. */
const WRONG_SCHEMES: [string, (token: string) => string][] = [
  ['no scheme', (t) => t],
  ['Basic', (t) => `Basic ${Buffer.from(`user:${t}`).toString('base64')}`],
  ['PoP', (t) => `PoP ${t}`],
  ['Token', (t) => `Token ${t}`],
  ['Negotiate', (t) => `Negotiate ${t}`],
  ['Bearer without a space', (t) => `Bearer${t}`],
  ['Bearer alone', () => 'Bearer'],
  ['Bearer with a comma', (t) => `Bearer ,${t}`],
  ['Bearer, token and more', (t) => `Bearer ${t} extra`],
  ['two Bearer credentials', (t) => `Bearer ${t}, Bearer ${t}`],
  ['Bearer and the token quoted', (t) => `Bearer "${t}"`],
  ['Bearer and a token with a NUL-looking escape', (t) => `Bearer ${t}%00`],
];

test('the genuine token under other schemes, and huge tokens: 401 (431 past the header limit), in the envelope', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...WRONG_SCHEMES), async (route, [scheme, write]) => {
      const path = `${route.path.replace('{n}', 'demo').replace('{v}', demoVersion)}?${API}`;
      const body = route.fields.includes('target') ? JSON.stringify({ target: attestation }) : undefined;
      const res = await call(route.method, path, { headers: { authorization: write(bearer) }, ...(body !== undefined ? { body } : {}) });
      const context = `${scheme} on ${route.method} ${path}`;
      expect({ context, code: expectKvAnswer(res, route.method, context), status: res.status }).toEqual({ context, code: 'Unauthorized', status: 401 });
    }),
    { numRuns: runs(100) },
  );
  // Under Node's 16 KiB header limit the challenge refuses it; past it the HTTP parser does, in the same envelope.
  for (const [length, status, code] of [
    [12_000, 401, 'Unauthorized'],
    [70_000, 431, 'RequestHeaderFieldsTooLarge'],
  ] as const) {
    const res = await releaseDemoWithBearer(`${bearer.split('.')[0]}.${'A'.repeat(length)}.${bearer.split('.')[2]}`);
    expect({ length, status: res.status, code: expectKvAnswer(res, 'POST', `a ${length}-character token`) }).toEqual({ length, status, code });
  }
  await expectKmsStillServing();
}, 300_000);

test('a genuine token for a principal without roles is refused 403 on every keys-API route, 401 on the admin API', async () => {
  const claims = { ...JSON.parse(Buffer.from(bearer.split('.')[1]!, 'base64url').toString('utf8')), oid: 'hostile-kms-stranger', sub: 'hostile-kms-stranger' };
  const stranger = await signClaims(claims, identityKey.key, { alg: 'RS256', kid: identityKey.kid });
  for (const route of [...ROUTES, ...ADMIN_ROUTES]) {
    const path = `${route.path.replace('{n}', 'demo').replace('{v}', demoVersion)}?${API}`;
    const body = route.fields.includes('target') ? JSON.stringify({ target: attestation }) : route.fields.length ? '{}' : undefined;
    const res = await call(route.method, path, { token: stranger, ...(body !== undefined ? { body } : {}) });
    const expected = route.path.startsWith('/admin') ? { status: 401, code: 'Unauthorized' } : { status: 403, code: 'Forbidden' };
    expect({ route: `${route.method} ${route.path}`, status: res.status, code: expectKvAnswer(res, route.method, path) }).toEqual({ route: `${route.method} ${route.path}`, ...expected });
  }
  await expectKmsStillServing();
});

// ---- release with forged attestation tokens -------------------------------------------------

const VALID_ENC = ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'];

test('release of the demo key with forged, foreign or unsatisfying attestation tokens and hostile enc/nonce: never released, never a 5xx', async () => {
  const targets = forgedTargets(attestation, verifierKey, { untrusted, identity: identityKey, weakJwk });
  /** A body field as JSON text (absent when undefined), tagged with whether the KMS must accept it as it is. */
  type Field = { text: string | undefined; wellFormed: boolean };
  const wellFormed = (texts: (string | undefined)[]) => fc.constantFrom(...texts).map((text): Field => ({ text, wellFormed: true }));
  const malformed = (arb: fc.Arbitrary<string>) => arb.map((text): Field => ({ text, wellFormed: false }));
  /** enc: absent, a supported one, or anything else (which alone makes the request a 400). */
  const enc = fc.oneof(
    { weight: 3, arbitrary: wellFormed([undefined, ...VALID_ENC.map((e) => JSON.stringify(e))]) },
    { weight: 1, arbitrary: malformed(fc.oneof(fc.constantFrom('"RSA-OAEP"', '"RSA1_5"', '"ckm_rsa_aes_key_wrap"', '7', '[]'), hostileValueText)) },
  );
  /** nonce: absent or a string up to 1 KiB, or anything else (a 400 unless it happens to be a short string). */
  const nonce = fc.oneof(
    { weight: 3, arbitrary: wellFormed([undefined, '"n"', JSON.stringify('x'.repeat(1024))]) },
    { weight: 1, arbitrary: malformed(fc.oneof(hostileValueText, fc.constant(JSON.stringify('x'.repeat(1025))))) },
  );
  /** target: one of the forgeries (whose refusal status is known), or any hostile value at all. */
  const target = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...targets).map((t) => ({ what: t.what, status: t.status as number | undefined, jsonText: async () => JSON.stringify(await t.make()) })) },
    { weight: 1, arbitrary: hostileValueText.map((text) => ({ what: 'a hostile value', status: undefined as number | undefined, jsonText: async () => text })) },
  );
  await fc.assert(
    fc.asyncProperty(target, enc, nonce, fc.boolean(), async (forgery, encField, nonceField, versioned) => {
      const fields = [
        `"target":${await forgery.jsonText()}`,
        ...(encField.text !== undefined ? [`"enc":${encField.text}`] : []),
        ...(nonceField.text !== undefined ? [`"nonce":${nonceField.text}`] : []),
      ];
      const path = versioned ? `/keys/demo/${demoVersion}/release?${API}` : `/keys/demo/release?${API}`;
      const res = await asOfficer('POST', path, `{${fields.join(',')}}`);
      const context = `${forgery.what} enc=${String(encField.text).slice(0, 80)} nonce=${String(nonceField.text).slice(0, 80)} on ${path}`;
      expectNotReleased(res, context);
      // The forgery's own refusal shows when enc and nonce are well-formed; otherwise it is a 400 or a 403, whichever check comes first.
      const expected = forgery.status !== undefined && encField.wellFormed && nonceField.wellFormed ? [forgery.status] : [400, 403];
      if (!expected.includes(res.status)) throw new Error(`${res.status} (expected ${expected.join(' or ')}): ${context} → ${JSON.stringify(res.body).slice(0, 300)}`);
    }),
    { numRuns: runs(300) },
  );
  await expectKmsStillServing();
}, 300_000);
