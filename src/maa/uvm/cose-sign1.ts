import { CborMalformed, UvmEndorsementMalformed } from '../../errors';
import { decodeCbor, encodeCbor, isCborTagged, type CborValue } from '../../lib/cbor';

/**
 * A COSE_Sign1 message (RFC 9052 §4.2), tag 18 or untagged: the protected header kept as the
 * exact bytes the signature covers, and the decoded headers.
 */
export interface CoseSign1 {
  protectedBytes: Buffer;
  protectedHeader: Map<CborValue, CborValue>;
  unprotectedHeader: Map<CborValue, CborValue>;
  payload: Buffer;
  signature: Buffer;
}

const COSE_SIGN1_TAG = 18;

function malformed(message: string): never {
  throw new UvmEndorsementMalformed(message);
}

export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  let message: CborValue;
  try {
    message = decodeCbor(bytes);
  } catch (error) {
    if (error instanceof CborMalformed) malformed(`the endorsement is not CBOR: ${error.message}`);
    throw error;
  }
  if (isCborTagged(message)) {
    if (message.tag !== COSE_SIGN1_TAG) malformed(`the endorsement has CBOR tag ${String(message.tag)}, not COSE_Sign1 (18)`);
    message = message.value;
  }
  if (!Array.isArray(message) || message.length !== 4) malformed('a COSE_Sign1 is an array of four items');
  const [protectedBytes, unprotectedHeader, payload, signature] = message;
  if (!Buffer.isBuffer(protectedBytes)) malformed('the COSE protected header is not a byte string');
  if (!(unprotectedHeader instanceof Map)) malformed('the COSE unprotected header is not a map');
  // A detached payload (nil) is not how UVM reference info is sent.
  if (!Buffer.isBuffer(payload)) malformed('the COSE payload is not an attached byte string');
  if (!Buffer.isBuffer(signature)) malformed('the COSE signature is not a byte string');
  let protectedHeader: CborValue;
  try {
    protectedHeader = protectedBytes.length === 0 ? new Map() : decodeCbor(protectedBytes);
  } catch (error) {
    if (error instanceof CborMalformed) malformed(`the COSE protected header is not CBOR: ${error.message}`);
    throw error;
  }
  if (!(protectedHeader instanceof Map)) malformed('the COSE protected header is not a map');
  return { protectedBytes, protectedHeader, unprotectedHeader, payload, signature };
}

/** Sig_structure for COSE_Sign1 with empty external AAD: what the signer signed. */
export function sign1ToBeSigned(protectedBytes: Buffer, payload: Buffer): Buffer {
  return encodeCbor(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
}
