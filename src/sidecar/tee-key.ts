import { createHash, generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPair = promisify(generateKeyPairCb);

/**
 * The TEE's RSA key that released keys are wrapped to. Generated inside the TEE, held in
 * memory only, reused until its TTL and replaced in the background — never one keygen per
 * request (Microsoft's sidecar generates one per release). The previous key stays usable for
 * releases that began under it.
 */
export interface TeeKey {
  privateKey: KeyObject;
  /** RFC 7638 thumbprint, the JWK's kid. */
  kid: string;
  /** The runtime data sent to the verifier: `{"keys":[{e, key_ops:["encrypt"], kid, kty, n}]}`. */
  jwks: { keys: Record<string, unknown>[] };
  createdAt: number;
}

export interface TeeKeyOptions {
  modulusLength: 2048 | 3072;
  ttlMs: number;
  /** A new key for every get, none reused (Microsoft's sidecar; `freshPerRelease`). */
  fresh?: boolean;
  now?: () => number;
}

async function createTeeKey(modulusLength: number, now: number): Promise<TeeKey> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength });
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return { privateKey, kid, jwks: { keys: [{ e, key_ops: ['encrypt'], kid, kty: 'RSA', n }] }, createdAt: now };
}

export class TeeKeyHolder {
  private current?: Promise<TeeKey>;
  private refreshing?: Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: TeeKeyOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The live key; past its TTL a replacement is generated in the background while this one still serves. */
  async get(): Promise<TeeKey> {
    if (this.options.fresh) return createTeeKey(this.options.modulusLength, this.now());
    if (!this.current) this.current = createTeeKey(this.options.modulusLength, this.now());
    const key = await this.current.catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    if (this.now() - key.createdAt >= this.options.ttlMs && !this.refreshing) {
      this.refreshing = createTeeKey(this.options.modulusLength, this.now()).then(
        (fresh) => {
          this.current = Promise.resolve(fresh);
          this.refreshing = undefined;
        },
        () => {
          // Keep serving the old key; the next call tries again.
          this.refreshing = undefined;
        },
      );
    }
    return key;
  }

  /** Resolves once a background rotation (if any) finished: for tests and graceful shutdown. */
  async settled(): Promise<void> {
    await this.refreshing;
  }
}
