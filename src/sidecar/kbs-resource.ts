import { KbsAttestationRefused, KbsNotConfigured, UpstreamFailed } from '../errors';
import type { KbsClient } from '../kbs';

/**
 * guest-components' confidential-data-hub resource route (`GET /cdh/resource/{repo}/{type}/{tag}`)
 * served from the configured KBS: the sidecar attests with the device's evidence, reuses the
 * session's token until it nears expiry, and answers the resource's bytes. A policy denial
 * keeps its 403 and explanation; a KBS refusing this TEE's evidence is the KBS's failure from
 * the sibling's side (502 `upstream_failed`, the KBS's detail in the message), not a 401 that
 * would ask the sibling for credentials it does not have.
 */
export async function kbsResource(client: KbsClient | undefined, path: string): Promise<Buffer> {
  if (!client) throw new KbsNotConfigured();
  try {
    return await client.getResource(path);
  } catch (error) {
    if (error instanceof KbsAttestationRefused) {
      throw new UpstreamFailed('kbs', error.message, { upstreamStatus: 401, upstreamCode: error.details?.cause });
    }
    throw error;
  }
}
