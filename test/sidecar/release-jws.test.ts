import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { createTlsMaterial, type TlsMaterial } from '../../src/tls/certificates';
import { CompactJwsSigner, type JwsAlgorithm } from '../../src/lib/jws';
import { ReleaseJwsVerifier } from '../../src/sidecar/release-jws';

/** The release JWS as a key service signs it: x5c = its TLS certificate, then the CA. */
let tls: TlsMaterial;
let stranger: TlsMaterial;
beforeAll(async () => {
  [tls, stranger] = await Promise.all([createTlsMaterial({ hosts: ['localhost', '127.0.0.1'] }), createTlsMaterial()]);
});

const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');
const payload = { response: { key: { key: { kty: 'oct-HSM' } } } };

function sign(material: TlsMaterial, header: Record<string, unknown> = {}, alg: JwsAlgorithm = 'RS256'): Promise<string> {
  const signer = new CompactJwsSigner({ alg, x5c: [der(material.certPem), der(material.caPem)], ...header }, createPrivateKey(material.keyPem));
  return signer.sign(Buffer.from(JSON.stringify(payload)));
}

test('a JWS from the trusted key service verifies, RS256 and PS256, again and again (the chain is kept)', async () => {
  const verifier = new ReleaseJwsVerifier({ ca: [tls.caPem] });
  for (const alg of ['RS256', 'PS256'] as const) {
    const jws = await sign(tls, {}, alg);
    await expect(verifier.verify(jws, 'localhost')).resolves.toEqual(payload);
    await expect(verifier.verify(jws, '127.0.0.1')).resolves.toEqual(payload);
  }
});

test('a kept chain is still checked for the host called and for the time now', async () => {
  let now = new Date();
  const verifier = new ReleaseJwsVerifier({ ca: [tls.caPem], now: () => now });
  const jws = await sign(tls);
  await expect(verifier.verify(jws, 'localhost')).resolves.toEqual(payload);
  await expect(verifier.verify(jws, 'evil.example')).rejects.toMatchObject({ code: 'release_response_invalid', message: expect.stringContaining('evil.example') });
  now = new Date(Date.now() + 400 * 86_400_000);
  await expect(verifier.verify(jws, 'localhost')).rejects.toMatchObject({ code: 'release_response_invalid', message: expect.stringContaining('not valid now') });
});

test.each<[string, () => Promise<string>]>([
  ['a chain to an untrusted CA', () => sign(stranger)],
  ['alg none', async () => (await sign(tls, { alg: 'none' })).replace(/\.[^.]*$/, '.')],
  ['alg HS256', () => sign(tls, { alg: 'HS256' })],
  ['a critical extension', () => sign(tls, { crit: ['b64'], b64: false })],
  ['no x5c', () => sign(tls, { x5c: undefined })],
  ['an x5c that does not parse', () => sign(tls, { x5c: ['AAAA'] })],
  ['a leaf signed by another CA than the one after it', () => sign(tls, { x5c: [der(stranger.certPem), der(tls.caPem)] })],
  [
    'a changed payload',
    async () => {
      const [h, , s] = (await sign(tls)).split('.');
      return `${h}.${Buffer.from(JSON.stringify({ response: { key: { key: { kty: 'RSA' } } } })).toString('base64url')}.${s}`;
    },
  ],
  [
    'a signature by another key under the genuine chain',
    async () => {
      const [h, p] = (await sign(tls)).split('.');
      const forged = await new CompactJwsSigner({ alg: 'RS256' }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).sign(Buffer.from(JSON.stringify(payload)));
      return `${h}.${p}.${forged.split('.')[2]}`;
    },
  ],
])('refused: %s', async (_name, forge) => {
  const verifier = new ReleaseJwsVerifier({ ca: [tls.caPem] });
  // The genuine chain is verified (and kept) first, so a forgery cannot ride on a cached chain.
  await verifier.verify(await sign(tls), 'localhost');
  await expect(verifier.verify(await forge(), 'localhost')).rejects.toMatchObject({ code: 'release_response_invalid' });
});

/**
 * Chains a key service could present, each with one defect X.509 path validation must catch:
 * root → intermediate → leaf, minted with node-forge from keys made once.
 */
describe('x5c path validation', () => {
  type Extensions = Record<string, unknown>[];
  interface Spec {
    subject: string;
    issuer?: string;
    extensions: Extensions;
    days?: [number, number];
  }
  const ca = (extra: Record<string, unknown> = {}): Extensions => [
    { name: 'basicConstraints', cA: true, critical: true, ...extra },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ];
  const leafExtensions: Extensions = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
  ];
  const forgeKeys = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
    return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e), pem };
  };
  let keys: Record<'root' | 'intermediate' | 'leaf', ReturnType<typeof forgeKeys>>;
  let rootPem: string;

  function mint(spec: Spec, publicKey: forge.pki.PublicKey, signer: forge.pki.rsa.PrivateKey): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = `0${randomBytes(8).toString('hex')}`;
    const [from, to] = spec.days ?? [-1, 365];
    cert.validity.notBefore = new Date(Date.now() + from * 86_400_000);
    cert.validity.notAfter = new Date(Date.now() + to * 86_400_000);
    cert.setSubject([{ name: 'commonName', value: spec.subject }]);
    cert.setIssuer([{ name: 'commonName', value: spec.issuer ?? spec.subject }]);
    cert.setExtensions(spec.extensions);
    cert.sign(signer, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }

  beforeAll(() => {
    keys = { root: forgeKeys(), intermediate: forgeKeys(), leaf: forgeKeys() };
    rootPem = mint({ subject: 'test root', extensions: ca() }, keys.root.publicKey, keys.root.privateKey);
  });

  /** A release JWS signed by the leaf key, under x5c = [leaf, intermediate]. */
  function signWith(options: { intermediate?: Partial<Spec>; leaf?: Partial<Spec> } = {}): Promise<string> {
    const intermediate = mint({ subject: 'test intermediate', issuer: 'test root', extensions: ca(), ...options.intermediate }, keys.intermediate.publicKey, keys.root.privateKey);
    const leaf = mint({ subject: 'localhost', issuer: 'test intermediate', extensions: leafExtensions, ...options.leaf }, keys.leaf.publicKey, keys.intermediate.privateKey);
    return new CompactJwsSigner({ alg: 'RS256', x5c: [der(leaf), der(intermediate)] }, createPrivateKey(keys.leaf.pem)).sign(Buffer.from(JSON.stringify(payload)));
  }

  test('a root → intermediate → leaf chain with every constraint met verifies', async () => {
    await expect(new ReleaseJwsVerifier({ ca: [rootPem] }).verify(await signWith({ intermediate: { extensions: ca({ pathLenConstraint: 0 }) } }), 'localhost')).resolves.toEqual(payload);
  });

  test.each<[string, () => { intermediate?: Partial<Spec>; leaf?: Partial<Spec> }]>([
    [
      'an intermediate that is CA:FALSE',
      () => ({
        intermediate: {
          extensions: [
            { name: 'basicConstraints', cA: false, critical: true },
            { name: 'keyUsage', keyCertSign: true, critical: true },
          ],
        },
      }),
    ],
    ['an intermediate without basicConstraints', () => ({ intermediate: { extensions: [{ name: 'keyUsage', keyCertSign: true, critical: true }] } })],
    [
      'an intermediate whose keyUsage lacks keyCertSign',
      () => ({
        intermediate: {
          extensions: [
            { name: 'basicConstraints', cA: true, critical: true },
            { name: 'keyUsage', digitalSignature: true, critical: true },
          ],
        },
      }),
    ],
    ['an expired intermediate', () => ({ intermediate: { days: [-30, -1] } })],
    ['an intermediate not yet valid', () => ({ intermediate: { days: [1, 30] } })],
    ['a leaf whose issuer name is not the intermediate', () => ({ leaf: { issuer: 'someone else' } })],
    ['a leaf whose keyUsage does not allow signatures', () => ({ leaf: { extensions: [leafExtensions[0]!, { name: 'keyUsage', keyEncipherment: true, critical: true }, leafExtensions[2]!] } })],
  ])('refused: %s', async (_name, make) => {
    await expect(new ReleaseJwsVerifier({ ca: [rootPem] }).verify(await signWith(make()), 'localhost')).rejects.toMatchObject({
      code: 'release_response_invalid',
      message: expect.stringContaining('does not validate to a trusted root'),
    });
  });

  test('refused: a path longer than a pathLenConstraint allows', async () => {
    // The root allows no CA below it; the intermediate is one.
    const strictRoot = mint({ subject: 'test root', extensions: ca({ pathLenConstraint: 0 }) }, keys.root.publicKey, keys.root.privateKey);
    await expect(new ReleaseJwsVerifier({ ca: [strictRoot] }).verify(await signWith(), 'localhost')).rejects.toMatchObject({
      code: 'release_response_invalid',
      message: expect.stringContaining('allows 0 CA certificates below it'),
    });
  });
});
