import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import type { RunningStack } from '../../src/dev/stack';
import { demoPolicy } from '../../src/dev/demo-keys';
import { decodeKeyHsm, unwrapKeyMaterial } from '../../src/keywrap';
import { raw, type RawResponse } from '../kms/raw';
import { badBase64, badHex, deepJsonText } from './arbitraries';

/**
 * Plumbing of the hostile-KMS properties: one HTTPS request with a deadline, the checks every
 * answer of the Key Vault surface must pass, genuine tokens fetched the way a client gets them,
 * and the forgeries (bearer and attestation) that must never pass.
 */
export type { RawResponse };

const REQUEST_DEADLINE_MS = 20_000;

/** One raw request to the KMS; a request the KMS never answers fails with its description instead of hanging the test. */
export async function kmsCall(stack: RunningStack, method: string, path: string, options: Parameters<typeof raw>[4] = {}): Promise<RawResponse> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to ${method} ${path.slice(0, 200)} within ${REQUEST_DEADLINE_MS} ms`)), REQUEST_DEADLINE_MS);
  });
  try {
    return await Promise.race([raw(stack.kms.url, stack.kms.caPem, method, path, options), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const KV_CODE = /^[A-Z][A-Za-z0-9]*$/;

/**
 * Whatever was sent, the answer is honest: never a 5xx (nor a dropped connection), and every
 * refusal is JSON in Key Vault's envelope `{"error":{"code","message"}}` with a PascalCase code.
 * Returns the code of a refusal, undefined otherwise.
 */
export function expectKvAnswer(res: RawResponse, method: string, context: string): string | undefined {
  const where = () => `${context} → ${res.status} ${String(typeof res.body === 'string' ? res.body : JSON.stringify(res.body)).slice(0, 300)}`;
  if (res.status >= 500 || res.status < 100) throw new Error(`${res.status} for hostile input: ${where()}`);
  if (res.status < 400) return undefined;
  // A HEAD answer has no body to hold the envelope; its status is all there is to check.
  if (method === 'HEAD') return undefined;
  const error = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!String(res.headers['content-type']).startsWith('application/json') || typeof error?.code !== 'string' || !KV_CODE.test(error.code) || typeof error.message !== 'string') {
    throw new Error(`refusal outside Key Vault's error envelope: ${where()}`);
  }
  return error.code;
}

const PRIVATE_JWK_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** No answer but a release may carry key material: no private JWK member, no key_hsm, no release JWS. */
export function expectNoKeyMaterial(res: RawResponse, context: string): void {
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? null);
  if (/"key_hsm"/.test(text)) throw new Error(`key_hsm in an answer: ${context}`);
  const key = (res.body as { key?: Record<string, unknown> } | undefined)?.key;
  const leaked = key && typeof key === 'object' ? PRIVATE_JWK_FIELDS.filter((f) => f in key) : [];
  if (leaked.length) throw new Error(`private key members ${leaked.join(', ')} in an answer: ${context}`);
}

/** A Key Vault access token for the officer principal (Crypto Officer), as the App Service route hands it out to the header file's reader. */
export async function fetchOfficerToken(officer: { endpoint: string; headerFile: string }): Promise<string> {
  const header = await readFile(officer.headerFile, 'utf8');
  const res = await fetch(`${officer.endpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': header } });
  if (!res.ok) throw new Error(`identity endpoint: ${res.status} ${await res.text()}`);
  return String(((await res.json()) as { access_token: unknown }).access_token);
}

/** A TEE's RSA key pair and the public JWK it puts in its runtime data. */
export function teeKeyPair(): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid: 'hostile-kms-tee', key_ops: ['encrypt'] } };
}

/** A genuine attestation token from the sidecar's virtual device, carrying `jwk` in x-ms-runtime. */
export async function fetchAttestationToken(sidecarUrl: string, jwk: Record<string, unknown>): Promise<string> {
  const runtime = Buffer.from(JSON.stringify({ keys: [jwk] })).toString('base64');
  const res = await fetch(`${sidecarUrl}/attest/maa`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime_data: runtime }) });
  if (!res.ok) throw new Error(`sidecar /attest/maa: ${res.status} ${await res.text()}`);
  return String(((await res.json()) as { token: unknown }).token);
}

/** The key material inside a release answer, unwrapped with the TEE's private key. */
export async function releasedMaterial(res: RawResponse, teePrivateKey: KeyObject): Promise<Buffer> {
  const jws = String((res.body as { value?: unknown } | undefined)?.value);
  const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { request: { enc: string }; response: { key: { key: { key_hsm: string } } } };
  const { ciphertext } = decodeKeyHsm(payload.response.key.key.key_hsm);
  return unwrapKeyMaterial({ privateKey: teePrivateKey, ciphertext, enc: payload.request.enc as Parameters<typeof unwrapKeyMaterial>[0]['enc'] });
}

/** Key Vault's create body for an oct-HSM 256 key bound to the stack's virtual TEE, or to `hostData`. */
export function releasableKeyBody(stack: RunningStack, options: { exportable: boolean; enabled?: boolean; hostData?: string }): string {
  const policy = Buffer.from(JSON.stringify(demoPolicy(stack.verifier.issuer, options.hostData ?? stack.hostData, stack.arkSha256))).toString('base64url');
  return JSON.stringify({ kty: 'oct-HSM', key_size: 256, attributes: { exportable: options.exportable, enabled: options.enabled ?? true }, release_policy: { data: policy } });
}

// ---- forgeries ------------------------------------------------------------------------------

const seconds = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** `claims` signed as a JWS with `alg` and `kid`; the claims are taken as they are (no defaults added). */
export function signClaims(claims: JWTPayload, key: KeyObject | Uint8Array, header: { alg: string; kid?: string }): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', ...header }).sign(key);
}

/** The same token with an unsigned (`alg: none`) header and an empty signature. */
export function algNone(token: string): string {
  return `${b64url({ ...decodeProtectedHeader(token), alg: 'none' })}.${token.split('.')[1]}.`;
}

/** The genuine header and signature around a different payload. */
export function withTamperedPayload(token: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64url(change(decodeJwt(token)))}.${signature}`;
}

/** The public key as PEM: the secret of the HS256 key-confusion forgery. */
export const publicPem = (key: KeyObject) => Buffer.from(key.export({ type: 'spki', format: 'pem' }) as string);

export interface SigningIdentity {
  /** The `iss` its genuine tokens carry. */
  issuer: string;
  /** The issuer's real signing key: forgeries with it isolate the one claim that is wrong. */
  key: KeyObject;
  kid: string;
  publicKey: KeyObject;
}

export interface Forgery {
  what: string;
  make(): Promise<string>;
}

/**
 * Bearer tokens that must never authenticate. Each is made afresh per use so the expiry-based
 * ones stay as meant; `untrusted` is a key pair made once (RSA generation is slow).
 */
export function forgedBearers(genuine: string, issuer: SigningIdentity, untrusted: KeyObject, attestation: string): Forgery[] {
  const claims = decodeJwt(genuine);
  const real = (change: Record<string, unknown>, drop: string[] = []) => {
    const next: Record<string, unknown> = { ...claims, iat: seconds(), nbf: seconds(), exp: seconds() + 600, ...change };
    for (const field of drop) delete next[field];
    return signClaims(next, issuer.key, { alg: 'RS256', kid: issuer.kid });
  };
  return [
    { what: 'alg none', make: async () => algNone(genuine) },
    { what: "HS256 keyed with the issuer's public key", make: () => signClaims(claims, publicPem(issuer.publicKey), { alg: 'HS256', kid: issuer.kid }) },
    { what: 'RS256 by an untrusted key under the trusted kid', make: () => signClaims(claims, untrusted, { alg: 'RS256', kid: issuer.kid }) },
    { what: 'PS256 by an untrusted key under the trusted kid', make: () => signClaims(claims, untrusted, { alg: 'PS256', kid: issuer.kid }) },
    { what: 'the right key, a foreign issuer', make: () => real({ iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/' }) },
    { what: 'the right key, a wrong audience', make: () => real({ aud: 'https://storage.azure.com' }) },
    { what: 'the right key, no audience', make: () => real({}, ['aud']) },
    { what: 'the right key, expired', make: () => real({ iat: seconds() - 7200, nbf: seconds() - 7200, exp: seconds() - 3600 }) },
    { what: 'the right key, nbf in the future', make: () => real({ nbf: seconds() + 3600, exp: seconds() + 7200 }) },
    { what: 'the right key, no exp', make: () => real({}, ['exp']) },
    { what: 'the right key, no oid nor sub', make: () => real({}, ['oid', 'sub']) },
    { what: 'the right key, oid and sub of the wrong type', make: () => real({ oid: 7, sub: ['x'] }) },
    { what: 'a tampered payload', make: async () => withTamperedPayload(genuine, (c) => ({ ...c, oid: 'someone-else', exp: seconds() + 86_400 })) },
    { what: 'an unknown kid', make: () => signClaims(claims, issuer.key, { alg: 'RS256', kid: 'no-such-kid' }) },
    { what: 'an attestation token used as a bearer', make: async () => attestation },
    { what: 'two dots', make: async () => '..' },
    { what: 'garbage', make: async () => 'not.a.token' },
    { what: 'a header of 8 kB of nothing', make: async () => `${'A'.repeat(8_000)}.${'B'.repeat(100)}.C` },
  ];
}

/** The claims of a genuine attestation token, changed; signed by the verifier's real key unless `key` says otherwise. */
export function forgedTargets(
  genuine: string,
  verifier: SigningIdentity,
  other: { untrusted: KeyObject; identity: SigningIdentity; weakJwk: Record<string, unknown> },
): (Forgery & { status: 400 | 403 })[] {
  const claims = decodeJwt(genuine);
  const resign = (change: Record<string, unknown>, signer: SigningIdentity = verifier) =>
    signClaims({ ...claims, iat: seconds(), nbf: seconds(), exp: seconds() + 600, ...change }, signer.key, { alg: 'RS256', kid: signer.kid });
  const runtime = claims['x-ms-runtime'] as Record<string, unknown>;
  return [
    { what: 'alg none', status: 403, make: async () => algNone(genuine) },
    { what: "HS256 keyed with the verifier's public key", status: 403, make: () => signClaims(claims, publicPem(verifier.publicKey), { alg: 'HS256', kid: verifier.kid }) },
    { what: 'RS256 by an untrusted key under the verifier kid', status: 403, make: () => signClaims(claims, other.untrusted, { alg: 'RS256', kid: verifier.kid }) },
    { what: 'a tampered payload (debuggable)', status: 403, make: async () => withTamperedPayload(genuine, (c) => ({ ...c, 'x-ms-sevsnpvm-is-debuggable': true })) },
    { what: 'a tampered payload (another TEE key)', status: 403, make: async () => withTamperedPayload(genuine, (c) => ({ ...c, 'x-ms-runtime': { keys: [other.weakJwk] } })) },
    { what: 'expired', status: 403, make: () => resign({ iat: seconds() - 7200, nbf: seconds() - 7200, exp: seconds() - 3600 }) },
    { what: 'nbf in the future', status: 403, make: () => resign({ nbf: seconds() + 3600, exp: seconds() + 7200 }) },
    { what: 'another host_data', status: 403, make: () => resign({ 'x-ms-sevsnpvm-hostdata': 'ee'.repeat(32) }) },
    { what: 'host_data of the wrong type', status: 403, make: () => resign({ 'x-ms-sevsnpvm-hostdata': 0 }) },
    { what: 'debuggable', status: 403, make: () => resign({ 'x-ms-sevsnpvm-is-debuggable': true }) },
    { what: 'VMPL 1', status: 403, make: () => resign({ 'x-ms-sevsnpvm-vmpl': 1 }) },
    // Key Vault compares claims type-leniently (src/kms/policy/claim-match.ts): "0" would satisfy `equals: 0`, "1" must not.
    { what: 'VMPL "1" as a string', status: 403, make: () => resign({ 'x-ms-sevsnpvm-vmpl': '1' }) },
    { what: 'not compliant', status: 403, make: () => resign({ 'x-ms-compliance-status': 'none' }) },
    {
      what: 'no policy claims at all',
      status: 403,
      make: () => resign({ 'x-ms-sevsnpvm-hostdata': undefined, 'x-ms-compliance-status': undefined, 'x-ms-sevsnpvm-vmpl': undefined, 'x-ms-sevsnpvm-is-debuggable': undefined }),
    },
    { what: 'the identity endpoint as issuer (trusted for bearers, not named by the policy)', status: 403, make: () => resign({ iss: other.identity.issuer }, other.identity) },
    {
      what: 'a public issuer the policy does not name',
      status: 403,
      make: () => signClaims({ ...claims, iss: 'https://sharedeus2.eus2.attest.azure.net' }, other.untrusted, { alg: 'RS256', kid: verifier.kid }),
    },
    { what: 'the verifier issuer with a path appended', status: 403, make: () => resign({ iss: `${String(claims.iss)}/evil` }) },
    { what: 'a runtime key of RSA-1024', status: 403, make: () => resign({ 'x-ms-runtime': { ...runtime, keys: [other.weakJwk] } }) },
    { what: 'no runtime key', status: 400, make: () => resign({ 'x-ms-runtime': {} }) },
    { what: 'a runtime key for signing only', status: 400, make: () => resign({ 'x-ms-runtime': { keys: [{ ...(runtime.keys as Record<string, unknown>[])[0], key_ops: ['sign'] }] } }) },
    { what: 'runtime keys of the wrong type', status: 400, make: () => resign({ 'x-ms-runtime': { keys: 'AQAB' } }) },
    { what: 'not a JWT', status: 400, make: async () => 'eyJhbGciOiJSUzI1NiJ9' },
    { what: 'over 64 KiB', status: 400, make: async () => `${genuine}${'A'.repeat(70_000)}` },
  ];
}

// ---- plausible-but-wrong field values ---------------------------------------------------------

/**
 * Values close to what each field of the keys API wants — the right type, a neighbouring name,
 * a size just out of range, base64url of the wrong length — so hostile bodies get past the type
 * checks into the deeper validation. Each is JSON text, like the arbitraries in arbitraries.ts.
 */
const json = (arb: fc.Arbitrary<unknown>) => arb.map((v) => JSON.stringify(v));
const bytesB64url = fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('base64url'));
const bytesB64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));
const bytesText = fc.oneof(bytesB64url, bytesB64, badBase64, badHex);
const keyOps = fc.array(fc.constantFrom('encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify', 'import', 'export', 'launch', 'ENCRYPT', ''), { maxLength: 8 });
const attributes = fc.record(
  {
    enabled: fc.oneof(fc.boolean(), fc.constantFrom('true', 1, null)),
    exportable: fc.oneof(fc.boolean(), fc.constantFrom('yes', 0)),
    nbf: fc.oneof(fc.integer(), fc.constantFrom(1e300, -1, 1.5, '0')),
    exp: fc.oneof(fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 0, '1')),
    created: fc.integer(),
    recoveryLevel: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);
const policyData = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  // A policy nested far past any sane depth, as the grammar's own groups and as raw JSON.
  fc.integer({ min: 10, max: 5_000 }).map((depth) => Buffer.from(`{"version":"1.0.0","anyOf":[${'{"allOf":['.repeat(depth)}${']}'.repeat(depth)}]}`).toString('base64url')),
  deepJsonText.filter((t) => t.length < 200_000).map((t) => Buffer.from(t).toString('base64url')),
  fc
    .constantFrom(
      { version: '1.0.0', anyOf: [] },
      { version: '1.0.0', anyOf: [{ authority: 'https://evil.example', allOf: [] }] },
      { version: '1.0.0', anyOf: [{ authority: 'https://a.example', allOf: [{ claim: 'x', equals: { nested: true } }] }] },
      { version: '2.0.0', anyOf: [{ authority: 'https://a.example', allOf: [{ claim: 'x', greater: 1 }] }] },
      { version: '1.0.0', allOf: [{ anyOf: [{ allOf: [{ anyOf: [] }] }] }] },
    )
    .map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  bytesText,
);
const releasePolicy = fc.record(
  {
    data: fc.oneof(policyData, fc.constantFrom(null, 5, '')),
    contentType: fc.oneof(fc.constantFrom('application/json; charset=utf-8', 'text/plain'), fc.string({ maxLength: 30 })),
    immutable: fc.oneof(fc.boolean(), fc.constant('true')),
  },
  { requiredKeys: [] },
);
const jwkLike = fc.record(
  {
    kty: fc.constantFrom('RSA', 'EC', 'oct', 'oct-HSM', 'OKP', 'RSA-HSM', ''),
    n: bytesText,
    e: fc.constantFrom('AQAB', 'Aw', 'AA', '', '!!'),
    d: bytesText,
    p: bytesText,
    q: bytesText,
    k: fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 64 }).map((b) => Buffer.from(b).toString('base64url')),
      bytesText,
    ),
    crv: fc.constantFrom('P-256', 'P-384', 'P-521', 'P-256K', 'Ed25519', 'X25519', 'P-192'),
    x: bytesText,
    y: bytesText,
    key_ops: keyOps,
  },
  { requiredKeys: [] },
);
const lifetimeActions = fc.array(
  fc.record(
    {
      trigger: fc.record({ timeAfterCreate: fc.constantFrom('P30D', 'P1Y', 'PT1S', 'P0D', '30 days', ''), timeBeforeExpiry: fc.constantFrom('P7D', 'P-1D', 'x') }, { requiredKeys: [] }),
      action: fc.record({ type: fc.constantFrom('Rotate', 'Notify', 'rotate', 'Delete', '') }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  ),
  { maxLength: 4 },
);

export const PLAUSIBLE: Record<string, fc.Arbitrary<string>> = {
  alg: json(
    fc.constantFrom(
      'RSA-OAEP',
      'RSA-OAEP-256',
      'RSA1_5',
      'A128GCM',
      'A256GCM',
      'A256KW',
      'A256CBC',
      'A256CBCPAD',
      'ES256',
      'ES384',
      'ES512',
      'ES256K',
      'PS256',
      'RS256',
      'RS512',
      'EdDSA',
      'HS256',
      'none',
      'ECDH-ES',
    ),
  ),
  value: json(bytesText),
  digest: json(bytesText),
  iv: json(bytesText),
  tag: json(bytesText),
  aad: json(bytesText),
  kty: json(fc.constantFrom('RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct', 'oct-HSM', 'OKP', 'rsa', 'RSA ')),
  // No RSA over 3072 bits: a 4096-bit generation costs seconds on two cores and proves nothing more.
  key_size: json(fc.constantFrom(128, 192, 256, 384, 512, 1024, 2048, 3072, 0, -256, 256.5, 1e9)),
  crv: json(fc.constantFrom('P-256', 'P-384', 'P-521', 'P-256K', 'SECP256K1', 'Ed25519', 'P-192', '')),
  public_exponent: json(fc.constantFrom(3, 65537, 1, 2, 0, -65537, 2 ** 32 + 1)),
  key_ops: json(keyOps),
  attributes: json(attributes),
  tags: json(fc.dictionary(fc.string({ maxLength: 600 }), fc.oneof(fc.string({ maxLength: 300 }), fc.integer()), { maxKeys: 20 })),
  release_policy: json(releasePolicy),
  key: json(jwkLike),
  hsm: json(fc.oneof(fc.boolean(), fc.constant('true'))),
  enc: json(fc.constantFrom('CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384', 'RSA-OAEP', '')),
  nonce: json(fc.string({ maxLength: 1100 })),
  count: json(fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constantFrom(1.5, '16', Infinity))),
  lifetimeActions: json(lifetimeActions),
  principal: json(fc.oneof(fc.uuid(), fc.string({ maxLength: 300 }))),
  role: json(fc.constantFrom('crypto-officer', 'crypto-user', 'crypto-service-release-user', 'Crypto Officer', 'owner', '')),
  scope: json(fc.constantFrom('/', '/keys', '/keys/hk-victim', 'keys/x', '/keys/../', '')),
};
