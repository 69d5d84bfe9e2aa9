import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NativeAddonUnavailable } from '../../errors';

/** What one report ioctl brought back, unjudged: rc and errno of the syscall, exitinfo2 split in two, the MSG_REPORT_RSP header. */
export interface NativeReportResult {
  rc: number;
  errno: number;
  /** SEV firmware status (exitinfo2 low half; the 5.15 driver's error word). */
  fwError: number;
  /** GHCB VMM error (exitinfo2 high half; always 0 on the 5.15 driver). */
  vmmError: number;
  /** MSG_REPORT_RSP status: non-zero when the firmware refused the request itself. */
  status: number;
  reportSize: number;
  /** The 0x4A0 report bytes, present only when rc and status are both 0. */
  report?: Buffer;
}

export interface NativeExtReportResult extends NativeReportResult {
  /** certs_len after the call: the host's required size when it answered INVALID_LEN. */
  certsLen: number;
  /** The page-padded certificate buffer, present when rc is 0. */
  certs?: Buffer;
}

/** The surface of build/Release/sevguest.node (src/snp/native/sevguest.cc). Device failures resolve; only bad arguments throw. */
export interface SevGuestAddon {
  open(path: string): Promise<{ fd: number; errno: number }>;
  close(fd: number): Promise<{ rc: number; errno: number }>;
  getReport(fd: number, userData: Uint8Array, vmpl: number): Promise<NativeReportResult>;
  getExtReport(fd: number, userData: Uint8Array, vmpl: number, certsLen: number): Promise<NativeExtReportResult>;
  getLegacyReport(fd: number, userData: Uint8Array, vmpl: number): Promise<NativeReportResult>;
  /** The largest certificate buffer the addon will allocate. */
  maxCertsLen: number;
}

const ADDON_FUNCTIONS = ['open', 'close', 'getReport', 'getExtReport', 'getLegacyReport'] as const;

/** The directory holding package.json: the same from src/snp/native (ts-jest) and dist/snp/native (tsc output). */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** Where node-gyp puts the addon (binding.gyp target `sevguest`). */
export const ADDON_PATH = join(packageRoot(__dirname), 'build', 'Release', 'sevguest.node');

let loaded: SevGuestAddon | undefined;

/** Loads the addon once per process; a missing or foreign file is a typed error, tried again on the next call. */
export function loadSevGuestAddon(): SevGuestAddon {
  if (loaded) return loaded;
  let addon: Partial<SevGuestAddon>;
  try {
    // A .node file can only be loaded by require, and only from a path resolved at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node addon is loaded by its path at run time
    addon = require(ADDON_PATH) as Partial<SevGuestAddon>;
  } catch (err) {
    throw new NativeAddonUnavailable(ADDON_PATH, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  const missing = ADDON_FUNCTIONS.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0 || typeof addon.maxCertsLen !== 'number') {
    throw new NativeAddonUnavailable(ADDON_PATH, `it lacks ${missing.join(', ') || 'maxCertsLen'}`);
  }
  loaded = addon as SevGuestAddon;
  return loaded;
}
