import { generateKeyPair, type KeyObject } from 'node:crypto';

/**
 * Key generation off the event loop (RSA-4096 takes seconds). Looked up at call time rather
 * than bound once through util.promisify, so tests can observe that loading generates nothing.
 */
function generate(type: 'rsa' | 'ec', options: { modulusLength: number } | { namedCurve: string }): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair(type as 'rsa', options as { modulusLength: number }, (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey)));
  });
}

export function generateRsa4096(): Promise<KeyObject> {
  return generate('rsa', { modulusLength: 4096 });
}

export function generateP384Key(): Promise<KeyObject> {
  return generate('ec', { namedCurve: 'P-384' });
}
