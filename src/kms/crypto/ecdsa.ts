import { createECDH, randomBytes, type KeyObject } from 'node:crypto';
import { KmsBadParameter } from '../../errors';
import { CURVES, type CurveName } from '../keys/curves';

/**
 * ECDSA over a digest the caller computed (Key Vault's sign/verify take digests; node:crypto
 * always hashes its input). Signing takes k·G from OpenSSL (ECDH public key of a fresh
 * random k) and does the scalar arithmetic mod n here, with the private scalar blinded by a
 * random factor; verification is public and uses plain Jacobian arithmetic. Signatures are
 * r ‖ s, each the size of the group order, as JWS and Key Vault encode them.
 */
interface Curve {
  p: bigint;
  a: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bytes: number;
}

// Field primes and group orders (SEC 2 / FIPS 186-4); the generator is read from OpenSSL.
const PARAMS: Record<CurveName, { p: bigint; a: (p: bigint) => bigint; n: bigint }> = {
  'P-256': {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    a: (p) => p - 3n,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  'P-384': {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    a: (p) => p - 3n,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  'P-521': {
    p: 2n ** 521n - 1n,
    a: (p) => p - 3n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
  'P-256K': {
    p: 2n ** 256n - 2n ** 32n - 977n,
    a: () => 0n,
    n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  },
};

const cache = new Map<CurveName, Curve>();

const toBig = (bytes: Buffer) => (bytes.length ? BigInt(`0x${bytes.toString('hex')}`) : 0n);
const toBytes = (value: bigint, length: number) => Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

/** Inverse modulo a prime (both p and n are prime). */
const inverse = (a: bigint, m: bigint) => modPow(a, m - 2n, m);

export function curveParams(name: CurveName): Curve {
  const known = cache.get(name);
  if (known) return known;
  const { p, a, n } = PARAMS[name];
  const bytes = Math.ceil(p.toString(2).length / 8);
  const ecdh = createECDH(CURVES[name].openssl);
  ecdh.setPrivateKey(toBytes(1n, bytes));
  const g = ecdh.getPublicKey();
  const curve = { p, a: a(p), n, gx: toBig(g.subarray(1, 1 + bytes)), gy: toBig(g.subarray(1 + bytes)), bytes };
  cache.set(name, curve);
  return curve;
}

/** The digest as an integer: its leftmost bitlen(n) bits (FIPS 186-4 §6.4). */
function digestScalar(digest: Buffer, n: bigint): bigint {
  const nBits = n.toString(2).length;
  const e = toBig(digest);
  const excess = digest.length * 8 - nBits;
  return excess > 0 ? e >> BigInt(excess) : e;
}

function checkDigest(curve: CurveName, digest: Buffer): void {
  const expected = CURVES[curve].digestBytes;
  if (digest.length !== expected) throw new KmsBadParameter(`${CURVES[curve].sign} signs a ${expected}-byte digest; the value is ${digest.length} bytes`);
}

export function ecdsaSign(privateKey: KeyObject, curveName: CurveName, digest: Buffer): Buffer {
  checkDigest(curveName, digest);
  const curve = curveParams(curveName);
  const d = toBig(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const e = digestScalar(digest, curve.n);
  const nBytes = Math.ceil(curve.n.toString(2).length / 8);
  for (;;) {
    const ecdh = createECDH(CURVES[curveName].openssl);
    ecdh.generateKeys();
    const k = toBig(ecdh.getPrivateKey());
    const r = mod(toBig(ecdh.getPublicKey().subarray(1, 1 + curve.bytes)), curve.n);
    if (r === 0n || k === 0n) continue;
    // s = k⁻¹(e + r·d) computed as (bk)⁻¹(b·e + b·r·d): the arithmetic on d is blinded by a random b.
    const b = mod(toBig(randomBytes(nBytes + 8)), curve.n - 1n) + 1n;
    const s = mod(inverse(mod(b * k, curve.n), curve.n) * mod(b * e + mod(b * r, curve.n) * d, curve.n), curve.n);
    if (s === 0n) continue;
    return Buffer.concat([toBytes(r, nBytes), toBytes(s, nBytes)]);
  }
}

type Jacobian = [bigint, bigint, bigint];

function double(c: Curve, [x, y, z]: Jacobian): Jacobian {
  if (y === 0n || z === 0n) return [0n, 1n, 0n];
  const { p } = c;
  const y2 = (y * y) % p;
  const s = (4n * x * y2) % p;
  const z2 = (z * z) % p;
  const m = mod(3n * x * x + c.a * z2 * z2, p);
  const x3 = mod(m * m - 2n * s, p);
  return [x3, mod(m * (s - x3) - 8n * y2 * y2, p), (2n * y * z) % p];
}

function add(c: Curve, a: Jacobian, b: Jacobian): Jacobian {
  if (a[2] === 0n) return b;
  if (b[2] === 0n) return a;
  const { p } = c;
  const za2 = (a[2] * a[2]) % p;
  const zb2 = (b[2] * b[2]) % p;
  const u1 = (a[0] * zb2) % p;
  const u2 = (b[0] * za2) % p;
  const s1 = (a[1] * zb2 * b[2]) % p;
  const s2 = (b[1] * za2 * a[2]) % p;
  if (u1 === u2) return s1 === s2 ? double(c, a) : [0n, 1n, 0n];
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const h2 = (h * h) % p;
  const h3 = (h2 * h) % p;
  const x3 = mod(r * r - h3 - 2n * u1 * h2, p);
  return [x3, mod(r * (u1 * h2 - x3) - s1 * h3, p), (h * a[2] * b[2]) % p];
}

function multiply(c: Curve, point: Jacobian, scalar: bigint): Jacobian {
  let result: Jacobian = [0n, 1n, 0n];
  for (const bit of scalar.toString(2)) {
    result = double(c, result);
    if (bit === '1') result = add(c, result, point);
  }
  return result;
}

export function ecdsaVerify(publicKey: KeyObject, curveName: CurveName, digest: Buffer, signature: Buffer): boolean {
  checkDigest(curveName, digest);
  const curve = curveParams(curveName);
  const nBytes = Math.ceil(curve.n.toString(2).length / 8);
  if (signature.length !== 2 * nBytes) return false;
  const r = toBig(signature.subarray(0, nBytes));
  const s = toBig(signature.subarray(nBytes));
  if (r <= 0n || r >= curve.n || s <= 0n || s >= curve.n) return false;
  const jwk = publicKey.export({ format: 'jwk' });
  const q: Jacobian = [toBig(Buffer.from(jwk.x!, 'base64url')), toBig(Buffer.from(jwk.y!, 'base64url')), 1n];
  const w = inverse(s, curve.n);
  const u1 = mod(digestScalar(digest, curve.n) * w, curve.n);
  const u2 = mod(r * w, curve.n);
  const [x, , z] = add(curve, multiply(curve, [curve.gx, curve.gy, 1n], u1), multiply(curve, q, u2));
  if (z === 0n) return false;
  const zInv = inverse(z, curve.p);
  return mod(x * zInv * zInv, curve.p) % curve.n === r;
}
