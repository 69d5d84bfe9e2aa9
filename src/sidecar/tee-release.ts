import { createHash, type JsonWebKey } from 'node:crypto';
import type { KeyClient } from '@azure/keyvault-keys';
import { describeUpstreamAnswer, upstreamAnswer } from '../lib/upstream-answer';
import { InvalidRequest, KeyNotFound, ReleaseDenied, ReleaseResponseInvalid, SkrError, UpstreamFailed, UpstreamRejected, UpstreamThrottled, UpstreamTimedOut } from '../errors';
import { decodeKeyHsm, isKeyWrapAlgorithm, materialToJwk, unwrapKeyMaterial, type KeyWrapAlgorithm } from '../keywrap';
import { reportDataFor } from '../snp';
import type { AttestationToken, MaaClient } from '../maa';
import type { EvidenceCollector } from './evidence';
import type { KeyClients } from './key-clients';
import type { ReleaseJwsVerifier } from './release-jws';
import type { TeeKey, TeeKeyHolder } from './tee-key';
import type { UnwrappedKeys } from './unwrapped-keys';
import type { SharedNextCall } from '../lib/shared-next-call';

export interface TeeReleaseRequest {
  /** Origins, already normalised and checked against the allow-list. */
  maaOrigin: string;
  akvOrigin: string;
  /** `name` or `name/version`. */
  kid: string;
  accessToken?: string;
  enc?: KeyWrapAlgorithm;
}

export interface ReleaseDeps {
  teeKeys: TeeKeyHolder;
  maa: MaaClient;
  evidence: EvidenceCollector;
  keyClients: KeyClients;
  jws: ReleaseJwsVerifier;
  /** Absent: every release is unwrapped anew (freshPerRelease). */
  unwrapped?: UnwrappedKeys;
  /** Identical releases asked together share the next call to the key service; absent: each makes its own (freshPerRelease). */
  joined?: SharedNextCall<JsonWebKey>;
  timeoutMs: number;
}

const KID = /^([0-9A-Za-z-]{1,127})(?:\/([0-9a-fA-F]{32}))?$/;

export function parseKid(kid: unknown): { name: string; version?: string } {
  const match = typeof kid === 'string' ? KID.exec(kid) : null;
  if (!match) throw new InvalidRequest('kid must be a key name, optionally followed by /<32-hex version>', { field: 'kid' });
  return { name: match[1]!, version: match[2] };
}

/**
 * Releases a key into the TEE: attests the TEE key (a cached token while the key lives), asks
 * the key service to release to it, verifies the signed answer and unwraps it here. Every
 * release is answered by a key service decision made after it arrived, so a changed release
 * policy applies to the next request; identical requests waiting together share the next call
 * (SharedNextCall), and an answer already opened is not unwrapped twice (UnwrappedKeys).
 */
export function releaseKey(request: TeeReleaseRequest, deps: ReleaseDeps): Promise<JsonWebKey> {
  const { joined } = deps;
  if (!joined) return releaseOnce(request, deps);
  // Hashed: the caller's access token is part of what the answer depends on, and is not kept as a map key.
  const id = createHash('sha256')
    .update(JSON.stringify([request.maaOrigin, request.akvOrigin, request.kid, request.enc, request.accessToken]))
    .digest('base64');
  return joined.call(id, () => releaseOnce(request, deps));
}

async function releaseOnce(request: TeeReleaseRequest, deps: ReleaseDeps): Promise<JsonWebKey> {
  const { name, version } = parseKid(request.kid);
  const { teeKey, attestation } = await attestTeeKey(deps, request.maaOrigin);
  const enc = request.enc ?? 'CKM_RSA_AES_KEY_WRAP';
  const released = await deps.keyClients.use(request.akvOrigin, request.accessToken, (client) => callKeyService(client, name, attestation.token, { version, enc, timeoutMs: deps.timeoutMs }));
  const payload = (await deps.jws.verify(released, new URL(request.akvOrigin).hostname)) as ReleasePayload;
  const key = payload?.response?.key?.key;
  if (!key || typeof key.kty !== 'string' || typeof key.key_hsm !== 'string') throw new ReleaseResponseInvalid('the release payload carries no key_hsm');
  const signedEnc = payload.request?.enc ?? enc;
  if (!isKeyWrapAlgorithm(signedEnc) || signedEnc !== enc) throw new ReleaseResponseInvalid('the release was wrapped with another algorithm than asked for');
  const { ciphertext } = decodeKeyHsm(key.key_hsm);
  const unwrap = () => unwrapKeyMaterial({ privateKey: teeKey.privateKey, ciphertext, enc: signedEnc });
  const material = deps.unwrapped ? await deps.unwrapped.open(teeKey.kid, signedEnc, key.key_hsm, unwrap) : await unwrap();
  return materialToJwk(key.kty, material, Array.isArray(key.key_ops) ? key.key_ops : undefined);
}

/** The live TEE key and a token for it (cached while the key lives, unless freshPerRelease). */
export async function attestTeeKey(deps: Pick<ReleaseDeps, 'teeKeys' | 'maa' | 'evidence'>, maaOrigin: string): Promise<{ teeKey: TeeKey; attestation: AttestationToken }> {
  const teeKey = await deps.teeKeys.get();
  const attestation = await deps.maa.attest(maaOrigin, teeKey.jwks, async (runtimeData) => {
    const evidence = await deps.evidence.collect(reportDataFor(runtimeData));
    return { report: evidence.report, vcekCertChain: evidence.vcekCertChain, uvmEndorsements: evidence.uvmEndorsements ? [evidence.uvmEndorsements] : undefined };
  });
  return { teeKey, attestation };
}

interface ReleasePayload {
  request?: { enc?: string };
  response?: { key?: { key?: { kid?: string; kty?: unknown; key_ops?: string[]; key_hsm?: unknown } } };
}

async function callKeyService(client: KeyClient, name: string, token: string, options: { version?: string; enc: KeyWrapAlgorithm; timeoutMs: number }): Promise<string> {
  // The SDK's error keeps only the message and code; the raw body carries a denial's explanation.
  let body: string | undefined;
  try {
    const result = await client.releaseKey(name, token, {
      version: options.version,
      algorithm: options.enc,
      abortSignal: AbortSignal.timeout(options.timeoutMs),
      onResponse: (raw) => {
        body = raw.bodyAsText ?? undefined;
      },
    });
    return result.value;
  } catch (error) {
    throw mapKeyServiceError(error, name, options.version, body);
  }
}

/** @azure/identity's error names: the credential could not produce a token (see mapKeyServiceError). */
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AuthenticationRequiredError', 'AggregateAuthenticationError']);

/** The parts of an SDK error (RestError, AbortError, @azure/identity's errors) the mapping reads. */
interface SdkError {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  response?: { headers?: { get(name: string): string | undefined } };
}

/**
 * Honest statuses: the key service's decision passes through, its failures become 502/504, its
 * throttling a 503. A failure to get the sidecar's own token is the identity's, not the key
 * service's. Exported for its unit test.
 */
export function mapKeyServiceError(error: unknown, name: string, version: string | undefined, body: string | undefined): SkrError {
  if (error instanceof SkrError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return new UpstreamTimedOut('kms', 'the key service timed out');
  // The SDK asks the credential for a token inside its pipeline, so an identity endpoint that is
  // down surfaces here; its message may name endpoints and tenants, so it is not passed on.
  if (e.name !== undefined && CREDENTIAL_ERRORS.has(e.name)) return new UpstreamFailed('identity', 'no access token for the key service could be obtained', { reason: e.name });
  if (e.statusCode === undefined) {
    // No answer at all: refused, reset or dropped (the SDK retried these); `reason` is the errno.
    return new UpstreamFailed('kms', 'the key service cannot be reached', typeof e.code === 'string' ? { reason: e.code } : undefined);
  }
  // The key service's own code and message travel with the sidecar's error (`upstream`).
  const upstream = { service: 'kms', ...upstreamAnswer(e.statusCode, body) };
  const said = { upstreamStatus: upstream.status, upstreamCode: e.code, upstream };
  switch (e.statusCode) {
    case 403:
      return new ReleaseDenied(upstream.message ?? 'the key service denied the release', { ...said, explanation: denialExplanation(body) });
    case 404:
      return new KeyNotFound(name, version);
    case 400:
      return new UpstreamRejected('kms', 400, e.code, upstream.message ?? 'HTTP 400', { upstream });
    case 401:
      return new UpstreamFailed('kms', 'the key service did not accept the sidecar credential', said);
    case 429:
      // Retried by the SDK only when Retry-After said when; still throttled after that.
      return new UpstreamThrottled('kms', { ...said, retryAfter: retryAfter(e) });
    default:
      return new UpstreamFailed('kms', describeUpstreamAnswer(upstream), said);
  }
}

/** The throttling answer's Retry-After, as sent (seconds or an HTTP date), if any. */
function retryAfter(e: SdkError): string | undefined {
  const value = e.response?.headers?.get('retry-after');
  return typeof value === 'string' && value.length <= 64 ? value : undefined;
}

/** The claim-by-claim explanation a skr KMS puts in Key Vault's `innererror` (absent from Azure's). */
function denialExplanation(body: string | undefined): unknown {
  try {
    const inner = (JSON.parse(body ?? '') as { error?: { innererror?: { details?: { explanation?: unknown } } } }).error?.innererror;
    return inner?.details?.explanation;
  } catch {
    return undefined;
  }
}
