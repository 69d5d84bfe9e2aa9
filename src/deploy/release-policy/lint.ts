import { ReleasePolicyInvalid } from '../../errors';
import { canonicalAuthority, DOCUMENTED_POLICY_VERSION, parseReleasePolicyDraft, pinnedValue, type Condition, type ReleasePolicyDraft, type UnsupportedClaimCondition } from '../../kms/policy';
import { isLoopback } from '../../lib/endpoint';
import { ALLOW_ALL_HOSTDATA } from '../allow-all';
import type { Finding } from '../finding';
import { CLAIM_COMPLIANCE, CLAIM_DEBUGGABLE, CLAIM_HOSTDATA, CLAIM_VMPL, COMPLIANT_UVM, HOSTDATA_PATTERN, ZERO_HOSTDATA } from './pinned-claims';

export interface ReleasePolicyLint {
  ok: boolean;
  findings: Finding[];
}

/** For each claim a condition cannot hold without: the values it may then take. */
type Requirements = Map<string, Set<string>>;

/**
 * Key Vault releases when ANY authority branch holds, so a policy is as weak as its weakest
 * branch: each one must, on every path through its nested allOf/anyOf, pin host_data to real
 * ccePolicy hashes, VMPL 0, a non-debuggable guest, and (advisory) an Azure-compliant UVM.
 * The policy is read by the KMS's own grammar, as a draft: a version or authority the KMS refuses
 * is judged by lint's stricter rules, an operator it refuses is reported with the KMS's reason,
 * and the rest is still read. A structural error is the one finding.
 */
export function lintReleasePolicy(policy: unknown): ReleasePolicyLint {
  const findings: Finding[] = [];
  const error = (code: string, message: string, path: string) => findings.push({ severity: 'error', code, message, path });
  const warning = (code: string, message: string, path: string) => findings.push({ severity: 'warning', code, message, path });

  let draft: ReleasePolicyDraft;
  try {
    draft = parseReleasePolicyDraft(policy);
  } catch (failure) {
    if (!(failure instanceof ReleasePolicyInvalid)) throw failure;
    error('policy_invalid', failure.reason, findingPath(failure.path));
    return { ok: false, findings };
  }
  if (draft.version === undefined) error('version_missing', `version is missing (Managed HSM refuses that; use "${DOCUMENTED_POLICY_VERSION}")`, 'version');
  else if (draft.version !== DOCUMENTED_POLICY_VERSION) error('version_unknown', `version ${JSON.stringify(draft.version)} is not the documented "${DOCUMENTED_POLICY_VERSION}"`, 'version');

  /**
   * Requirements of one condition: the values it pins, whatever its operator. An operator the
   * KMS refuses is the KMS's error; the preview spelling is worth a warning.
   */
  function requirements(condition: Condition<UnsupportedClaimCondition>): Requirements {
    if (condition.kind === 'unsupported_claim') {
      error('policy_invalid', condition.refusal.reason, findingPath(condition.refusal.path));
      return new Map();
    }
    if (condition.kind !== 'claim') return (condition.kind === 'allOf' ? allOf : anyOf)(condition.conditions.map(requirements));
    if (condition.preview) {
      warning('legacy_condition', `the preview {"condition":"${condition.operator}","value":...} form; write {"${condition.operator}":...}`, findingPath(condition.path));
    }
    const pinned = pinnedValue(condition);
    return pinned === undefined ? new Map() : new Map([[condition.claim, new Set([pinned])]]);
  }

  for (const rule of draft.anyOf) {
    const { authority } = rule;
    const path = findingPath(rule.path);
    if (!isAttestationAuthority(authority)) error('authority_invalid', 'authority must be the https URL of the attestation service', `${path}.authority`);
    const required = requirements(rule);

    const hostdata = required.get(CLAIM_HOSTDATA);
    if (!hostdata) {
      error('hostdata_missing', `${CLAIM_HOSTDATA} is not required: any confidential container group attested by ${authority} gets the key`, path);
    } else {
      for (const value of hostdata) {
        const allowAll = ALLOW_ALL_HOSTDATA.get(value.toLowerCase());
        if (allowAll) error('hostdata_allow_all', `host_data ${value} is the allow-all policy (${allowAll}): any container can run there`, path);
        else if (value.toLowerCase() === ZERO_HOSTDATA) {
          warning('hostdata_zero', 'host_data all zeros is what a VM launched without host data reports (an Azure CVM, most non-ACI guests): it binds no workload', path);
        } else if (!HOSTDATA_PATTERN.test(value)) error('hostdata_malformed', `host_data ${JSON.stringify(value)} is not 64 lowercase hex digits, so it never matches`, path);
      }
    }
    const vmpl = required.get(CLAIM_VMPL);
    if (!vmpl) error('vmpl_missing', `${CLAIM_VMPL} is not required to be 0`, path);
    else if ([...vmpl].some((v) => v !== '0')) error('vmpl_not_zero', `${CLAIM_VMPL} may be ${[...vmpl].join(' or ')}; require 0`, path);
    const debuggable = required.get(CLAIM_DEBUGGABLE);
    if (!debuggable) error('debug_claim_missing', `${CLAIM_DEBUGGABLE} is not required to be false`, path);
    else if ([...debuggable].some((v) => v !== 'false')) error('debuggable_allowed', `${CLAIM_DEBUGGABLE} may be true: a debuggable guest's memory is readable by the host`, path);
    const compliance = required.get(CLAIM_COMPLIANCE);
    if (!compliance || [...compliance].some((v) => v !== COMPLIANT_UVM)) {
      warning('compliance_claim_missing', `${CLAIM_COMPLIANCE} is not required to be ${COMPLIANT_UVM}`, path);
    }
  }
  return { ok: !findings.some((f) => f.severity === 'error'), findings };
}

/** Findings name paths as `anyOf[0].allOf[1]`; the grammar's paths start at the document, `$`. */
function findingPath(grammarPath: string): string {
  return grammarPath.replace(/^\$\.?/, '');
}

/** All must hold: every child's requirement applies, and repeated claims narrow. */
function allOf(children: Requirements[]): Requirements {
  const out: Requirements = new Map();
  for (const child of children) {
    for (const [claim, values] of child) {
      const before = out.get(claim);
      out.set(claim, before ? new Set([...before].filter((v) => values.has(v))) : new Set(values));
    }
  }
  return out;
}

/** One must hold: a claim is required only if every alternative requires it. */
function anyOf(children: Requirements[]): Requirements {
  const out: Requirements = new Map();
  for (const [claim] of children[0]) {
    if (children.every((c) => c.has(claim))) out.set(claim, new Set(children.flatMap((c) => [...(c.get(claim) as Set<string>)])));
  }
  return out;
}

/** An issuer URL the KMS can match (the grammar's test), and https unless it is on this machine. */
function isAttestationAuthority(text: string): boolean {
  if (canonicalAuthority(text) === undefined) return false;
  const url = new URL(text);
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
}
