import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { KbsTokenInvalid } from '../errors';
import { parseTeePubkey, type TeePubkey } from './tee-pubkey';
import type { TokenKey } from './token-key';

/**
 * The attestation token the KBS issues at /attest, in trustee's EAR shape (trustee-kbs.md §5.1):
 * the fields guest-components' client reads (`exp`, a three-part JWT) and the ones a KBS reads
 * (the tee-pubkey under `submods.cpu0["ear.veraison.annotated-evidence"].runtime_data_claims`).
 * The annotated evidence carries the verifier's SEV-SNP claims under `snp`, which resource
 * policies name, e.g. `submods.cpu0.ear.veraison.annotated-evidence.snp.x-ms-sevsnpvm-launchmeasurement`.
 */
export const EAR_PROFILE = 'tag:github.com,2024:confidential-containers/Trustee';
const TEE_PUBKEY_POINTER = ['submods', 'cpu0', 'ear.veraison.annotated-evidence', 'runtime_data_claims', 'tee-pubkey'] as const;
/** trustee's leeway on `exp`. */
const CLOCK_TOLERANCE_SECONDS = 60;

/** AR4SI trustworthiness values (draft-ietf-rats-ar4si): affirming and warning. */
const AFFIRMING = 2;
const WARNING = 32;

export interface TokenInput {
  issuer: string;
  lifetimeSeconds: number;
  now: Date;
  /** The verifier's claims about the evidence (x-ms-sevsnpvm-*, x-skr-*, compliance). */
  snpClaims: Record<string, unknown>;
  reportData: Buffer;
  nonce: string;
  teePubkey: TeePubkey;
  additionalEvidence: string;
}

/**
 * `affirming` only for genuine AMD hardware whose evidence met every reference value, running a
 * guest its policy does not let the host debug (the claim must say so: absent counts as
 * debuggable); a virtual TEE, a report-only non-compliance or a debuggable guest is a `warning`,
 * with the vector's hardware, executables or configuration component saying which. Refused
 * evidence never gets a token.
 */
function status(claims: Record<string, unknown>): { status: string; vector: Record<string, number> } {
  const genuine = claims['x-skr-sevsnpvm-genuine-amd'] === true;
  const compliant = claims['x-ms-compliance-status'] !== 'not-compliant';
  const sealed = claims['x-ms-sevsnpvm-is-debuggable'] === false;
  return {
    status: genuine && compliant && sealed ? 'affirming' : 'warning',
    vector: { hardware: genuine ? AFFIRMING : WARNING, executables: compliant ? AFFIRMING : WARNING, configuration: sealed ? AFFIRMING : WARNING },
  };
}

export async function issueKbsToken(input: TokenInput, key: TokenKey): Promise<string> {
  const iat = Math.floor(input.now.getTime() / 1000);
  const verdict = status(input.snpClaims);
  return new SignJWT({
    eat_profile: EAR_PROFILE,
    'ear.verifier-id': { developer: 'https://github.com/skr-tee/skr', build: 'skr kbs' },
    submods: {
      cpu0: {
        'ear.status': verdict.status,
        'ear.trustworthiness-vector': verdict.vector,
        'ear.appraisal-policy-id': 'default',
        'ear.veraison.annotated-evidence': {
          snp: input.snpClaims,
          report_data: input.reportData.toString('hex'),
          runtime_data_claims: { nonce: input.nonce, 'tee-pubkey': input.teePubkey, 'additional-evidence': input.additionalEvidence },
          init_data_claims: null,
        },
      },
    },
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid, jwk: key.jwk })
    .setIssuer(input.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + input.lifetimeSeconds)
    .setJti(randomBytes(16).toString('hex'))
    .sign(key.privateKey);
}

export interface VerifiedToken {
  claims: Record<string, unknown>;
  teePubkey: TeePubkey;
}

/**
 * Accepts only tokens this KBS signed: ES256 under its own key (never a key named in the header),
 * its issuer, `exp` required. A token from another KBS, or with its tee-pubkey changed, fails
 * the signature.
 */
export async function verifyKbsToken(token: string, key: TokenKey, issuer: string, now: Date): Promise<VerifiedToken> {
  let claims: Record<string, unknown>;
  try {
    const result = await jwtVerify(token, key.publicKey, {
      algorithms: ['ES256'],
      issuer,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
    });
    if (result.protectedHeader.kid !== key.kid) throw new Error("kid is not this KBS's key");
    claims = result.payload as Record<string, unknown>;
  } catch (error) {
    throw new KbsTokenInvalid((error as { code?: string }).code ?? (error as Error).message);
  }
  let node: unknown = claims;
  for (const step of TEE_PUBKEY_POINTER) node = typeof node === 'object' && node !== null && Object.hasOwn(node, step) ? (node as Record<string, unknown>)[step] : undefined;
  if (node === undefined) throw new KbsTokenInvalid('the token carries no tee-pubkey');
  return { claims, teePubkey: parseTeePubkey(node) };
}
