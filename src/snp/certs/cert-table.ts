import { certificatesOf } from '../abi/cert-table';
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
      const { vek, chain } = certificatesOf(bytes, request.kind);
      if (!vek) throw new Error(`the certificate table has no ${request.kind} entry`);
      // The ARK from the table is passed on only for the verifier to compare with its pinned one.
      return { vek, chain };
    },
  };
}
