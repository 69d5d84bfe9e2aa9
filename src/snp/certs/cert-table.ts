import { CERT_GUIDS, findCert, parseCertTable } from '../abi/cert-table';
import type { VekSource } from './source';

/**
 * The certificate table the host attached to an extended report (SNP_GET_EXT_REPORT certs or
 * configfs-tsm auxblob): the only place a VLEK comes from. `table` is a getter so the caller
 * can hand over whatever table its device returned most recently.
 */
export function certTableSource(table: Uint8Array | (() => Uint8Array | undefined)): VekSource {
  return {
    name: 'cert-table',
    async get(request) {
      const bytes = typeof table === 'function' ? table() : table;
      if (!bytes || bytes.length === 0) throw new Error('no certificate table');
      const entries = parseCertTable(bytes);
      const vek = findCert(entries, request.kind === 'VLEK' ? CERT_GUIDS.vlek : CERT_GUIDS.vcek);
      if (!vek) throw new Error(`the certificate table has no ${request.kind} entry`);
      // The ARK from the table is passed on only for the verifier to compare with its pinned one.
      const chain = [CERT_GUIDS.ask, CERT_GUIDS.ark].flatMap((guid) => findCert(entries, guid) ?? []);
      return { vek, chain };
    },
  };
}
