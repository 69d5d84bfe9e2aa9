import { InvalidArgument, MasterKeyReleaseFailed, MasterKeySidecarUnreachable, MasterKeyUnsuitable } from '../../errors';
import { normaliseEndpoint } from '../../lib/endpoint';
import { httpRequestWithRetry, isTransient, TransportError, type HttpResponse } from '../../lib/http';
import { describeUpstreamAnswer, upstreamAnswer } from '../../lib/upstream-answer';
import { InMemoryMasterKey, MASTER_KEY_BYTES } from './in-memory-master-key';
import type { MasterKey } from './master-key';

export interface ReleasedMasterKeyOptions {
  /** The key to release: `<vault>/keys/<name>[/<version>]` on Azure Key Vault, Managed HSM or skr kms. */
  keyUrl: string;
  /** The group's sidecar (`/key/release`). Plain http only to a loopback address. */
  sidecarUrl?: string;
  /** The attestation service the sidecar takes its token from; the sidecar's own default when absent. */
  maaEndpoint?: string;
  /** How long to keep trying while the sidecar (which starts with the group) is not up yet. */
  waitMs?: number;
}

export const DEFAULT_SIDECAR_URL = 'http://127.0.0.1:8080';
export const DEFAULT_RELEASE_WAIT_MS = 120_000;
const ATTEMPT_TIMEOUT_MS = 30_000;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const MAX_ANSWER_BYTES = 64 * 1024;
const KEY_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const KEY_VERSION = /^[0-9a-fA-F]{32}$/;
const K_BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The master key obtained at start through secure key release and held in this process's
 * memory only: nothing of it is written anywhere, so state sealed under it is readable only
 * inside a TEE that satisfies the key's release policy. The same released key gives the same
 * id, so state survives a restart.
 *
 * The release goes through the container group's own sidecar (Microsoft's or skr's), which
 * attests the TEE and unwraps the key inside it; the key crosses only the group's loopback
 * interface, which is inside the same TEE. Releasing from Key Vault directly, without a
 * sidecar, would need the KMS to attest by itself (TEE device, VCEK chain, MAA, a runtime
 * key) — the sidecar's whole job, and a larger attack surface in the KMS — so it is not done.
 */
export async function openReleasedMasterKey(options: ReleasedMasterKeyOptions): Promise<MasterKey> {
  const request = releaseRequest(options);
  const waitMs = options.waitMs ?? DEFAULT_RELEASE_WAIT_MS;
  if (!Number.isInteger(waitMs) || waitMs < 0) throw new InvalidArgument('the master key release wait must be a non-negative whole number of milliseconds');
  const answer = await askSidecar(request.sidecar, request.body, waitMs);
  try {
    return new InMemoryMasterKey('released', octKeyOf(answer.body));
  } finally {
    // Best effort: the parsed strings cannot be wiped in JavaScript; the buffers can.
    answer.body.fill(0);
  }
}

interface MasterKeyReleaseRequest {
  sidecar: string;
  body: string;
}

/** Validates the options into the sidecar's URL and Microsoft's `/key/release` body. */
function releaseRequest(options: ReleasedMasterKeyOptions): MasterKeyReleaseRequest {
  const sidecarUrl = options.sidecarUrl ?? DEFAULT_SIDECAR_URL;
  if (!/^https?:\/\//i.test(sidecarUrl)) throw new InvalidArgument('--master-key-sidecar must be an http:// or https:// URL', { flag: 'master-key-sidecar' });
  const sidecar = normaliseEndpoint(sidecarUrl, 'master-key-sidecar');
  const { vault, kid } = parseKeyUrl(options.keyUrl);
  const body: Record<string, string> = { akv_endpoint: vault, kid };
  if (options.maaEndpoint !== undefined) body.maa_endpoint = hostForm(normaliseEndpoint(options.maaEndpoint, 'master-key-maa'));
  return { sidecar: `${sidecar}/key/release`, body: JSON.stringify(body) };
}

/** `https://<vault>/keys/<name>[/<version>]` → the vault endpoint and the sidecar's `kid`. */
export function parseKeyUrl(keyUrl: string): { vault: string; kid: string } {
  let url: URL;
  try {
    url = new URL(keyUrl);
  } catch {
    throw new InvalidArgument('--master-key-release must be a URL <vault>/keys/<name>[/<version>]', { flag: 'master-key-release' });
  }
  if (url.protocol !== 'https:') throw new InvalidArgument('--master-key-release must use https', { flag: 'master-key-release' });
  if (url.username || url.password || url.search || url.hash) throw new InvalidArgument('--master-key-release must not carry credentials, query or fragment', { flag: 'master-key-release' });
  const [keys, name, version, ...rest] = url.pathname.replace(/^\/|\/$/g, '').split('/');
  if (keys !== 'keys' || !name || !KEY_NAME.test(name) || (version !== undefined && !KEY_VERSION.test(version)) || rest.length > 0) {
    throw new InvalidArgument('--master-key-release must be <vault>/keys/<name>[/<version>] (name: 1-127 of 0-9, a-z, A-Z, -; version: 32 hex digits)', { flag: 'master-key-release' });
  }
  return { vault: url.host, kid: version ? `${name}/${version.toLowerCase()}` : name };
}

/** Microsoft's sidecar takes endpoints as hosts (https implied); a loopback http one keeps its scheme. */
function hostForm(origin: string): string {
  const url = new URL(origin);
  return url.protocol === 'https:' ? url.host : origin;
}

/**
 * POSTs the release, retrying with backoff while the sidecar is unreachable or answers a
 * transient status, until `waitMs` has passed. A refusal (400, 403, 404) ends at once.
 */
async function askSidecar(url: string, body: string, waitMs: number): Promise<HttpResponse> {
  let announced = false;
  const announce = (reason: string, leftMs: number) => {
    if (announced) return;
    process.stderr.write(`skr kms: waiting up to ${Math.ceil(leftMs / 1000)} s for the sidecar at ${url} to release the master key (${reason})\n`);
    announced = true;
  };
  let response: HttpResponse;
  try {
    response = await httpRequestWithRetry(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body, timeoutMs: ATTEMPT_TIMEOUT_MS, maxBodyBytes: MAX_ANSWER_BYTES },
      { retries: Infinity, baseDelayMs: FIRST_BACKOFF_MS, maxDelayMs: MAX_BACKOFF_MS, deadlineMs: waitMs, onRetry: announce },
    );
  } catch (error) {
    if (error instanceof TransportError) throw new MasterKeySidecarUnreachable(url, waitMs, error.message);
    throw error;
  }
  if (response.status === 200) return response;
  throw refusal(response, isTransient(response.status) ? ` (still failing after ${waitMs} ms)` : '');
}

/** The sidecar's error, in its own words: `{"error": "<message>", "code": "<code>"}`. */
function refusal(response: HttpResponse, suffix = ''): MasterKeyReleaseFailed {
  let said: { error?: unknown; code?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(response.body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) said = parsed as typeof said;
  } catch {
    // Not JSON: the status alone is reported.
  }
  // Reshaped into the Azure error body so that the one sanitiser (length, control characters,
  // anything token-shaped) cleans it.
  const answer = upstreamAnswer(response.status, JSON.stringify({ error: { code: said.code, message: said.error } }));
  return new MasterKeyReleaseFailed(`the sidecar answered ${describeUpstreamAnswer(answer)}${suffix}`, {
    upstreamStatus: answer.status,
    ...(answer.code ? { upstreamCode: answer.code } : {}),
  });
}

/** `{"key": "<JWK as a JSON string>"}` → the 32 bytes of an oct key, in a buffer of their own. */
function octKeyOf(body: Buffer): Buffer {
  let jwk: unknown;
  try {
    const outer = JSON.parse(body.toString('utf8')) as { key?: unknown };
    if (typeof outer?.key !== 'string') throw new Error();
    jwk = JSON.parse(outer.key);
  } catch {
    throw new MasterKeyReleaseFailed('the sidecar did not answer {"key": "<JWK>"}');
  }
  if (typeof jwk !== 'object' || jwk === null) throw new MasterKeyReleaseFailed('the released key is not a JWK');
  const { kty, k } = jwk as { kty?: unknown; k?: unknown };
  if (kty !== 'oct')
    throw new MasterKeyUnsuitable(`the released key is ${typeof kty === 'string' ? kty.slice(0, 16) : 'of no kty'}; the master key must be an oct key of 256 bits`, {
      kty: typeof kty === 'string' ? kty.slice(0, 16) : undefined,
    });
  if (typeof k !== 'string' || !K_BASE64URL.test(k)) throw new MasterKeyUnsuitable('the released oct key has no base64url k');
  const decoded = Buffer.from(k, 'base64url');
  try {
    if (decoded.length !== MASTER_KEY_BYTES) {
      throw new MasterKeyUnsuitable(`the released oct key has ${decoded.length * 8} bits; the master key must have 256`, { kty: 'oct', bits: decoded.length * 8 });
    }
    // Its own allocation: a small decode may share Node's buffer pool.
    const secret = Buffer.alloc(MASTER_KEY_BYTES);
    decoded.copy(secret);
    return secret;
  } finally {
    decoded.fill(0);
  }
}
