import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { encodeAttestRequest } from '../../src/maa/request';
import type { RunningVerifier } from '../../src/maa/service/server';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { splitPem } from '../../src/snp/x509/vek';
import { startTestVerifier } from '../maa/verifier-harness';
import { chainPem, virtualGuest } from '../maa/virtual-evidence';
import { badBase64, badHex, hostileBodyText, hostileHeaders, hostileString, hostileValueText, objectText, RUNS } from './arbitraries';
import { expectAlive, expectRefusal, postJson, send } from './harness';

/**
 * Every verifier endpoint under hostile input: never a 5xx, never a crash, every refusal in MAA's
 * envelope with a stable code, and never a token for evidence that is not exactly what the
 * device produced.
 */
const ATTEST = '/attest/SevSnpVm?api-version=2022-08-01';

let guest: VirtualDevice;
let verifier: RunningVerifier;
/** One genuine exchange, the baseline every mutation departs from. */
let genuine: { report: Buffer; chain: string; runtime: Buffer };

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

beforeAll(async () => {
  guest = await virtualGuest();
  verifier = await startTestVerifier({ trustedRoots: [guest.pki.root] });
  const runtime = Buffer.from(JSON.stringify({ keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'k' }] }));
  const { report } = await guest.getReport({ reportData: Buffer.concat([sha256(runtime), Buffer.alloc(32)]) });
  genuine = { report, chain: chainPem(guest), runtime };
});
afterAll(() => verifier.close());

function attestText(parts: { report: Buffer; chain: string; runtime: Buffer; dataType?: string }): string {
  return JSON.stringify(encodeAttestRequest({ report: parts.report, vcekCertChain: parts.chain, runtimeData: { data: parts.runtime, dataType: 'JSON' } }));
}

/** Must be refused, and carry no token. */
async function expectNoToken(body: string, context: string): Promise<string | undefined> {
  const res = await send(verifier.url, { path: ATTEST, body });
  const code = expectRefusal(res, 'verifier', context);
  if (res.status === 200 || /"token"/.test(res.text)) throw new Error(`a token for ${context}`);
  return code;
}

test("the genuine evidence gets a token (so every refusal below is the mutation's doing)", async () => {
  const res = await send(verifier.url, { path: ATTEST, body: attestText(genuine) });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text).token).toMatch(/^ey/);
});

describe('mutated genuine evidence never gets a token', () => {
  test('any byte of the report flipped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: genuine.report.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const report = Buffer.from(genuine.report);
        report[at]! ^= xor;
        await expectNoToken(attestText({ ...genuine, report }), `report[0x${at.toString(16)}] ^= ${xor}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('the report truncated or extended', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: genuine.report.length - 1 }).map((n) => genuine.report.subarray(0, n)),
          fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((extra) => Buffer.concat([genuine.report, extra])),
          fc.integer({ min: 1, max: 100_000 }).map((n) => Buffer.alloc(n, 0xff)),
        ),
        async (report) => {
          expect(await expectNoToken(attestText({ ...genuine, report }), `report of ${report.length} bytes`)).toBeDefined();
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('the runtime data changed (the report no longer binds it)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 2 }), async (text) => {
        fc.pre(text !== genuine.runtime.toString());
        await expectNoToken(attestText({ ...genuine, runtime: Buffer.from(text) }), `runtime ${text}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('the VEK in the chain mutated: a DER byte flipped, reordered, cut, or its PEM text damaged', async () => {
    const ders = [guest.pki.vcek.pem, guest.pki.ask.pem, guest.pki.ark.pem].map((pem) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const toPem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    const chainArb = fc.oneof(
      fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
        const vek = Buffer.from(ders[0]!);
        const offset = at % vek.length;
        vek[offset]! ^= xor;
        return { label: `VEK DER[${offset}] ^= ${xor}`, chain: [vek, ders[1]!, ders[2]!].map(toPem).join('') };
      }),
      fc.constantFrom([1, 0, 2], [2, 1, 0], [0, 2], [1, 2], [0], []).map((order) => ({ label: `order ${order}`, chain: order.map((i) => toPem(ders[i]!)).join('') })),
      fc.record({ at: fc.nat(), text: fc.string({ maxLength: 5 }) }).map(({ at, text }) => {
        const cut = at % genuine.chain.length;
        return { label: `PEM[${cut}] = ${JSON.stringify(text)}`, chain: genuine.chain.slice(0, cut) + text + genuine.chain.slice(cut + 1) };
      }),
    );
    await fc.assert(
      fc.asyncProperty(chainArb, async ({ label, chain }) => {
        // Only the VEK is taken from the evidence as it is: the ASK and ARK must match pinned or
        // configured roots, so damage there (or PEM damage the decoder does not see, such as a
        // dropped '=') leaves evidence that is still genuine.
        fc.pre(!splitPem(chain)[0]?.equals(ders[0]!));
        await expectNoToken(attestText({ ...genuine, chain }), `mutated chain: ${label}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('a report from another virtual machine (its ARK not trusted) is refused', async () => {
    const other = await virtualGuest();
    const { report } = await other.getReport({ reportData: Buffer.concat([sha256(genuine.runtime), Buffer.alloc(32)]) });
    expect(await expectNoToken(attestText({ report, chain: chainPem(other), runtime: genuine.runtime }), 'foreign')).toBe('ark_not_trusted');
    // Its report with our chain: another chip, and a signature our VCEK did not make.
    expect(await expectNoToken(attestText({ ...genuine, report }), 'foreign report')).toMatch(/^(vek_chip_mismatch|report_signature_invalid)$/);
  });
});

describe('hostile request bodies', () => {
  const inner = objectText({
    SnpReport: fc.oneof(
      badBase64.map((s) => JSON.stringify(s)),
      fc.uint8Array({ maxLength: 2000 }).map((b) => JSON.stringify(b64(b))),
      hostileValueText,
    ),
    VcekCertChain: fc.oneof(
      fc.constant(JSON.stringify(b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'))),
      badBase64.map((s) => JSON.stringify(s)),
      hostileValueText,
    ),
    Endorsements: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(b64(JSON.stringify({ Uvm: v })))),
      fc.array(fc.string(), { maxLength: 40 }).map((uvm) => JSON.stringify(b64(JSON.stringify({ Uvm: uvm })))),
      hostileValueText,
    ),
  });
  const typed = objectText({
    data: fc.oneof(
      badBase64.map((s) => JSON.stringify(s)),
      fc.json().map((t) => JSON.stringify(b64(t))),
      hostileValueText,
    ),
    dataType: fc.oneof(fc.constantFrom('"JSON"', '"Binary"', '""', '"json"'), hostileValueText),
  });
  const body = fc.oneof(
    {
      weight: 3,
      arbitrary: objectText({
        report: fc.oneof(
          inner.map((t) => JSON.stringify(b64(t))),
          badBase64.map((s) => JSON.stringify(s)),
          hostileValueText,
        ),
        runtimeData: fc.oneof(typed, hostileValueText),
        initTimeData: fc.oneof(typed, hostileValueText),
        nonce: fc.oneof(hostileValueText, fc.constant(JSON.stringify('n'.repeat(300)))),
      }),
    },
    { weight: 1, arbitrary: hostileBodyText },
  );
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constant(ATTEST) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/attest/SevSnpVm',
        '/attest/sevsnpvm?api-version=2020-10-01',
        '/attest/SgxEnclave?api-version=2022-08-01',
        '/attest/SevSnpVm?api-version=2022-08-01&api-version=2020-10-01',
        '/attest/SevSnpVm?api-version[]=2022-08-01',
        '/attest/%E0%A4%A?api-version=2022-08-01',
        '/attest/..%2F..%2Fadmin?api-version=2022-08-01',
      ),
    },
  );

  test('POST /attest/*: never a 5xx, never a token', async () => {
    await fc.assert(
      fc.asyncProperty(path, body, hostileHeaders, async (p, b, headers) => {
        const res = await send(verifier.url, { path: p, body: b, headers });
        expectRefusal(res, 'verifier', `${p} ${JSON.stringify(headers)} ${b.slice(0, 200)}`);
        expect(res.status).not.toBe(200);
      }),
      { numRuns: RUNS },
    );
    await expectAlive(verifier.url, '/certs');
  });

  test('/challenge, /certs and discovery: any method, query and body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/challenge', '/certs', '/.well-known/openid-configuration', '/.well-known/%', '/certs?kid[]=x', '/challenge?%zz'),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
        fc.option(hostileBodyText, { nil: undefined }),
        hostileHeaders,
        async (p, method, b, headers) => {
          const res = await send(verifier.url, { method, path: p, body: b, headers });
          if (res.status >= 400) expectRefusal(res, 'verifier', `${method} ${p} ${JSON.stringify(headers)} ${(b ?? '').slice(0, 100)}`);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('/admin/refs', () => {
  const refsBody = fc.oneof(
    objectText({
      kind: fc.oneof(fc.constantFrom('"measurement"', '"host-data"', '"__proto__"', '"hasOwnProperty"'), hostileValueText),
      value: fc.oneof(fc.constant(JSON.stringify('ab'.repeat(48))), fc.constant(JSON.stringify('ab'.repeat(32))), hostileValueText),
      note: hostileValueText,
    }),
    hostileBodyText,
  );
  const refsPath = fc.oneof(
    fc.constant('/admin/refs'),
    fc.tuple(fc.oneof(fc.constantFrom('measurement', 'host-data', '%E0%A4%A', '..', '%2F'), hostileString), fc.oneof(badHex, hostileString)).map(
      ([kind, value]) =>
        `/admin/refs/${encodeURIComponent(kind).slice(0, 500)}/${
          value.length % 3 === 0
            ? value
                .replace(/[^\x21-\x7e]/g, '%')
                .replace(/[?#/]/g, '%')
                .slice(0, 500)
            : encodeURIComponent(value).slice(0, 500)
        }`,
    ),
    fc.constantFrom('/admin/refs/measurement/%', '/admin/refs/%E0%A4%A/00', '/admin/signing-keys/rotate', '/ADMIN/REFS'),
  );

  test('without the admin token, or with a forged one: 401 (or 400/413 for a body the parser refuses first) and nothing changes', async () => {
    const real = `Bearer ${verifier.adminToken}`;
    const forged = fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc.string({ maxLength: 100 }),
      fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_'), minLength: verifier.adminToken.length, maxLength: verifier.adminToken.length }).map((t) => `Bearer ${t}`),
      fc.nat({ max: real.length - 1 }).map((i) => real.slice(0, i) + (real[i] === 'A' ? 'B' : 'A') + real.slice(i + 1)),
      fc.constantFrom(real.toLowerCase(), real.toUpperCase(), verifier.adminToken, `Basic ${verifier.adminToken}`, `Bearer  ${verifier.adminToken}`, real.slice(0, -1)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE'), refsPath, fc.option(refsBody, { nil: undefined }), forged, async (method, p, b, authorization) => {
        // HTTP drops a header value's surrounding whitespace, so a padded real token is the real token.
        fc.pre(authorization?.trim() !== real);
        const headers: Record<string, string> = authorization === undefined ? {} : { authorization: authorization.replace(/[^\t\x20-\x7e]/g, '') };
        const res = await send(verifier.url, { method, path: p, body: b, headers });
        const code = expectRefusal(res, 'verifier', `${method} ${p}`);
        if (res.status === 404) return;
        // The JSON parser runs for the whole app, before the admin check.
        expect([...(code === 'unauthorized' ? [401] : []), ...(code === 'invalid_request' ? [400] : []), ...(code === 'body_too_large' ? [413] : [])]).toContain(res.status);
      }),
      { numRuns: RUNS },
    );
    const list = await send(verifier.url, { path: '/admin/refs', headers: { authorization: real } });
    expect(JSON.parse(list.text)).toEqual({ references: [] });
    // Nor was the signing key rotated.
    expect(JSON.parse((await send(verifier.url, { path: '/certs' })).text).keys).toHaveLength(1);
  });

  test('with the admin token: hostile bodies and paths are refused with a code, never a 5xx', async () => {
    const headers = { authorization: `Bearer ${verifier.adminToken}` };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE'), refsPath, fc.option(refsBody, { nil: undefined }), async (method, p, b) => {
        fc.pre(!p.includes('rotate'));
        const res = await send(verifier.url, { method, path: p, body: b, headers });
        if (res.status >= 400) expectRefusal(res, 'verifier', `${method} ${p} ${(b ?? '').slice(0, 100)}`);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
    await expectAlive(verifier.url, '/certs');
  });

  test('DELETE with a malformed percent-encoding in the path: 400, not a 500', async () => {
    const res = await send(verifier.url, { method: 'DELETE', path: '/admin/refs/measurement/%E0%A4%A', headers: { authorization: `Bearer ${verifier.adminToken}` } });
    expectRefusal(res, 'verifier');
    expect(res.status).toBe(400);
  });
});

test.each([5_000, 10_000])('genuine evidence whose JSON runtime data nests %i levels: a 4xx, not a 500', async (depth) => {
  const runtime = Buffer.from(`{"k":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  const { report } = await guest.getReport({ reportData: Buffer.concat([sha256(runtime), Buffer.alloc(32)]) });
  const res = await postJson(verifier.url, ATTEST, encodeAttestRequest({ report, vcekCertChain: genuine.chain, runtimeData: { data: runtime, dataType: 'JSON' } }));
  expectRefusal(res, 'verifier', `runtime depth ${depth}`);
  expect(res.status).toBe(400);
});

test.each<[string, Record<string, string>]>([
  ['Content-Encoding gzip on a body that is not compressed', { 'content-encoding': 'gzip' }],
  ['Content-Encoding br on a body that is not compressed', { 'content-encoding': 'br' }],
  ['an unknown Content-Encoding', { 'content-encoding': 'x-unknown' }],
  ['an unknown charset', { 'content-type': 'application/json; charset=bogus' }],
])("%s: a 4xx in MAA's envelope, not a 500", async (_name, headers) => {
  const res = await send(verifier.url, { path: ATTEST, body: '{}', headers });
  expectRefusal(res, 'verifier', JSON.stringify(headers));
  expect(res.status).toBeGreaterThanOrEqual(400);
});
