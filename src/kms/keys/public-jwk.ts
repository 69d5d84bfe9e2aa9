import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyMaterial, PublicJwk } from '../model';
import { curveFromJwk } from './curves';

/** The public JWK members Key Vault returns for a key: n/e, crv/x/y, or none for oct. */
export function publicJwkOf(material: KeyMaterial): PublicJwk {
  if (material.kind === 'oct') return {};
  const jwk = createPublicKey(createPrivateKey({ key: material.pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  if (material.kind === 'RSA') return { n: jwk.n!, e: jwk.e! };
  return { crv: curveFromJwk(jwk.crv!) ?? jwk.crv!, x: jwk.x!, y: jwk.y! };
}
