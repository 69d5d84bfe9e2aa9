import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeJwt } from 'jose';
import { KmsBadParameter, KmsForbidden, KmsRuntimeKeyRefused, RuntimeKeyUnsafe, SkrError } from '../errors';
import { encodeKeyHsm, isKeyWrapAlgorithm, wrapKeyMaterial, DEFAULT_KEY_WRAP, type KeyWrapAlgorithm } from '../keywrap';
import { decodeBase64Url } from '../lib/base64url';
import { CompactJwsSigner } from '../lib/jws';
import { checkRuntimeKey } from '../lib/runtime-key';
import { TokenVerifier, trimSlash } from '../oidc';
import { evaluateReleasePolicy, parseReleasePolicy, releaseDenied, type ReleasePolicy } from './policy';
import type { ReleaseContext, ReleaseFunction, KeyReleaseRequest, ReleaseResult } from './release-context';
import type { KeyVersion } from './model';
import { materialBytes } from './keys/material';
import { BoundedMap } from '../lib/bounded-map';

/**
 * Secure key release (Key Vault's `POST /keys/{name}[/{version}]/release`): the key goes only
 * to a TEE whose attestation token satisfies the key's release policy, wrapped to the RSA key
 * that token carries, in a JWS signed with the service's TLS key and chain (as Key Vault signs
 * with its own certificate). Knows nothing of HTTP.
 */
export interface ReleaseSigner {
  key: KeyObject;
  /** x5c: the signing certificate first, then its issuers (DER, standard base64). */
  x5c: string[];
  thumbprint: string;
}

export interface ReleaseOptions {
  signer: ReleaseSigner;
  /** Authorities the KMS will fetch keys from; any https authority a policy names when absent. */
  trustedAuthorities?: string[];
  /** CAs for fetching authorities' discovery documents (a self-hosted verifier). */
  authorityCa?: string[];
  now?: () => Date;
}

/** Builds the signer from PEMs: the TLS server key, its certificate and the CA that issued it. */
export function releaseSignerFromPem(keyPem: string, certPems: string[]): ReleaseSigner {
  const certs = certPems.map((p) => new X509Certificate(p));
  return {
    key: createPrivateKey(keyPem),
    x5c: certs.map((c) => c.raw.toString('base64')),
    thumbprint: createHash('sha256').update(certs[0]!.raw).digest('base64url'),
  };
}

function parseRequest(r: KeyReleaseRequest): { target: string; enc: KeyWrapAlgorithm; nonce?: string } {
  if (typeof r.target !== 'string' || r.target.length === 0 || r.target.length > 64 * 1024) throw new KmsBadParameter('target must be an attestation token');
  if (r.enc !== undefined && r.enc !== null && !isKeyWrapAlgorithm(r.enc)) throw new KmsBadParameter(`enc ${String(r.enc)} is not supported`);
  if (r.nonce !== undefined && r.nonce !== null && (typeof r.nonce !== 'string' || r.nonce.length > 1024)) throw new KmsBadParameter('nonce must be a string');
  return { target: r.target, enc: (r.enc as KeyWrapAlgorithm | undefined) ?? DEFAULT_KEY_WRAP, nonce: r.nonce ?? undefined };
}

function checkReleasable(version: KeyVersion, now: Date): void {
  const a = version.attributes;
  const seconds = Math.floor(now.getTime() / 1000);
  if (!a.enabled) throw new KmsForbidden('the key is disabled');
  if ((a.nbf !== undefined && seconds < a.nbf) || (a.exp !== undefined && seconds > a.exp)) throw new KmsForbidden('the key is not valid now');
  if (!a.exportable) throw new KmsBadParameter('the key is not exportable');
  if (!version.releasePolicy) throw new KmsForbidden('the key has no release policy');
}

/**
 * The first RSA encryption key the TEE put in its runtime data, refused (403) unless it protects
 * what is wrapped to it: another verifier's token may carry any key.
 */
async function runtimeKey(claims: Record<string, unknown>): Promise<{ kid?: string; n: string; e: string }> {
  const keys = (claims['x-ms-runtime'] as { keys?: unknown } | undefined)?.keys;
  if (Array.isArray(keys)) {
    for (const k of keys as Record<string, unknown>[]) {
      const ops = k?.key_ops;
      const encrypts = ops === undefined || (Array.isArray(ops) && (ops.includes('encrypt') || ops.includes('wrapKey')));
      if (k?.kty === 'RSA' && typeof k.n === 'string' && typeof k.e === 'string' && encrypts) {
        try {
          await checkRuntimeKey(k);
        } catch (error) {
          throw error instanceof RuntimeKeyUnsafe ? new KmsRuntimeKeyRefused(error) : error;
        }
        return { kid: typeof k.kid === 'string' ? k.kid : undefined, n: k.n, e: k.e };
      }
    }
  }
  throw new KmsBadParameter('the attestation token carries no RSA encryption key in x-ms-runtime.keys');
}

/** Parsed policies by their stored (base64url) text: every release of a key reads the same one. */
const MAX_POLICIES = 256;
const policies = new BoundedMap<string, ReleasePolicy>(MAX_POLICIES);

function storedPolicy(data: string): ReleasePolicy {
  let policy = policies.get(data);
  if (!policy) {
    const json = decodeBase64Url(data);
    if (!json) throw new KmsForbidden('the stored release policy is unreadable');
    policy = parseReleasePolicy(json);
    policies.set(data, policy);
  }
  return policy;
}

/** Verifies a token not seen before, once its issuer is known to be one the policy names. */
async function verifyTarget(target: string, policy: ReleasePolicy, tokens: TokenVerifier): Promise<Record<string, unknown>> {
  // The issuer must be an authority the policy names before any of its keys are fetched,
  // so a token cannot make the KMS call a host of the caller's choosing.
  let issuer: unknown;
  try {
    issuer = decodeJwt(target).iss;
  } catch {
    throw new KmsBadParameter('target is not a JWT');
  }
  const first = evaluateReleasePolicy(policy, {}, typeof issuer === 'string' ? issuer : '');
  if (first.reason === 'authority_not_in_policy') throw releaseDenied(first);
  try {
    return (await tokens.verify(target)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof SkrError ? error.message : 'the attestation token does not verify';
    throw new KmsForbidden(`the attestation token was refused: ${reason}`, { reason: 'token_invalid' });
  }
}

/** The KMS's release function (its types in `release-context.ts`): token, policy, wrap, sign. */
export function createRelease(options: ReleaseOptions): ReleaseFunction {
  const { signer } = options;
  const tools: ReleaseTools = {
    tokens: new TokenVerifier({ trustedIssuers: options.trustedAuthorities, ca: options.authorityCa, now: options.now }),
    jws: new CompactJwsSigner({ alg: 'RS256', kid: signer.thumbprint, x5c: signer.x5c, 'x5t#S256': signer.thumbprint }, signer.key),
    answers: new BoundedMap(MAX_ANSWERS),
  };
  return (request, context) => releaseKey(request, context, options, tools);
}

/**
 * A release repeated for the same key version, to the same TEE key, gets the signed answer the
 * first one got, for ANSWER_TTL_MS: the key's state, the caller's role, the token and the
 * policy are still checked every time; only the wrap and the signature (the costliest part) are
 * reused. The answer is keyed by everything it says but the ciphertext, so any change to the
 * key, its policy or the request makes a new one; and it is bytes the same TEE already holds.
 * Across replicas: the key version (attributes, policy) is read from the store on every
 * release, and a remembered token only spares its signature check — its claims meet the
 * current policy each time — so a key disabled or a policy changed at one replica applies to
 * the next release at any other, once the change is committed. (Roles: src/kms/auth/rbac.ts.)
 */
const ANSWER_TTL_MS = 60_000;
const MAX_ANSWERS = 1024;

interface ReleaseTools {
  tokens: TokenVerifier;
  jws: CompactJwsSigner;
  answers: BoundedMap<string, { value: string; until: number }>;
}

async function releaseKey(request: KeyReleaseRequest, ctx: ReleaseContext, options: ReleaseOptions, { tokens, jws, answers }: ReleaseTools): Promise<ReleaseResult> {
  const now = options.now?.() ?? new Date(ctx.now() * 1000);
  const { target, enc, nonce } = parseRequest(request);
  const version = await ctx.store.get(request.name, request.version);
  checkReleasable(version, now);
  const policy = storedPolicy(version.releasePolicy!.data);

  const claims = tokens.remembered(target) ?? (await verifyTarget(target, policy, tokens));
  const decision = evaluateReleasePolicy(policy, claims, String(claims.iss));
  if (!decision.allowed) throw releaseDenied(decision);

  const wrapping = await runtimeKey(claims);
  const kid = `${trimSlash(ctx.vaultUrl)}/keys/${version.name}/${version.version}`;
  const said = {
    request: { 'api-version': request.apiVersion, enc, kid, ...(nonce !== undefined ? { nonce } : {}) },
    attributes: version.attributes,
    key: { kid, kty: version.kty, key_ops: version.keyOps },
    release_policy: { contentType: version.releasePolicy!.contentType, data: version.releasePolicy!.data, immutable: version.releasePolicy!.immutable },
  };
  const answerId = JSON.stringify([wrapping, said]);
  const known = answers.get(answerId);
  if (known && known.until > now.getTime()) return { value: known.value, version: version.version };

  // The material is opened only when a new answer is wrapped, never for a repeated one.
  const { material } = await ctx.store.getWithMaterial(version.name, version.version);
  const ciphertext = await wrapKeyMaterial({ publicKey: { kty: 'RSA', n: wrapping.n, e: wrapping.e }, material: materialBytes(material), enc });
  const payload = {
    request: said.request,
    response: {
      key: {
        attributes: said.attributes,
        key: { ...said.key, key_hsm: encodeKeyHsm({ kid: wrapping.kid ?? '', enc, ciphertext }) },
        release_policy: said.release_policy,
      },
    },
  };
  const value = await jws.sign(Buffer.from(JSON.stringify(payload)));
  answers.set(answerId, { value, until: now.getTime() + ANSWER_TTL_MS });
  return { value, version: version.version };
}
