import { generateKeyPair as generateKeyPairCb, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyMaterial } from '../model';
import { CURVES, type CurveName } from './curves';

const generateKeyPair = promisify(generateKeyPairCb);

export type GenerateSpec = { family: 'RSA'; keySize: number; publicExponent: number } | { family: 'EC'; curve: CurveName } | { family: 'oct'; keySize: number };

const pkcs8 = (key: KeyObject) => key.export({ format: 'der', type: 'pkcs8' });

/** Fresh key material; RSA and EC are generated off the event loop. */
export async function generateMaterial(spec: GenerateSpec): Promise<KeyMaterial> {
  switch (spec.family) {
    case 'RSA': {
      const { privateKey } = await generateKeyPair('rsa', { modulusLength: spec.keySize, publicExponent: spec.publicExponent });
      return { kind: 'RSA', pkcs8: pkcs8(privateKey) };
    }
    case 'EC': {
      const { privateKey } = await generateKeyPair('ec', { namedCurve: CURVES[spec.curve].openssl });
      return { kind: 'EC', pkcs8: pkcs8(privateKey) };
    }
    case 'oct':
      return { kind: 'oct', raw: randomBytes(spec.keySize / 8) };
  }
}
