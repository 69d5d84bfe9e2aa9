import type { RefusalGate } from '../../lib/refusal-gate';
import type { AuditLog } from '../audit';
import type { RoleAssignments } from '../auth/rbac';
import type { TokenVerifier } from '../../oidc';
import type { KmsCore } from '../operations/core';
import type { ReleaseFunction } from '../release-context';
import type { BundleContext } from '../wire/bundle';

/** Everything the HTTP layer needs. */
export interface KmsHttpContext {
  core: KmsCore;
  rbac: RoleAssignments;
  audit: AuditLog;
  /** Rate limit and record of refused requests, per caller. */
  refusals: RefusalGate;
  verifier: TokenVerifier;
  /** Token audiences accepted (Key Vault's and Managed HSM's by default). */
  audiences: string[];
  /** The `authorization` of the 401 challenge: where clients get tokens. */
  authority: string;
  /** The `resource` of the 401 challenge. */
  resource: string;
  bundle: BundleContext;
  /** The admin API's bearer secret. */
  adminToken: string;
  bodyLimit: string;
  release: ReleaseFunction;
}
