import { checkPrime } from 'node:crypto';

/**
 * Public checks that an RSA modulus is not factorable by anyone who sees it (the checks Go's
 * crypto/rsa and OpenSSL's public-key check make, plus Fermat's method): a prime modulus lets
 * anyone compute d = e⁻¹ mod (n − 1), a small factor is found by trial division, a square has
 * its root as factor, and p, q close together fall to Fermat's method in a few steps.
 *
 * Returns the reason the modulus is weak, or undefined. The primality test runs in libuv's
 * thread pool; the rest is BigInt arithmetic of under a millisecond per 4096-bit modulus (the
 * primorial is built once, on first use).
 */
export type WeakModulusReason = 'rsa_modulus_prime' | 'rsa_modulus_small_factor' | 'rsa_modulus_square' | 'rsa_modulus_close_factors';

/** Every prime below SMALL_FACTOR_BOUND divides PRIMORIAL: one gcd replaces thousands of divisions. */
const SMALL_FACTOR_BOUND = 1 << 16;
/** Steps of Fermat's method from ceil(√n): finds p, q with |p − q| up to about 2·√(2·steps)·n^(1/4). */
export const FERMAT_STEPS = 512;

function smallPrimes(bound: number): number[] {
  const composite = new Uint8Array(bound);
  const primes: number[] = [];
  for (let i = 2; i < bound; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j < bound; j += i) composite[j] = 1;
  }
  return primes;
}

/** Product of the list by halves, so the multiplications stay balanced. */
function product(values: bigint[], from = 0, to = values.length): bigint {
  if (to - from === 1) return values[from]!;
  const middle = (from + to) >> 1;
  return product(values, from, middle) * product(values, middle, to);
}

let primorial: bigint | undefined;
function smallPrimorial(): bigint {
  primorial ??= product(smallPrimes(SMALL_FACTOR_BOUND).map(BigInt));
  return primorial;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** floor(√n) by Newton's iteration from a power of two above the root. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const next = (x + n / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

/** Quadratic residues mod 64, 63, 65 and 11: most non-squares are ruled out without a root. */
const RESIDUE_MODULI = [64n, 63n, 65n, 11n];
const RESIDUES = RESIDUE_MODULI.map((m) => {
  const set = new Set<bigint>();
  for (let i = 0n; i < m; i++) set.add((i * i) % m);
  return set;
});

function isSquare(n: bigint): boolean {
  if (n < 0n) return false;
  for (let i = 0; i < RESIDUE_MODULI.length; i++) {
    if (!RESIDUES[i]!.has(n % RESIDUE_MODULI[i]!)) return false;
  }
  const root = isqrt(n);
  return root * root === n;
}

/** Fermat's method: n = a² − b² = (a − b)(a + b) for some a within `steps` of ceil(√n)? */
function fermatFactors(n: bigint, steps: number): 'square' | 'close' | undefined {
  const root = isqrt(n);
  if (root * root === n) return 'square';
  let a = root + 1n;
  let b2 = a * a - n;
  for (let i = 0; i < steps; i++) {
    if (isSquare(b2)) return 'close';
    // (a + 1)² − n = a² − n + 2a + 1
    b2 += 2n * a + 1n;
    a += 1n;
  }
  return undefined;
}

/**
 * Miller–Rabin in libuv's thread pool. A product of two primes fails the first round: one modular
 * exponentiation, a few ms at 2048 bits and tens at 4096. A prime passes every round, and OpenSSL
 * runs at least 64 (128 above 2048 bits) whatever `checks` asks, so a prime costs seconds: less
 * than generating it costs whoever sends it, and its verdict is cached by the caller.
 */
function isProbablePrime(n: bigint): Promise<boolean> {
  return new Promise((resolve, reject) => {
    checkPrime(n, (error, prime) => (error ? reject(error) : resolve(prime)));
  });
}

export async function weakModulusReason(n: bigint): Promise<WeakModulusReason | undefined> {
  if (gcd(smallPrimorial() % n, n) !== 1n) return 'rsa_modulus_small_factor';
  const fermat = fermatFactors(n, FERMAT_STEPS);
  if (fermat === 'square') return 'rsa_modulus_square';
  if (fermat === 'close') return 'rsa_modulus_close_factors';
  if (await isProbablePrime(n)) return 'rsa_modulus_prime';
  return undefined;
}
