import { createHash } from 'node:crypto';
import { ALLOW_ALL_HOSTDATA } from './allow-all';

export type CcePolicyKind = 'rego' | 'legacy-json' | 'unknown';

export interface CcePolicy {
  /** SHA-256 hex of the decoded policy: the SNP HOST_DATA and MAA `x-ms-sevsnpvm-hostdata`. */
  hostdata: string;
  kind: CcePolicyKind;
  /** Admits any container: a known allow-all hash, `allow_all: true`, or open-door Rego rules. */
  allowAll: boolean;
  /** Generated with `--debug-mode`: shell exec, stack dumps, runtime logging into the TEE. */
  debugMode: boolean;
}

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** ccePolicy is standard padded base64; anything else would hash to a different host_data. */
export function decodeCcePolicyBase64(ccePolicy: string): Buffer | undefined {
  return ccePolicy.length > 0 && STANDARD_BASE64.test(ccePolicy) ? Buffer.from(ccePolicy, 'base64') : undefined;
}

function hostdataOf(decoded: Uint8Array): string {
  return createHash('sha256').update(decoded).digest('hex');
}

/** Rego may open with comments; `package policy` must be its first statement. */
const REGO_PACKAGE = /^(?:\s*#[^\n]*\n)*\s*package\s+policy\s*(?:\n|$)/;
// The open-door form grants the enforcement points outright instead of asking data.framework.
const OPEN_DOOR = /^\s*(?:mount_device|create_container)\s*:=\s*\{\s*"allowed"\s*:\s*true\b/m;
const DEBUG_FLAGS = /^\s*allow_(?:dump_stacks|runtime_logging|properties_access)\s*:=\s*true\b/m;

export function classifyCcePolicy(decoded: Buffer): CcePolicy {
  const hostdata = hostdataOf(decoded);
  const text = decoded.toString('utf8');
  let kind: CcePolicyKind = 'unknown';
  let allowAll = ALLOW_ALL_HOSTDATA.has(hostdata);
  if (REGO_PACKAGE.test(text)) {
    kind = 'rego';
    allowAll ||= OPEN_DOOR.test(text);
  } else {
    try {
      const json = JSON.parse(text) as unknown;
      if (json !== null && typeof json === 'object') {
        kind = 'legacy-json';
        allowAll ||= (json as Record<string, unknown>).allow_all === true;
      }
    } catch {
      // neither Rego nor JSON: kind stays unknown
    }
  }
  return { hostdata, kind, allowAll, debugMode: kind === 'rego' && DEBUG_FLAGS.test(text) };
}
