import { InvalidArgument } from '../../errors';
import { DOCUMENTED_POLICY_VERSION } from '../../kms/policy';
import { normaliseEndpoint } from '../../lib/endpoint';
import { CLAIM_COMPLIANCE, CLAIM_DEBUGGABLE, CLAIM_HOSTDATA, CLAIM_VMPL, COMPLIANT_UVM, HOSTDATA_PATTERN } from './pinned-claims';

export interface ClaimCondition {
  claim: string;
  equals: string;
}

export type Condition = ClaimCondition | { anyOf: Condition[] } | { allOf: Condition[] };

export interface ReleasePolicy {
  version: string;
  anyOf: { authority: string; allOf: Condition[] }[];
}

/**
 * A release policy that releases the key only to the named confidential container groups:
 * host_data is one of the given ccePolicy hashes (several while a rolling upgrade runs), the
 * UVM is Azure-compliant, the guest is not debuggable and runs at VMPL 0. Values are strings,
 * as in the policies the Microsoft sidecar's tooling installs; Key Vault compares leniently.
 */
export function createReleasePolicy(maaEndpoint: string, hostdata: string[]): ReleasePolicy {
  const authority = normaliseEndpoint(maaEndpoint, 'maa');
  const values = [...new Set(hostdata.map((h) => h.toLowerCase()))];
  if (values.length === 0) throw new InvalidArgument('at least one --hostdata is required', { flag: 'hostdata' });
  const bad = values.find((h) => !HOSTDATA_PATTERN.test(h));
  if (bad !== undefined) throw new InvalidArgument('--hostdata must be 64 hex digits (SHA-256 of the ccePolicy)', { flag: 'hostdata' });

  const pins = values.map((h): ClaimCondition => ({ claim: CLAIM_HOSTDATA, equals: h }));
  return {
    version: DOCUMENTED_POLICY_VERSION,
    anyOf: [
      {
        authority,
        allOf: [pins.length === 1 ? pins[0] : { anyOf: pins }, { claim: CLAIM_COMPLIANCE, equals: COMPLIANT_UVM }, { claim: CLAIM_DEBUGGABLE, equals: 'false' }, { claim: CLAIM_VMPL, equals: '0' }],
      },
    ],
  };
}
