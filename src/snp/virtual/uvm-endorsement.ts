import { createHash, createPublicKey, generateKeyPair, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeCbor, encodeCbor, isCborTagged, type CborValue } from '../../lib/cbor';
import { basicConstraintsExtension, buildCertificate, keyUsageExtension, type DistinguishedName } from '../x509/cert-builder';
import { derOid, derSequence } from '../x509/der-writer';
import { generateP384Key } from './keys';
import { addYears, randomSerial } from './mint-vek';
import type { KeyedCertificate } from './types';

/**
 * The virtual UVM's endorsement, shaped like ACI's reference info: a COSE_Sign1 over the JSON
 * `{guestsvn, launchmeasurement}` whose x5chain runs from a signer certificate carrying the
 * ContainerPlat EKU to this state's own root. Its did:x509 names that root, so a verifier
 * accepts it only when told to trust this state, as it does the virtual ARK.
 */

/** The EKU of Microsoft's ContainerPlat UVM signer; the root fingerprint, not the EKU, tells identities apart. */
export const UVM_SIGNER_EKU = '1.3.6.1.4.1.311.76.59.1.2';
export const VIRTUAL_UVM_FEED = 'skr-virtual-AMD-UVM';
/** The first production UVM SVN in ACI's scheme, so the default minimum accepts the virtual UVM. */
export const VIRTUAL_UVM_SVN = 100;

const EKU_OID = '2.5.29.37';
const COSE = { alg: 1, contentType: 3, x5chain: 33, es384: -35, sign1Tag: 18, epochTag: 1 } as const;
const DAY_MS = 24 * 3600 * 1000;
const VALIDITY_YEARS = 25;

export interface VirtualUvmSigner {
  root: X509Certificate;
  signer: KeyedCertificate;
}

function name(cn: string): DistinguishedName {
  return [
    ['O', 'skr virtual device'],
    ['CN', cn],
  ];
}

function generateRsa3072(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 3072 }, (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey)));
  });
}

/** A root (whose key is discarded once it has signed) and an ECDSA P-384 signer with the UVM EKU. */
export async function mintUvmSigner(now: Date): Promise<VirtualUvmSigner> {
  const [rootKey, signerKey] = await Promise.all([generateRsa3072(), generateP384Key()]);
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = addYears(notBefore, VALIDITY_YEARS);
  const rootName = name('skr virtual UVM root');
  const rootDer = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: rootName,
      subject: rootName,
      notBefore,
      notAfter,
      publicKey: rootKey,
      extensions: [keyUsageExtension(['keyCertSign', 'cRLSign']), basicConstraintsExtension(true)],
    },
    rootKey,
  );
  const signerDer = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: rootName,
      subject: name('skr virtual ContainerPlat'),
      notBefore,
      notAfter,
      publicKey: createPublicKey(signerKey),
      extensions: [keyUsageExtension(['digitalSignature']), { oid: EKU_OID, value: derSequence(derOid(UVM_SIGNER_EKU)) }],
    },
    rootKey,
  );
  const signer = new X509Certificate(signerDer);
  return { root: new X509Certificate(rootDer), signer: { der: signerDer, pem: signer.toString(), cert: signer, key: signerKey } };
}

/** The did:x509 of a virtual UVM root: what a verifier pins to trust this state's endorsements. */
export function virtualUvmIssuer(root: X509Certificate): { did: string; feed: string } {
  return { did: `did:x509:0:sha256:${createHash('sha256').update(root.raw).digest('base64url')}::eku:${UVM_SIGNER_EKU}`, feed: VIRTUAL_UVM_FEED };
}

/** A legacy-format endorsement of `measurement`, signed now with ES384. */
export function signUvmEndorsement(uvm: VirtualUvmSigner, measurement: Buffer, signingTime: Date): Buffer {
  const { did, feed } = virtualUvmIssuer(uvm.root);
  const protectedBytes = encodeCbor(
    new Map<CborValue, CborValue>([
      [COSE.alg, COSE.es384],
      [COSE.contentType, 'application/json'],
      [COSE.x5chain, [uvm.signer.der, Buffer.from(uvm.root.raw)]],
      ['iss', did],
      ['feed', feed],
      ['signingtime', { tag: COSE.epochTag, value: Math.floor(signingTime.getTime() / 1000) }],
    ]),
  );
  const payload = Buffer.from(
    JSON.stringify(
      {
        'x-ms-sevsnpvm-guestsvn': String(VIRTUAL_UVM_SVN),
        'x-ms-sevsnpvm-guestsvn-int': VIRTUAL_UVM_SVN,
        'x-ms-sevsnpvm-launchmeasurement': measurement.toString('hex'),
      },
      null,
      2,
    ),
  );
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
  const signature = sign('sha384', toBeSigned, { key: uvm.signer.key, dsaEncoding: 'ieee-p1363' });
  return encodeCbor({ tag: COSE.sign1Tag, value: [protectedBytes, new Map(), payload, signature] });
}

/** Whether a stored endorsement is this signer's and endorses `measurement`, so it need not be re-signed. */
export function endorsementIsCurrent(bytes: Buffer, uvm: VirtualUvmSigner, measurement: Buffer): boolean {
  try {
    const message = decodeCbor(bytes);
    const parts = isCborTagged(message) ? message.value : undefined;
    if (!Array.isArray(parts) || !Buffer.isBuffer(parts[0]) || !Buffer.isBuffer(parts[2])) return false;
    const header = decodeCbor(parts[0]);
    const chain = header instanceof Map ? header.get(COSE.x5chain) : undefined;
    if (!Array.isArray(chain) || !Buffer.isBuffer(chain[0]) || !chain[0].equals(uvm.signer.der)) return false;
    const payload = JSON.parse(parts[2].toString('utf8')) as Record<string, unknown>;
    return payload['x-ms-sevsnpvm-launchmeasurement'] === measurement.toString('hex');
  } catch {
    return false;
  }
}
