import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidenceMalformed } from '../../errors';
import { parseThimCertification, thimBundle, type ThimCertification } from './thim';
import type { VekSource } from './source';

/**
 * The UVM security context Azure Container Instances (and Kata on AKS) hand a confidential
 * container: a directory of base64 files, with older deployments passing the same values in
 * environment variables. The environment is an option, never read from process.env here.
 */
export interface SecurityContextOptions {
  /** The directory; default: env UVM_SECURITY_CONTEXT_DIR, else a `security-context-*` directory under `searchRoot`, else Kata's. */
  dir?: string;
  /** The process environment, passed in explicitly. */
  env?: Record<string, string | undefined>;
  /** Where ACI mounts `security-context-<id>`; default `/`. */
  searchRoot?: string;
}

export interface SecurityContext {
  /** The directory read, if one was found. */
  dir?: string;
  /** host-amd-cert-base64: the host's THIM answer. */
  hostAmdCertificate?: ThimCertification;
  /** reference-info-base64 decoded: the COSE_Sign1 UVM endorsement, kept as bytes for /attest/combined and MAA. */
  referenceInfo?: Buffer;
  /** security-policy-base64 decoded: the confidential computing policy whose SHA-256 is HOST_DATA. */
  securityPolicy?: Buffer;
}

export const KATA_SECURITY_CONTEXT_DIR = '/opt/confidential-containers/share/kata-containers';

const FILES = {
  hostAmdCertificate: { file: 'host-amd-cert-base64', env: 'UVM_HOST_AMD_CERTIFICATE' },
  referenceInfo: { file: 'reference-info-base64', env: 'UVM_REFERENCE_INFO' },
  securityPolicy: { file: 'security-policy-base64', env: 'UVM_SECURITY_POLICY' },
} as const;

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The directory to read, following the order Microsoft's sidecar uses. */
export async function findSecurityContextDir(options: SecurityContextOptions = {}): Promise<string | undefined> {
  if (options.dir) return options.dir;
  const fromEnv = options.env?.UVM_SECURITY_CONTEXT_DIR;
  if (fromEnv) return fromEnv;
  const root = options.searchRoot ?? '/';
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.includes('security-context-')).sort()) {
    if (await isDirectory(join(root, name))) return join(root, name);
  }
  return (await isDirectory(KATA_SECURITY_CONTEXT_DIR)) ? KATA_SECURITY_CONTEXT_DIR : undefined;
}

function decodeBase64(text: string, what: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new EvidenceMalformed(`${what} is not base64`);
  return Buffer.from(compact, 'base64');
}

/** A file's decoded content, else the environment variable's; undefined when both are absent or empty. */
async function readItem(dir: string | undefined, item: (typeof FILES)[keyof typeof FILES], env: SecurityContextOptions['env']): Promise<Buffer | undefined> {
  if (dir) {
    const text = await readFile(join(dir, item.file), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    if (text.trim()) return decodeBase64(text, item.file);
  }
  const fromEnv = env?.[item.env];
  return fromEnv?.trim() ? decodeBase64(fromEnv, item.env) : undefined;
}

export async function readSecurityContext(options: SecurityContextOptions = {}): Promise<SecurityContext> {
  const dir = await findSecurityContextDir(options);
  const [hostCert, referenceInfo, securityPolicy] = await Promise.all([
    readItem(dir, FILES.hostAmdCertificate, options.env),
    readItem(dir, FILES.referenceInfo, options.env),
    readItem(dir, FILES.securityPolicy, options.env),
  ]);
  return {
    ...(dir ? { dir } : {}),
    ...(hostCert ? { hostAmdCertificate: parseThimCertification(hostCert) } : {}),
    ...(referenceInfo ? { referenceInfo } : {}),
    ...(securityPolicy ? { securityPolicy } : {}),
  };
}

/** The host certificate the platform placed in the UVM: read once, since it does not change under a running container. */
export function securityContextSource(load: () => Promise<SecurityContext>): VekSource {
  return {
    name: 'security-context',
    async get() {
      const context = await load();
      if (!context.hostAmdCertificate) {
        throw new Error(`no ${FILES.hostAmdCertificate.file} in ${context.dir ?? 'any security context directory'} and no ${FILES.hostAmdCertificate.env}`);
      }
      return thimBundle(context.hostAmdCertificate);
    },
  };
}
