import { createHash } from 'node:crypto';
import { HostDataNotAllowed, InitTimeDataMismatch, InvalidRequest, NonceRequired, ProductNotAllowed, RuntimeDataMismatch, type SkrError } from '../../errors';
import { encodeBase64Url } from '../../lib/base64url';
import { MAX_RUNTIME_DEPTH, nestsDeeperThan } from '../../lib/json-depth';
import { checkRuntimeKeys } from '../../lib/runtime-key';
import { reportDataFor, type TrustedRoot, checkReport, verifyReport, type CrlGetter, type Evidence, type VerifiedReport, type VerifyOptions, splitPem } from '../../snp';
import { sevSnpClaims, type AttestRequest, type UvmIssuer } from '..';
import { NON_COMPLIANT_STATUS, policyHash, UVM_COMPLIANT_STATUS, type AppraisalPolicy } from './appraisal-policy';
import type { ChallengeStore } from './challenges';
import { valuesOf, type ReferenceValueStore } from './reference-values';
import { uvmEndorsementClaims } from './uvm-claims';

export interface AttestContext {
  now: () => Date;
  policy: AppraisalPolicy;
  references: ReferenceValueStore;
  challenges: ChallengeStore;
  /** Roots trusted besides AMD's (the virtual device's ARK, only when configured). */
  trustedRoots: TrustedRoot[];
  /** UVM endorsers trusted besides the policy's (the virtual state's, only when configured). */
  trustedUvmIssuers?: UvmIssuer[];
  /** Revocation checking of the chain each report is verified through; absent: none. */
  revocation?: Revocation;
}

/** Which chains are checked against their ARK's CRL, and where the CRLs come from. */
export interface Revocation {
  check: NonNullable<VerifyOptions['checkRevocations']>;
  crls: CrlGetter;
}

export interface Appraisal {
  verified: VerifiedReport;
  claims: Record<string, unknown>;
}

/** The VEK is the certificate whose subject is SEV-VCEK / SEV-VLEK; the rest is chain. */
function splitChain(pem: string): { vek: Buffer; chain: Buffer[] } {
  const certs = splitPem(pem);
  if (certs.length === 0) throw new InvalidRequest('report.VcekCertChain holds no PEM certificate', { field: 'report.VcekCertChain' });
  return { vek: certs[0]!, chain: certs.slice(1) };
}

/** The evidence of an MAA request as the report verifier takes it. */
export function evidenceOf(request: AttestRequest): Evidence {
  const { vek, chain } = splitChain(request.vcekCertChain);
  return { report: request.report, vek, chain };
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

async function runtimeClaims(request: AttestRequest): Promise<{ claim?: unknown; nonce?: string }> {
  const runtime = request.runtimeData;
  if (!runtime) return {};
  if (runtime.dataType === 'Binary') return { claim: encodeBase64Url(runtime.data) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(runtime.data.toString('utf8'));
  } catch {
    throw new InvalidRequest('runtimeData is declared JSON but does not parse', { field: 'runtimeData.data' });
  }
  if (nestsDeeperThan(parsed, MAX_RUNTIME_DEPTH)) throw new InvalidRequest('runtimeData nests too deeply', { field: 'runtimeData.data' });
  // A token must never vouch for a key that would not protect what is released to it.
  await checkRuntimeKeys(parsed);
  const nonce = typeof parsed === 'object' && parsed !== null && typeof (parsed as { nonce?: unknown }).nonce === 'string' ? (parsed as { nonce: string }).nonce : undefined;
  return { claim: parsed, nonce };
}

/**
 * Verifies and appraises SEV-SNP evidence; returns the token claims or throws the first reason
 * for refusal. Knows nothing of HTTP.
 */
export async function appraiseEvidence(request: AttestRequest, ctx: AttestContext): Promise<Appraisal> {
  const { vek, chain } = splitChain(request.vcekCertChain);
  const verified = await verifyReport(
    { report: request.report, vek, chain },
    { now: ctx.now(), trustedRoots: ctx.trustedRoots, ...(ctx.revocation ? { checkRevocations: ctx.revocation.check, crls: ctx.revocation.crls } : {}) },
  );
  const { report } = verified;

  // REPORT_DATA must commit to the runtime data: SHA-256 in the first half, zeros after.
  if (!request.runtimeData) throw new InvalidRequest('runtimeData is required: it is what the report binds', { field: 'runtimeData' });
  const expected = reportDataFor(request.runtimeData.data);
  if (!expected.equals(report.reportData)) {
    throw new RuntimeDataMismatch('REPORT_DATA is not SHA-256(runtimeData) followed by zeros', {
      expected: expected.toString('hex'),
      actual: report.reportData.toString('hex'),
    });
  }
  if (request.initTimeData && !sha256(request.initTimeData.data).equals(report.hostData)) {
    throw new InitTimeDataMismatch('HOST_DATA is not SHA-256(initTimeData)', {
      expected: sha256(request.initTimeData.data).toString('hex'),
      actual: report.hostData.toString('hex'),
    });
  }

  const runtime = await runtimeClaims(request);
  if (runtime.nonce !== undefined) await ctx.challenges.consume(runtime.nonce);
  else if (ctx.policy.requireFreshness) throw new NonceRequired('the policy requires a challenge nonce in the runtime data');

  const references = await ctx.references.list();
  const failures = appraise(verified, ctx.policy, valuesOf(references, 'measurement'), valuesOf(references, 'host-data'));
  if (failures.length > 0 && ctx.policy.enforcement === 'deny') throw failures[0]!;

  const uvm = uvmEndorsementClaims(request.uvmEndorsements ?? [], verified, ctx.policy, ctx.trustedUvmIssuers ?? [], ctx.now());
  const compliant = uvm.endorsed ? UVM_COMPLIANT_STATUS : ctx.policy.compliantStatus;
  const claims: Record<string, unknown> = {
    'x-ms-ver': '1.0',
    'x-ms-attestation-type': 'sevsnpvm',
    'x-ms-compliance-status': failures.length === 0 ? compliant : NON_COMPLIANT_STATUS,
    'x-ms-policy-hash': policyHash(ctx.policy.text),
    ...sevSnpClaims(verified),
    ...uvm.claims,
  };
  if (runtime.claim !== undefined) claims['x-ms-runtime'] = runtime.claim;
  if (request.initTimeData?.dataType === 'JSON') {
    let inittime: unknown;
    try {
      inittime = JSON.parse(request.initTimeData.data.toString('utf8'));
    } catch {
      throw new InvalidRequest('initTimeData is declared JSON but does not parse', { field: 'initTimeData.data' });
    }
    if (nestsDeeperThan(inittime, MAX_RUNTIME_DEPTH)) throw new InvalidRequest('initTimeData nests too deeply', { field: 'initTimeData.data' });
    claims['x-ms-inittime'] = inittime;
  }
  if (runtime.nonce !== undefined) claims['x-skr-challenge-verified'] = true;
  if (request.nonce !== undefined) claims.nonce = request.nonce;
  if (failures.length > 0) claims['x-skr-compliance-failures'] = failures.map((f) => f.code);
  return { verified, claims };
}

/** What appraising evidence bound by another protocol needs: no challenges (that protocol keeps its own) and no UVM endorsers. */
export type BoundAppraisalContext = Pick<AttestContext, 'now' | 'policy' | 'references' | 'trustedRoots' | 'revocation'>;

/**
 * Verifies and appraises SEV-SNP evidence whose REPORT_DATA another protocol defines (the key
 * broker's SHA-384 of canonical runtime data, src/kbs): the chain, signature, appraisal policy
 * and reference values are checked exactly as for `/attest/SevSnpVm`; only the expected
 * REPORT_DATA comes from the caller. Returns the SEV-SNP claims and the compliance verdict.
 */
export async function appraiseBoundEvidence(evidence: Evidence, expectedReportData: Buffer, ctx: BoundAppraisalContext): Promise<Appraisal> {
  const verified = await verifyReport(evidence, {
    now: ctx.now(),
    trustedRoots: ctx.trustedRoots,
    ...(ctx.revocation ? { checkRevocations: ctx.revocation.check, crls: ctx.revocation.crls } : {}),
  });
  if (!expectedReportData.equals(verified.report.reportData)) {
    throw new RuntimeDataMismatch('REPORT_DATA does not commit to the runtime data', {
      expected: expectedReportData.toString('hex'),
      actual: verified.report.reportData.toString('hex'),
    });
  }
  const references = await ctx.references.list();
  const failures = appraise(verified, ctx.policy, valuesOf(references, 'measurement'), valuesOf(references, 'host-data'));
  if (failures.length > 0 && ctx.policy.enforcement === 'deny') throw failures[0]!;
  const claims: Record<string, unknown> = {
    'x-ms-attestation-type': 'sevsnpvm',
    'x-ms-compliance-status': failures.length === 0 ? ctx.policy.compliantStatus : NON_COMPLIANT_STATUS,
    'x-ms-policy-hash': policyHash(ctx.policy.text),
    ...sevSnpClaims(verified),
  };
  if (failures.length > 0) claims['x-skr-compliance-failures'] = failures.map((f) => f.code);
  return { verified, claims };
}

/** Policy and reference values; every failure, so a report-only policy can list them. */
function appraise(verified: VerifiedReport, policy: AppraisalPolicy, measurements: string[], hostData: string[]): SkrError[] {
  const failures: SkrError[] = checkReport(verified, {
    forbidDebug: policy.forbidDebug,
    vmpl: policy.vmpl,
    minimumTcb: policy.minimumTcb,
    measurements: measurements.length > 0 ? measurements.map((m) => Buffer.from(m, 'hex')) : undefined,
  });
  if (hostData.length > 0 && !hostData.includes(verified.report.hostData.toString('hex'))) {
    failures.push(new HostDataNotAllowed('host_data is not a registered reference value', hostData, verified.report.hostData.toString('hex')));
  }
  if (policy.products && !policy.products.includes(verified.product)) {
    failures.push(new ProductNotAllowed(`${verified.product} is not an accepted product`, policy.products, verified.product));
  }
  return failures;
}
