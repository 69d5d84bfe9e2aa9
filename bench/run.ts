import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeAttestRequest } from '../src/maa/request';
import { openVirtualDevice } from '../src/snp/device/virtual';
import { runLoad, type LoadResult } from './load';
import type { StackUrls } from './stack';

/**
 * `npm run bench`: figures and ratios against the targets of issue 9; `-- --json` prints one
 * JSON object and nothing else on stdout. Figures not measurable yet (they need the KMS and the
 * embedded `skr dev` stack) are null.
 */
const TARGET_ATTEST_RAW_RPS_C32 = 1_500;
const CALLERS = [1, 8, 32] as const;
/** Each point runs until this many requests or this long, whichever is first. */
const POINT_REQUESTS = 6_000;
const POINT_MS = 4_000;
const VERIFIER_SAMPLES = 300;

const runtimeData = Buffer.from(JSON.stringify({ keys: [{ kty: 'RSA', kid: 'bench', n: 'AQAB', e: 'AQAB' }] }));

function startStack(): Promise<{ urls: StackUrls; stop(): void }> {
  const child = fork(join(__dirname, 'stack.js'), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (urls) => resolve({ urls: urls as StackUrls, stop: () => child.disconnect() }));
    child.once('exit', (code) => reject(new Error(`the benchmark stack exited with ${code}`)));
  });
}

async function attestRaw(sidecar: string): Promise<Record<number, LoadResult>> {
  const url = `${sidecar}/attest/raw`;
  const body = JSON.stringify({ runtime_data: runtimeData.toString('base64') });
  await runLoad({ url, body, concurrency: 8, requests: 1_000, maxDurationMs: 3_000 });
  const results: Record<number, LoadResult> = {};
  for (const concurrency of CALLERS) {
    results[concurrency] = await runLoad({ url, body, concurrency, requests: POINT_REQUESTS, maxDurationMs: POINT_MS });
    if (results[concurrency]!.errors > 0) throw new Error(`/attest/raw at ${concurrency} callers: ${JSON.stringify(results[concurrency]!.statuses)}`);
  }
  return results;
}

/** The verifier's SEV-SNP attest, one caller, the same genuine (virtual) evidence each time. */
async function verifierAttest(verifier: string, stateDir: string): Promise<LoadResult> {
  const device = await openVirtualDevice(stateDir);
  const reportData = Buffer.concat([createHash('sha256').update(runtimeData).digest(), Buffer.alloc(32)]);
  const { report } = await device.getReport({ reportData });
  const chain = device.pki.vcek.pem + device.pki.ask.pem + device.pki.ark.pem;
  const body = JSON.stringify(encodeAttestRequest({ report, vcekCertChain: chain, runtimeData: { data: runtimeData, dataType: 'JSON' } }));
  const url = `${verifier}/attest/SevSnpVm?api-version=2022-08-01`;
  await runLoad({ url, body, concurrency: 1, requests: 30, maxDurationMs: 5_000 });
  const result = await runLoad({ url, body, concurrency: 1, requests: VERIFIER_SAMPLES, maxDurationMs: 20_000 });
  if (result.errors > 0) throw new Error(`verifier attest: ${JSON.stringify(result.statuses)}`);
  return result;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const stack = await startStack();
  try {
    const raw = await attestRaw(stack.urls.sidecar);
    const verifier = await verifierAttest(stack.urls.verifier, stack.urls.stateDir);
    const figures = {
      cores: availableParallelism(),
      release: { warm_p50_ms: null, warm_p99_ms: null, reference_p50_ms: null, speedup: null },
      attest_raw: { rps_c1: round(raw[1]!.rps, 0), rps_c8: round(raw[8]!.rps, 0), rps_c32: round(raw[32]!.rps, 0), p50_ms: round(raw[1]!.p50Ms, 3) },
      kms: { releases_per_s: null, creates_per_s: null },
      cold_start_ms: null,
      restart_ms: null,
      verifier: { attest_p50_ms: round(verifier.p50Ms, 3), attest_p99_ms: round(verifier.p99Ms, 3) },
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(figures)}\n`);
      return;
    }
    const lines = [
      `skr benchmarks on ${figures.cores} cores (loopback; the sidecar and verifier in one child process, the load generator in this one)`,
      '',
      '/attest/raw through the sidecar, virtual device:',
      ...CALLERS.map((c) => `  ${String(c).padStart(2)} callers: ${raw[c]!.rps.toFixed(0).padStart(6)} req/s   p50 ${raw[c]!.p50Ms.toFixed(2)} ms   p99 ${raw[c]!.p99Ms.toFixed(2)} ms   (${raw[c]!.requests} requests)`),
      `  32 callers vs target ${TARGET_ATTEST_RAW_RPS_C32} req/s: ${(raw[32]!.rps / TARGET_ATTEST_RAW_RPS_C32).toFixed(2)}x`,
      `  scaling 32 vs 1 caller: ${(raw[32]!.rps / raw[1]!.rps).toFixed(2)}x`,
      '',
      `verifier POST /attest/SevSnpVm (virtual evidence, 1 caller): p50 ${verifier.p50Ms.toFixed(2)} ms, p99 ${verifier.p99Ms.toFixed(2)} ms, ${verifier.rps.toFixed(0)} tokens/s`,
      '',
      'not measured yet (need the KMS and `skr dev`): warm /key/release vs reference pipeline, KMS releases/s and creates/s, cold start, restart',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    stack.stop();
  }
}

void main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
