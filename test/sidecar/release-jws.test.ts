import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
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
  ['a changed payload', async () => {
    const [h, , s] = (await sign(tls)).split('.');
    return `${h}.${Buffer.from(JSON.stringify({ response: { key: { key: { kty: 'RSA' } } } })).toString('base64url')}.${s}`;
  }],
  ['a signature by another key under the genuine chain', async () => {
    const [h, p] = (await sign(tls)).split('.');
    const forged = await new CompactJwsSigner({ alg: 'RS256' }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).sign(Buffer.from(JSON.stringify(payload)));
    return `${h}.${p}.${forged.split('.')[2]}`;
  }],
])('refused: %s', async (_name, forge) => {
  const verifier = new ReleaseJwsVerifier({ ca: [tls.caPem] });
  // The genuine chain is verified (and kept) first, so a forgery cannot ride on a cached chain.
  await verifier.verify(await sign(tls), 'localhost');
  await expect(verifier.verify(await forge(), 'localhost')).rejects.toMatchObject({ code: 'release_response_invalid' });
});
