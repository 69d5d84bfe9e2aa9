export * from './vek';
export { readTlv, readSingle, children, decodeOid, TAG, type Tlv } from './der';
