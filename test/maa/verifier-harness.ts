import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAppraisalPolicy } from '../../src/maa/service/appraisal-policy';
import { startVerifier, type RunningVerifier, type VerifierOptions } from '../../src/maa/service/server';

/** A verifier on 127.0.0.1 with its own state directory; plain HTTP unless `https` is asked for. */
export async function startTestVerifier(overrides: Partial<VerifierOptions> & { policyText?: string } = {}): Promise<RunningVerifier> {
  const { policyText, ...rest } = overrides;
  return startVerifier({
    stateDir: mkdtempSync(join(tmpdir(), 'skr-verifier-')),
    policy: parseAppraisalPolicy(policyText ?? '{}'),
    http: true,
    ...rest,
  });
}
