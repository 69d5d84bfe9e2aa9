import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { VekRequest } from '../verify';
import { parseVek, splitPem } from '../x509/vek';
import { hwIdOf, vekMismatch, type VekBundle } from './source';

const two = (n: number | undefined) => String(n ?? 0).padStart(2, '0');

/**
 * Where a VCEK lives in the on-disk cache, relative to its root:
 * `vcek/{product}/{hwid hex}/bl{:02}_tee{:02}_snp{:02}_ucode{:02}[_fmc{:02}].der`.
 */
export function vekCachePath(request: VekRequest): string {
  const t = request.reportedTcb;
  const fmc = request.product === 'Turin' ? `_fmc${two(t.fmc)}` : '';
  const file = `bl${two(t.bootloader)}_tee${two(t.tee)}_snp${two(t.snp)}_ucode${two(t.microcode)}${fmc}.der`;
  return join('vcek', request.product, hwIdOf(request).toString('hex'), file);
}

function chainPath(request: VekRequest): string {
  return join('vcek', request.product, 'cert_chain.pem');
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

/** Writes via a temporary name so a concurrent reader never sees half a certificate. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path);
}

/** A bound far above the distinct chips and TCBs one deployment sees; it only stops unbounded growth. */
const MEMORY_ENTRIES = 256;

/**
 * VCEKs by product, chip and TCB, in memory and optionally on disk. KDS rate-limits and a VCEK
 * never changes for a given chip and TCB, so one fetch serves for good. Every hit is parsed and
 * checked against the request before use, so a stray or stale file is never handed on. VLEKs
 * are not cached: they come with each piece of evidence and are per cloud provider, not per chip.
 */
export class VekCache {
  private readonly memory = new Map<string, VekBundle>();

  constructor(private readonly dir?: string) {}

  async get(request: VekRequest): Promise<{ bundle: VekBundle; where: 'memory' | 'disk' } | undefined> {
    if (request.kind !== 'VCEK') return undefined;
    const key = vekCachePath(request);
    const hit = this.memory.get(key);
    if (hit) return { bundle: hit, where: 'memory' };
    if (!this.dir) return undefined;
    const vek = await readFile(join(this.dir, key)).catch(() => undefined);
    if (!vek) return undefined;
    try {
      if (vekMismatch(parseVek(vek), request)) return undefined;
    } catch {
      return undefined;
    }
    const chainText = await readFile(join(this.dir, chainPath(request)), 'latin1').catch(() => '');
    const bundle = { vek, chain: splitPem(chainText) };
    this.remember(key, bundle);
    return { bundle, where: 'disk' };
  }

  /** Stores a bundle the caller has already matched to `request`. */
  async put(request: VekRequest, bundle: VekBundle): Promise<void> {
    if (request.kind !== 'VCEK') return;
    const key = vekCachePath(request);
    this.remember(key, bundle);
    if (!this.dir) return;
    // The VEK is already in hand: a read-only or full cache directory costs a refetch later, not this request.
    await writeAtomic(join(this.dir, key), bundle.vek).catch(() => undefined);
    if (bundle.chain.length > 0) await writeAtomic(join(this.dir, chainPath(request)), bundle.chain.map(toPem).join('')).catch(() => undefined);
  }

  private remember(key: string, bundle: VekBundle): void {
    this.memory.delete(key);
    this.memory.set(key, bundle);
    if (this.memory.size > MEMORY_ENTRIES) this.memory.delete(this.memory.keys().next().value!);
  }
}
