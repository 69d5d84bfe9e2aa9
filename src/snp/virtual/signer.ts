import { sign, type KeyObject } from 'node:crypto';
import { InvalidArgument } from '../../errors';
import { REPORT_SIZE, SIGNATURE_COMPONENT_SIZE, SIGNATURE_OFFSET, signatureFromP1363, SIGNED_LENGTH } from '../abi/report';

/**
 * Signs a report as the PSP does: ECDSA P-384 with SHA-384 over bytes 0x000–0x29F, R and S
 * written little-endian into the two 72-byte fields at 0x2A0. Returns a signed copy.
 *
 * The callback form of crypto.sign runs on libuv's thread pool, so signing does not block the
 * event loop and runs on every core; worker threads would add a hop for no more parallelism
 * (`npm run bench` prints the device's rate one at a time and with many in flight).
 */
export function signReport(unsigned: Uint8Array, vekKey: KeyObject): Promise<Buffer> {
  if (unsigned.length !== REPORT_SIZE) {
    return Promise.reject(new InvalidArgument(`a report is ${REPORT_SIZE} bytes, got ${unsigned.length}`, { field: 'report' }));
  }
  if (vekKey.type !== 'private' || vekKey.asymmetricKeyType !== 'ec' || vekKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    return Promise.reject(new InvalidArgument('the VEK key must be a P-384 private key', { field: 'key' }));
  }
  const report = Buffer.from(unsigned);
  return new Promise((resolve, reject) => {
    sign('sha384', report.subarray(0, SIGNED_LENGTH), { key: vekKey, dsaEncoding: 'ieee-p1363' }, (error, p1363) => {
      if (error) return reject(error);
      const { r, s } = signatureFromP1363(p1363);
      // Clear the whole signature area first: a caller may pass a report signed before.
      report.fill(0, SIGNATURE_OFFSET);
      r.copy(report, SIGNATURE_OFFSET);
      s.copy(report, SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE);
      return resolve(report);
    });
  });
}
