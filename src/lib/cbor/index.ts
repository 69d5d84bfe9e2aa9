/** CBOR as COSE uses it: a strict decoder and a preferred-serialisation encoder. */
export { decodeCbor, isCborTagged, type CborValue, type CborTagged } from './decode';
export { encodeCbor } from './encode';
