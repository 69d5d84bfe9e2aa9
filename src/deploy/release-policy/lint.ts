import { isLoopback } from '../../lib/endpoint';
import { ALLOW_ALL_HOSTDATA } from '../allow-all';
import type { Finding } from '../finding';
import { CLAIM_COMPLIANCE, CLAIM_DEBUGGABLE, CLAIM_HOSTDATA, CLAIM_VMPL, COMPLIANT_UVM, HOSTDATA_PATTERN, RELEASE_POLICY_VERSION, ZERO_HOSTDATA } from './claims';

export interface ReleasePolicyLint {
  ok: boolean;
  findings: Finding[];
}

/** For each claim a condition cannot hold without: the values it may then take. */
type Requirements = Map<string, Set<string>>;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

/**
 * Key Vault releases when ANY authority branch holds, so a policy is as weak as its weakest
 * branch: each one must, on every path through its nested allOf/anyOf, pin host_data to real
 * ccePolicy hashes, VMPL 0, a non-debuggable guest, and (advisory) an Azure-compliant UVM.
 */
export function lintReleasePolicy(policy: unknown): ReleasePolicyLint {
  const findings: Finding[] = [];
  const error = (code: string, message: string, path: string) => findings.push({ severity: 'error', code, message, path });
  const warning = (code: string, message: string, path: string) => findings.push({ severity: 'warning', code, message, path });

  if (!isRecord(policy)) {
    error('policy_invalid', 'a release policy is a JSON object', '');
    return { ok: false, findings };
  }
  if (policy.version === undefined) error('version_missing', `version is missing (Managed HSM refuses that; use "${RELEASE_POLICY_VERSION}")`, 'version');
  else if (policy.version !== RELEASE_POLICY_VERSION) error('version_unknown', `version ${JSON.stringify(policy.version)} is not the documented "${RELEASE_POLICY_VERSION}"`, 'version');

  if (!Array.isArray(policy.anyOf) || policy.anyOf.length === 0) {
    error('policy_invalid', 'anyOf must be a non-empty array of authorities', 'anyOf');
    return { ok: false, findings };
  }

  /** Requirements of one condition; undefined when it is malformed (already reported). */
  function requirements(condition: unknown, path: string): Requirements | undefined {
    if (!isRecord(condition)) {
      error('policy_invalid', 'a condition is an object', path);
      return undefined;
    }
    if (typeof condition.claim === 'string') {
      if ('equals' in condition) {
        if (!isScalar(condition.equals)) error('policy_invalid', 'equals takes a string, number or boolean', path);
        return new Map([[condition.claim, new Set([String(condition.equals)])]]);
      }
      if (condition.condition === 'equals' && isScalar(condition.value)) {
        warning('legacy_condition', 'the preview {"condition":"equals","value":...} form; write {"equals":...}', path);
        return new Map([[condition.claim, new Set([String(condition.value)])]]);
      }
      // exists, notEquals and the ordering operators pin no value.
      return new Map();
    }
    const hasAll = Array.isArray(condition.allOf);
    const hasAny = Array.isArray(condition.anyOf);
    if (hasAll === hasAny) {
      error('policy_invalid', 'a condition needs a claim, or exactly one of allOf / anyOf', path);
      return undefined;
    }
    const key = hasAll ? 'allOf' : 'anyOf';
    const children = (condition[key] as unknown[]).map((c, i) => requirements(c, `${path}.${key}[${i}]`));
    if (children.length === 0) {
      error('policy_invalid', `${key} is empty`, `${path}.${key}`);
      return undefined;
    }
    if (children.some((c) => c === undefined)) return undefined;
    return hasAll ? allOf(children as Requirements[]) : anyOf(children as Requirements[]);
  }

  policy.anyOf.forEach((branch, i) => {
    const path = `anyOf[${i}]`;
    if (!isRecord(branch) || typeof branch.authority !== 'string') {
      error('policy_invalid', 'each anyOf entry names an authority', path);
      return;
    }
    if (!isAttestationAuthority(branch.authority)) error('authority_invalid', 'authority must be the https URL of the attestation service', `${path}.authority`);
    const { authority, ...condition } = branch;
    const required = requirements(condition, path);
    if (!required) return;

    const hostdata = required.get(CLAIM_HOSTDATA);
    if (!hostdata) {
      error('hostdata_missing', `${CLAIM_HOSTDATA} is not required: any confidential container group attested by ${authority} gets the key`, path);
    } else {
      for (const value of hostdata) {
        const allowAll = ALLOW_ALL_HOSTDATA.get(value.toLowerCase());
        if (allowAll) error('hostdata_allow_all', `host_data ${value} is the allow-all policy (${allowAll}): any container can run there`, path);
        else if (value.toLowerCase() === ZERO_HOSTDATA) {
          warning('hostdata_zero', 'host_data all zeros is what a VM launched without host data reports (an Azure CVM, most non-ACI guests): it binds no workload', path);
        }
        else if (!HOSTDATA_PATTERN.test(value)) error('hostdata_malformed', `host_data ${JSON.stringify(value)} is not 64 lowercase hex digits, so it never matches`, path);
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
  });
  return { ok: !findings.some((f) => f.severity === 'error'), findings };
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

function isAttestationAuthority(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
  } catch {
    return false;
  }
}
