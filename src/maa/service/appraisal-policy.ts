import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgument } from '../../errors';
import { encodeBase64Url } from '../../lib/base64url';
import { isProduct, isVmpl, MAX_VMPL, type Product, type Tcb } from '../../snp';
import { ACI_UVM_ISSUER, parseUvmIssuers, uvmIssuer, type UvmIssuer } from '..';

/**
 * The verifier's appraisal policy, read from a JSON file. Empty (the default) it issues a
 * token for every genuine report, as MAA's default policy does, but says `azure-compliant-uvm`
 * only when a UVM endorsement from a trusted issuer verified (see UVM_COMPLIANT_STATUS).
 * Reference values that change at run time (measurements, host data) live in the
 * reference-value store instead.
 */
export interface AppraisalPolicy {
  /** Refuse evidence without a live challenge nonce. */
  requireFreshness: boolean;
  forbidDebug: boolean;
  /** Exact VMPL required. */
  vmpl?: number;
  /** Minimum REPORTED_TCB, component-wise. */
  minimumTcb?: Partial<Tcb>;
  /** Products accepted; all when absent. */
  products?: Product[];
  /** Refuse (deny) or issue a token marked non-compliant (report) when reference values fail. */
  enforcement: 'deny' | 'report';
  /** `x-ms-compliance-status` of compliant evidence without a verified UVM endorsement. */
  compliantStatus: string;
  /** Who may endorse a UVM (did:x509 and feed); default Microsoft's ACI signer. */
  trustedUvmIssuers: UvmIssuer[];
  /** The lowest UVM SVN (the endorsement's, not the report's GUEST_SVN) accepted. */
  minimumUvmSvn: number;
  /** The policy text `x-ms-policy-hash` is computed over. */
  text: string;
}

export const NON_COMPLIANT_STATUS = 'not-compliant';
/** MAA's status for a UVM whose signed endorsement checks out: issued only when one verified. */
export const UVM_COMPLIANT_STATUS = 'azure-compliant-uvm';
/** Genuine and within the policy, but no trusted UVM endorsement verified. */
export const UNENDORSED_STATUS = 'skr-unendorsed';
/**
 * ACI's scheme: production UVM SVNs start at 100 and anything lower is not to be trusted. The
 * scheme raises the floor over time (104 as of August 2026); raise minimumUvmSvn to follow it.
 */
export const DEFAULT_MINIMUM_UVM_SVN = 100;

const KEYS = new Set(['requireFreshness', 'forbidDebug', 'vmpl', 'minimumTcb', 'products', 'enforcement', 'compliantStatus', 'trustedUvmIssuers', 'minimumUvmSvn']);
const TCB_KEYS = new Set(['fmc', 'bootloader', 'tee', 'snp', 'microcode']);

function bad(message: string): never {
  throw new InvalidArgument(`appraisal policy: ${message}`);
}

/** Parses and validates a policy document; unknown keys are refused so a typo never loosens it. */
export function parseAppraisalPolicy(text: string): AppraisalPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad('must be a JSON object');
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!KEYS.has(key)) bad(`unknown key "${key}"`);
  const bool = (key: string) => {
    if (d[key] !== undefined && typeof d[key] !== 'boolean') bad(`${key} must be a boolean`);
    return d[key] === true;
  };
  const policy: AppraisalPolicy = {
    requireFreshness: bool('requireFreshness'),
    forbidDebug: bool('forbidDebug'),
    enforcement: 'deny',
    compliantStatus: UNENDORSED_STATUS,
    trustedUvmIssuers: [uvmIssuer(ACI_UVM_ISSUER.did, ACI_UVM_ISSUER.feed)],
    minimumUvmSvn: DEFAULT_MINIMUM_UVM_SVN,
    text,
  };
  if (d.vmpl !== undefined) {
    if (!isVmpl(d.vmpl)) bad(`vmpl must be 0..${MAX_VMPL}`);
    policy.vmpl = d.vmpl;
  }
  if (d.minimumTcb !== undefined) {
    const tcb = d.minimumTcb as Record<string, unknown>;
    if (typeof tcb !== 'object' || tcb === null) bad('minimumTcb must be an object');
    for (const [k, v] of Object.entries(tcb)) {
      if (!TCB_KEYS.has(k) || !Number.isInteger(v) || (v as number) < 0 || (v as number) > 255) bad(`minimumTcb.${k} must be 0..255`);
    }
    policy.minimumTcb = tcb as Partial<Tcb>;
  }
  if (d.products !== undefined) {
    if (!Array.isArray(d.products) || !d.products.every((p) => typeof p === 'string' && isProduct(p))) bad('products must list Milan, Genoa, Turin');
    policy.products = d.products as Product[];
  }
  if (d.enforcement !== undefined) {
    if (d.enforcement !== 'deny' && d.enforcement !== 'report') bad('enforcement must be "deny" or "report"');
    policy.enforcement = d.enforcement;
  }
  if (d.compliantStatus !== undefined) {
    if (typeof d.compliantStatus !== 'string' || d.compliantStatus.length === 0) bad('compliantStatus must be a string');
    if (d.compliantStatus === UVM_COMPLIANT_STATUS || d.compliantStatus === NON_COMPLIANT_STATUS)
      bad(`compliantStatus cannot be "${d.compliantStatus}": the verifier sets it only when its checks back it`);
    policy.compliantStatus = d.compliantStatus;
  }
  if (d.trustedUvmIssuers !== undefined) {
    try {
      policy.trustedUvmIssuers = parseUvmIssuers(d.trustedUvmIssuers, 'trustedUvmIssuers');
    } catch (error) {
      bad((error as Error).message);
    }
  }
  if (d.minimumUvmSvn !== undefined) {
    if (!Number.isSafeInteger(d.minimumUvmSvn) || (d.minimumUvmSvn as number) < 0) bad('minimumUvmSvn must be a non-negative integer');
    policy.minimumUvmSvn = d.minimumUvmSvn as number;
  }
  return policy;
}

export const DEFAULT_POLICY_TEXT = '{}';

export async function loadAppraisalPolicy(path: string | undefined): Promise<AppraisalPolicy> {
  if (!path) return parseAppraisalPolicy(DEFAULT_POLICY_TEXT);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidArgument(`appraisal policy ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  return parseAppraisalPolicy(text);
}

/** MAA's `x-ms-policy-hash`: b64url(SHA-256(UTF-8(b64url(UTF-8 policy text)))). */
export function policyHash(text: string): string {
  const encoded = encodeBase64Url(Buffer.from(text, 'utf8'));
  return encodeBase64Url(createHash('sha256').update(encoded, 'utf8').digest());
}
