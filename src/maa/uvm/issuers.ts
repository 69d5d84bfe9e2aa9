import { InvalidArgument } from '../../errors';
import { parseDidX509, type DidX509 } from './did-x509';

/** Who may endorse a UVM: the signer's did:x509 and the feed it signs for, both pinned. */
export interface UvmIssuer {
  did: DidX509;
  feed: string;
}

/**
 * Microsoft's signing identity for the Azure Container Instances utility VM (the Microsoft
 * Supply Chain RSA Root CA 2022, EKU ContainerPlat) and its feed, as the ACI relying-party
 * scheme publishes them.
 */
export const ACI_UVM_ISSUER = {
  did: 'did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2',
  feed: 'ContainerPlat-AMD-UVM',
} as const;

const MAX_FEED_LENGTH = 256;

export function uvmIssuer(did: string, feed: string): UvmIssuer {
  if (feed.length === 0 || feed.length > MAX_FEED_LENGTH) throw new InvalidArgument('a UVM endorsement feed is a non-empty string');
  return { did: parseDidX509(did), feed };
}

/** `[{"did": ..., "feed": ...}]` as an appraisal policy or a flag gives it. */
export function parseUvmIssuers(value: unknown, what: string): UvmIssuer[] {
  if (!Array.isArray(value)) throw new InvalidArgument(`${what} must be an array of {"did", "feed"}`);
  return value.map((entry, i) => {
    const e = entry as { did?: unknown; feed?: unknown };
    if (typeof entry !== 'object' || entry === null || typeof e.did !== 'string' || typeof e.feed !== 'string' || Object.keys(entry).length !== 2) {
      throw new InvalidArgument(`${what}[${i}] must be {"did": "did:x509:...", "feed": "..."}`);
    }
    return uvmIssuer(e.did, e.feed);
  });
}
