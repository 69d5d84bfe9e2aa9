import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createTlsMaterial } from '../../src/tls/certificates';
import { deepJsonText, hostileBodyText, hostileHeaders, hostileString, hostileValueText, objectText, RUNS, runtimeDataText } from './arbitraries';
import { closedPort, expectAlive, expectDocumented, expectRefusal, send, startAttestStack, startStub, type AttestStack } from './harness';

/**
 * Every sidecar endpoint under hostile input: never a 5xx, never a crash, every refusal JSON
 * with a stable code, nothing released, and no request ever sent to an origin off the allow-list.
 * The key service here is a stub that denies everything: input validation and the allow-list
 * need no real KMS, and a stub cannot release by mistake.
 */
let stack: AttestStack;
let kms: Awaited<ReturnType<typeof startStub>>;
let decoy: Awaited<ReturnType<typeof startStub>>;

beforeAll(async () => {
  const tls = await createTlsMaterial();
  kms = await startStub((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'Forbidden', message: 'the stub key service releases nothing' } }));
  }, tls);
  decoy = await startStub((_req, res) => res.end('{}'));
  stack = await startAttestStack({ 'akv-endpoint': kms.url }, [tls.caPem]);
});
afterAll(async () => {
  await stack.close();
  await kms.close();
  await decoy.close();
});

/** Endpoint values: the allowed ones disguised, hosts a sibling might try, the decoy, nonsense. */
function endpointText(): fc.Arbitrary<string> {
  const verifier = stack.verifier.url;
  return fc
    .oneof(
      fc.constantFrom(
        verifier,
        `${verifier}/`,
        verifier.toUpperCase(),
        `${verifier}/attest`,
        `${verifier}?x=1`,
        verifier.replace('http://', 'http://user:pw@'),
        verifier.replace('http://', ''),
        kms.url,
        decoy.url,
        decoy.url.replace('http://', ''),
        decoy.url.replace('127.0.0.1', 'localhost'),
        decoy.url.replace('127.0.0.1', '[::1]'),
        'evil.example.com',
        'https://evil.example.com:443',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'http://169.254.169.254',
      ),
      fc.webUrl(),
      hostileString,
    )
    .map((s) => JSON.stringify(s));
}

const releaseField = () => ({
  kid: fc.oneof(fc.constantFrom('demo', 'k', 'a'.repeat(128), 'k/0123456789abcdef0123456789abcdef', 'k/xyz'), hostileString).map((s) => JSON.stringify(s)),
  maa_endpoint: endpointText(),
  akv_endpoint: endpointText(),
  access_token: fc.oneof(fc.constantFrom('eyJhbGciOiJub25lIn0.e30.', 'forged.token.here'), hostileString).map((s) => JSON.stringify(s)),
  enc: fc.constantFrom('"CKM_RSA_AES_KEY_WRAP"', '"RSA_AES_KEY_WRAP_256"', '"RSA1_5"', '"none"', '7', 'null'),
});

/** Bodies for each route: the route's own fields with hostile values, or anything at all. */
function bodyFor(path: string): fc.Arbitrary<string> {
  const fields: Record<string, Record<string, fc.Arbitrary<string>>> = {
    '/attest/raw': { runtime_data: fc.oneof(runtimeDataText, hostileValueText) },
    '/attest/combined': { runtime_data: fc.oneof(runtimeDataText, hostileValueText) },
    '/attest/maa': { runtime_data: fc.oneof(runtimeDataText, hostileValueText), maa_endpoint: endpointText() },
    '/key/release': releaseField(),
  };
  const own = fields[path]!;
  const withHostile = Object.fromEntries(Object.entries(own).map(([k, v]) => [k, fc.oneof(v, hostileValueText)]));
  return fc.oneof({ weight: 3, arbitrary: objectText(withHostile) }, { weight: 1, arbitrary: hostileBodyText });
}

describe.each(['/attest/raw', '/attest/combined', '/attest/maa', '/key/release'])('POST %s under hostile input', (path) => {
  test('never a 5xx, errors are JSON with a stable code, nothing is released, nothing reaches the decoy', async () => {
    const before = decoy.hits();
    await fc.assert(
      fc.asyncProperty(bodyFor(path), hostileHeaders, fc.constantFrom('', '?format=object', '?format[]=x'), async (body, headers, query) => {
        const res = await send(stack.sidecar.url, { path: path + query, body, headers });
        const code = expectRefusal(res, 'sidecar', `${path}${query} ${JSON.stringify(headers)} ${body.slice(0, 200)}`);
        expectDocumented(path, res);
        if (path === '/key/release') {
          expect(res.status).not.toBe(200);
          expect(res.text).not.toMatch(/"key"/);
        }
        if (code === undefined) expect(res.status).toBe(200);
      }),
      { numRuns: RUNS },
    );
    expect(decoy.hits()).toBe(before);
    await expectAlive(stack.sidecar.url, '/status');
  });
});

test('GET /status, /metrics and /openapi.json ignore hostile queries, headers and bodies', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/status', '/metrics', '/openapi.json', '/status/', '/STATUS', '/%', '/%E0%A4%A', '/status?%', '/status?a[b][c][d]=1'),
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
      fc.option(hostileBodyText, { nil: undefined }),
      async (path, method, body) => {
        const res = await send(stack.sidecar.url, { method, path, body });
        if (res.status >= 400) expectRefusal(res, 'sidecar', `${method} ${path}`);
        expect(res.status).toBeLessThan(500);
      },
    ),
    { numRuns: RUNS },
  );
});

describe('specific shapes', () => {
  test.each([
    ['10 000 levels of arrays', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['10 000 levels of objects', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
    ['10 000 levels, unterminated', '['.repeat(10_000)],
    ['runtime_data nested 10 000 levels', JSON.stringify({ runtime_data: `${'['.repeat(10_000)}${']'.repeat(10_000)}` })],
  ])('%s: a 4xx on every route', async (_name, body) => {
    for (const path of ['/attest/raw', '/attest/combined', '/attest/maa', '/key/release']) {
      const res = await send(stack.sidecar.url, { path, body });
      expectRefusal(res, 'sidecar', path);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });

  test.each([5_000, 10_000])('/attest/maa with runtime_data that decodes to JSON nested %i levels: a 4xx, not a 500', async (depth) => {
    const runtime = Buffer.from(`{"k":${'['.repeat(depth)}${']'.repeat(depth)}}`).toString('base64');
    const res = await send(stack.sidecar.url, { path: '/attest/maa', body: JSON.stringify({ runtime_data: runtime }) });
    expectRefusal(res, 'sidecar', `/attest/maa depth ${depth}`);
  });

  test('a body over 64 KiB is 413 body_too_large on every route, however it is encoded', async () => {
    const big = JSON.stringify({ runtime_data: 'A'.repeat(65 * 1024) });
    for (const path of ['/attest/raw', '/attest/combined', '/attest/maa', '/key/release']) {
      for (const headers of [{}, { 'content-type': 'text/plain' }] as Record<string, string>[]) {
        const res = await send(stack.sidecar.url, { path, body: big, headers });
        expect(res.status).toBe(413);
        expect(expectRefusal(res, 'sidecar')).toBe('body_too_large');
      }
    }
  });

  test('an endpoint off the allow-list is refused before anything is sent to it', async () => {
    const port = await closedPort();
    for (const body of [
      { kid: 'demo', akv_endpoint: decoy.url },
      { kid: 'demo', maa_endpoint: decoy.url },
      { kid: 'demo', akv_endpoint: `http://127.0.0.1:${port}` },
      { runtime_data: Buffer.from('{}').toString('base64'), maa_endpoint: decoy.url },
    ]) {
      const path = 'kid' in body ? '/key/release' : '/attest/maa';
      const res = await send(stack.sidecar.url, { path, body: JSON.stringify(body) });
      expect(res.status).toBe(403);
      expect(expectRefusal(res, 'sidecar')).toBe('endpoint_not_allowed');
    }
    expect(decoy.hits()).toBe(0);
  });

  test('a well-formed release the key service denies is 403 and carries no key', async () => {
    const res = await send(stack.sidecar.url, { path: '/key/release', body: JSON.stringify({ kid: 'demo' }) });
    expect(res.status).toBe(403);
    expect(expectRefusal(res, 'sidecar')).toBe('release_denied');
    expect(res.text).not.toMatch(/"key"/);
    expect(kms.hits()).toBeGreaterThan(0);
  });

  test('deep nesting is generated as asked (the arbitrary is not vacuous)', () => {
    const sample = fc.sample(deepJsonText, { numRuns: 50, seed: 1 });
    expect(Math.max(...sample.map((t) => t.length))).toBeGreaterThan(20_000);
  });
});

describe('compressed bodies', () => {
  test.each(['gzip', 'deflate', 'br'])('a body that claims Content-Encoding %s but is not compressed: 400, not a 500', async (encoding) => {
    const res = await send(stack.sidecar.url, { path: '/attest/raw', body: '{}', headers: { 'content-encoding': encoding } });
    expectRefusal(res, 'sidecar', encoding);
    expect(res.status).toBe(400);
  });

  test('a gzip bomb (10 MiB of zeros in a few KiB) is 413: the limit applies to the inflated body', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"runtime_data":"'), Buffer.alloc(10 * 1024 * 1024, 0x41), Buffer.from('"}')]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await send(stack.sidecar.url, { path: '/attest/raw', body: bomb, headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(413);
    expect(expectRefusal(res, 'sidecar')).toBe('body_too_large');
  });
});
