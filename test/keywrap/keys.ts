import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

export const rsaKeyPair = (bits: number) => generate('rsa', { modulusLength: bits }) as Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;
export const ecPrivateKey = async (namedCurve: string) => (await (generate('ec', { namedCurve }) as Promise<{ privateKey: KeyObject }>)).privateKey;

/** The hash node's RSA-OAEP option takes for each enc, written out here independently of src/keywrap. */
export const OAEP_HASH = { CKM_RSA_AES_KEY_WRAP: 'sha1', RSA_AES_KEY_WRAP_256: 'sha256', RSA_AES_KEY_WRAP_384: 'sha384' } as const;
export const ENCS = Object.keys(OAEP_HASH) as (keyof typeof OAEP_HASH)[];

/** The error `fn` throws (undefined if it returns), for toMatchObject on code and details. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
