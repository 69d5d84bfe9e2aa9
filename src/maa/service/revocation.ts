import { createHttpGetter } from '../../lib/http-getter';
import { createCrlSource, type HttpGetter, type KdsOptions } from '../../snp';
import type { Revocation } from './attest';

export interface RevocationSettings {
  /** CRL files' contents (DER or PEM). Given any, the verifier is offline: it fetches no CRL. */
  crlFiles: Uint8Array[];
  /** AMD KDS (default kdsintf.amd.com) for genuine chains' CRLs when no file is given. */
  kds?: KdsOptions;
  /** How KDS is asked; default the shared retrying client. */
  http?: HttpGetter;
  now?: () => Date;
}

/**
 * The verifier's revocation check. Genuine AMD chains are always checked: against the CRL files
 * when any are given (offline; a product without a file fails closed), else against KDS's CRLs,
 * cached until their nextUpdate. A configured root (the virtual ARK) has no KDS and no CRL
 * unless its operator minted one, so its chains are checked only when a CRL file for that ARK
 * is given.
 */
export function verifierRevocation(settings: RevocationSettings): Revocation {
  const offline = settings.crlFiles.length > 0;
  const source = createCrlSource({
    files: settings.crlFiles,
    ...(offline ? {} : { kds: settings.kds ?? {} }),
    ...(offline ? {} : { http: settings.http ?? createHttpGetter() }),
    ...(settings.now ? { now: settings.now } : {}),
  });
  return {
    check: (request) => request.genuine || source.coversArk(request.ark),
    crls: source.get,
  };
}
