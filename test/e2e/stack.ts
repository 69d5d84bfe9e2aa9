import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { startDevStack, type RunningStack } from '../../src/dev/stack';

/** The embedded stack on free ports in a fresh state directory, and a KeyClient for its KMS as the officer (it manages keys too). */
export async function startTestStack(stateDir = mkdtempSync(join(tmpdir(), 'skr-e2e-'))): Promise<{ stack: RunningStack; keys: KeyClient }> {
  const stack = await startDevStack({ port: 0, stateDir });
  const keys = new KeyClient(stack.kms.url, stack.identity.officerCredential, {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: stack.kms.caPem },
  });
  return { stack, keys };
}
