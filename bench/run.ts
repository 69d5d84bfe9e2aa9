import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { encodeAttestRequest } from '../src/maa/request';
import { reportDataFor } from '../src/snp';
import { openVirtualDevice } from '../src/snp/device/virtual';
import { benchVirtualDevice, type DeviceFigures } from './device';
import { distinctKeyReleases, ownKeyReleases } from './distinct';
import { benchKms, type KmsFigures } from './kms';
import { runLoad, type LoadResult } from './load';
import { startServices, type StackUrls } from './services';
import { benchReplicas } from './replicas';
import { benchScale, type ScaleFigures } from './scale';
import { benchStart } from './start';
import { rsaPrivateFloorMs } from './rsa-floor';

/**
 * `npm run bench`: the project's performance figures with their targets and ratios, all from one run;
 * `-- --json` prints one JSON object and nothing else on stdout; `-- --kms` measures only the
 * KMS (releases and creates through the SDK), the short run that compares KMS changes;
 * `-- --profile DIR` has each service write a V8 CPU profile to DIR when it stops.
 */
const TARGETS = { warmP50Ms: 3, distinctKeyP50Ms: 2, releaseRpsC32: 1_500, speedup: 50, attestRawRpsC32: 1_500, kmsReleasesPerS: 1_000, coldStartMs: 6_000, restartMs: 1_500 };
const CALLERS = [1, 8, 32] as const;
const KMS_CALLERS = [8, 32];
/** Each point runs until this many requests or this long, whichever is first. */
const POINT_REQUESTS = 6_000;
const POINT_MS = 4_000;
const WARM_RELEASES = 2_000;
const WARM_UP_RELEASES = 4_000;
const REFERENCE_RELEASES = 40;
const DISTINCT_RELEASES = 300;
const DISTINCT_WARM_UP = 100;
const VERIFIER_SAMPLES = 300;

const runtimeData = Buffer.from(JSON.stringify({ keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'bench' }] }));

function profileDir(): string | undefined {
  const at = process.argv.indexOf('--profile');
  return at < 0 ? undefined : resolve(process.argv[at + 1] ?? 'bench-profiles');
}

function checked(what: string, result: LoadResult): LoadResult {
  if (result.errors > 0) throw new Error(`${what}: ${JSON.stringify(result.statuses)}`);
  return result;
}

/** Warm /key/release (TEE key and token reused) against the reference pipeline, one caller each. */
async function release(urls: StackUrls): Promise<{ warm: LoadResult; warm32: LoadResult; ownKeys32: LoadResult; distinct: LoadResult; reference: LoadResult }> {
  const body = JSON.stringify({ kid: 'demo' });
  // Warm: the JIT settles over the first few thousand releases; the figure is the steady state
  // a long-running sidecar serves.
  await runLoad({ url: `${urls.sidecar}/key/release`, body, concurrency: 4, requests: 400, maxDurationMs: 5_000 });
  await runLoad({ url: `${urls.sidecar}/key/release`, body, concurrency: 1, requests: WARM_UP_RELEASES, maxDurationMs: 8_000 });
  const warm = checked('warm release', await runLoad({ url: `${urls.sidecar}/key/release`, body, concurrency: 1, requests: WARM_RELEASES, maxDurationMs: 20_000 }));
  const warm32 = checked('warm release, 32 callers', await runLoad({ url: `${urls.sidecar}/key/release`, body, concurrency: 32, requests: POINT_REQUESTS, maxDurationMs: POINT_MS }));
  const ownKeys32 = checked('warm release, 32 callers over 32 keys', await ownKeyReleases(urls, { concurrency: 32, requests: POINT_REQUESTS, maxDurationMs: POINT_MS }));
  const distinct = checked('release of a key not released before', await distinctKeyReleases(urls, { releases: DISTINCT_RELEASES, warmUp: DISTINCT_WARM_UP }));
  await runLoad({ url: `${urls.reference}/key/release`, body, concurrency: 1, requests: 3, maxDurationMs: 10_000 });
  const reference = checked('reference release', await runLoad({ url: `${urls.reference}/key/release`, body, concurrency: 1, requests: REFERENCE_RELEASES, maxDurationMs: 30_000 }));
  return { warm, warm32, ownKeys32, distinct, reference };
}

/**
 * Every caller sends the same runtime data, as an app sends its own key: requests in flight
 * together share a report (CoalescingDevice). With `distinct`, each request's runtime data is
 * its own, so every request is a report of its own: the device's signing rate.
 */
async function attestRaw(sidecar: string): Promise<{ shared: Record<number, LoadResult>; distinct32: LoadResult }> {
  const url = `${sidecar}/attest/raw`;
  const body = JSON.stringify({ runtime_data: runtimeData.toString('base64') });
  await runLoad({ url, body, concurrency: 8, requests: 1_000, maxDurationMs: 3_000 });
  const shared: Record<number, LoadResult> = {};
  for (const concurrency of CALLERS) {
    shared[concurrency] = checked(`/attest/raw at ${concurrency} callers`, await runLoad({ url, body, concurrency, requests: POINT_REQUESTS, maxDurationMs: POINT_MS }));
  }
  const distinct = (i: number) => JSON.stringify({ runtime_data: Buffer.from(`{"request":${i}}`).toString('base64') });
  const distinct32 = checked('/attest/raw, distinct runtime data', await runLoad({ url, body: distinct, concurrency: 32, requests: POINT_REQUESTS, maxDurationMs: POINT_MS }));
  return { shared, distinct32 };
}

/** The verifier's SEV-SNP attest, one caller, the same genuine (virtual) evidence each time. */
async function verifierAttest(urls: StackUrls): Promise<LoadResult> {
  const device = await openVirtualDevice(urls.stateDir);
  const reportData = reportDataFor(runtimeData);
  const { report } = await device.getReport({ reportData });
  const chain = device.pki.vcek.pem + device.pki.ask.pem + device.pki.ark.pem;
  const body = JSON.stringify(encodeAttestRequest({ report, vcekCertChain: chain, runtimeData: { data: runtimeData, dataType: 'JSON' } }));
  const url = `${urls.verifier}/attest/SevSnpVm?api-version=2022-08-01`;
  await runLoad({ url, body, concurrency: 1, requests: 30, maxDurationMs: 5_000, ca: urls.caPem });
  return checked('verifier attest', await runLoad({ url, body, concurrency: 1, requests: VERIFIER_SAMPLES, maxDurationMs: 20_000, ca: urls.caPem }));
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const ratio = (figure: number, target: number) => `${(figure / target).toFixed(2)}x the target`;

/** `--kms`: the KMS figures alone, on the same stack and the same points as the full run. */
async function kmsOnly(json: boolean): Promise<void> {
  const stack = await startServices({ profileDir: profileDir() });
  let kms: KmsFigures;
  try {
    kms = await benchKms(stack.urls, { pointMs: POINT_MS, callers: KMS_CALLERS });
  } finally {
    await stack.stop();
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ cores: availableParallelism(), kms })}\n`);
    return;
  }
  const lines = [
    `skr KMS benchmark on ${availableParallelism()} cores (loopback; verifier, KMS and sidecars each in a process of their own, the load generator in this one)`,
    'KMS through @azure/keyvault-keys over HTTPS:',
    ...KMS_CALLERS.map((c) => `  ${String(c).padStart(2)} callers: ${String(kms.releases_per_s[c]).padStart(5)} releases/s   ${String(kms.creates_per_s[c]).padStart(5)} oct-HSM creates/s`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * `--release`: the release figures alone, with the CPU each service spent per release at 32
 * callers (from /proc): what bounds releases/s on this machine.
 */
async function releaseOnly(): Promise<void> {
  const stack = await startServices({ profileDir: profileDir() });
  try {
    const body = JSON.stringify({ kid: 'demo' });
    const url = `${stack.urls.sidecar}/key/release`;
    await runLoad({ url, body, concurrency: 4, requests: WARM_UP_RELEASES, maxDurationMs: 8_000 });
    const measured = async (run: () => Promise<LoadResult>) => {
      const before = cpuOf(stack.pids);
      const result = await run();
      const after = cpuOf(stack.pids);
      return {
        rps: round(result.rps, 0),
        p50_ms: round(result.p50Ms, 3),
        cpu_ms_per_release: Object.fromEntries(Object.keys(before).map((name) => [name, round((after[name]! - before[name]!) / result.requests, 3)])),
      };
    };
    const c32 = await measured(async () => checked('warm release, 32 callers', await runLoad({ url, body, concurrency: 32, requests: POINT_REQUESTS, maxDurationMs: POINT_MS })));
    const ownKeys = await measured(async () =>
      checked('warm release, 32 callers over 32 keys', await ownKeyReleases(stack.urls, { concurrency: 32, requests: POINT_REQUESTS, maxDurationMs: POINT_MS })),
    );
    const distinct = checked('release of a key not released before', await distinctKeyReleases(stack.urls, { releases: DISTINCT_RELEASES, warmUp: DISTINCT_WARM_UP }));
    process.stdout.write(
      `${JSON.stringify({ cores: availableParallelism(), c32, c32_own_keys: ownKeys, distinct_key_p50_ms: round(distinct.p50Ms, 3), rsa_private_floor_ms: round(rsaPrivateFloorMs(), 3) })}\n`,
    );
  } finally {
    await stack.stop();
  }
}

/** CPU milliseconds (user + system) each process has used, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuOf(pids: Record<string, number>): Record<string, number> {
  const ticks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  return { ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, ticks(pid)])), bench: ticks(process.pid) };
}

/** The scale figures in words: each store loaded against empty, with the goals (release within 20 %, audit query < 50 ms, start < 1.5 s). */
function scaleLines(scale: { sqlite: ScaleFigures; postgres: ScaleFigures | null }): string[] {
  const line = (name: string, f: ScaleFigures | null) =>
    f === null
      ? `  ${name}: not measured (no PostgreSQL here)`
      : `  ${name}: release p50 ${f.release_p50_ms_empty} ms empty, ${f.release_p50_ms_loaded} ms loaded (${((f.release_p50_ms_loaded / f.release_p50_ms_empty - 1) * 100).toFixed(0)} %, goal within 20 %); audit --key p50 ${f.audit_query_p50_ms} ms (goal < 50); start ${f.start_ms} ms (goal < 1500)`;
  return [`KMS with ${scale.sqlite.keys} keys and ${scale.sqlite.audit_entries} audit entries in the store:`, line('SQLite', scale.sqlite), line('PostgreSQL', scale.postgres)];
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  if (process.argv.includes('--kms')) return kmsOnly(json);
  if (process.argv.includes('--replicas')) return void process.stdout.write(`${JSON.stringify({ cores: availableParallelism(), replicas: await benchReplicas() })}\n`);
  if (process.argv.includes('--scale')) return void process.stdout.write(`${JSON.stringify({ cores: availableParallelism(), scale: await benchScale() })}\n`);
  if (process.argv.includes('--release')) return releaseOnly();
  // Starts first, while nothing else runs.
  const start = await benchStart();
  const stack = await startServices({ profileDir: profileDir() });
  let rel: Awaited<ReturnType<typeof release>>;
  let raw: Record<number, LoadResult>;
  let distinct32: LoadResult;
  let kms: KmsFigures;
  let verifier: LoadResult;
  let device: DeviceFigures;
  try {
    rel = await release(stack.urls);
    ({ shared: raw, distinct32 } = await attestRaw(stack.urls.sidecar));
    kms = await benchKms(stack.urls, { pointMs: POINT_MS, callers: KMS_CALLERS });
    verifier = await verifierAttest(stack.urls);
    device = await benchVirtualDevice(stack.urls.stateDir);
  } finally {
    await stack.stop();
  }
  // After the stack is gone: the seeded stores take the machine's disk and both cores.
  const floorMs = rsaPrivateFloorMs();
  const scale = await benchScale();
  const replicas = await benchReplicas();
  const bestKms = (figures: Record<number, number>) => Math.max(...Object.values(figures));
  const figures = {
    cores: availableParallelism(),
    release: {
      warm_p50_ms: round(rel.warm.p50Ms, 3),
      warm_p99_ms: round(rel.warm.p99Ms, 3),
      distinct_key_p50_ms: round(rel.distinct.p50Ms, 3),
      rsa_private_floor_ms: round(floorMs, 3),
      rps_c32: round(rel.warm32.rps, 0),
      rps_c32_own_keys: round(rel.ownKeys32.rps, 0),
      reference_p50_ms: round(rel.reference.p50Ms, 3),
      speedup: round(rel.reference.p50Ms / rel.warm.p50Ms, 1),
    },
    attest_raw: { rps_c1: round(raw[1]!.rps, 0), rps_c8: round(raw[8]!.rps, 0), rps_c32: round(raw[32]!.rps, 0), p50_ms: round(raw[1]!.p50Ms, 3) },
    kms: { releases_per_s: bestKms(kms.releases_per_s), creates_per_s: bestKms(kms.creates_per_s) },
    virtual_device: device,
    cold_start_ms: Math.round(start.coldMs),
    restart_ms: Math.round(start.restartMs),
    scale,
    replicas,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const lines = [
    `skr benchmarks on ${figures.cores} cores, one run (loopback; verifier, KMS and sidecars each in a process of their own, the load generator in this one)`,
    '',
    'warm /key/release (demo key: TEE key and token reused, release policy checked, key wrapped, JWS verified, unwrapped):',
    `  1 caller:   p50 ${ms(rel.warm.p50Ms)}  p99 ${ms(rel.warm.p99Ms)}  (${rel.warm.requests} releases)   p50 vs target ${TARGETS.warmP50Ms} ms: ${(rel.warm.p50Ms / TARGETS.warmP50Ms).toFixed(2)}x`,
    `  32 callers: ${rel.warm32.rps.toFixed(0)} releases/s  p50 ${ms(rel.warm32.p50Ms)}  p99 ${ms(rel.warm32.p99Ms)}   ${ratio(rel.warm32.rps, TARGETS.releaseRpsC32)} (${TARGETS.releaseRpsC32}/s)`,
    `  32 callers over 32 keys in turn (no two requests in flight share a call to the KMS): ${rel.ownKeys32.rps.toFixed(0)} releases/s  p50 ${ms(rel.ownKeys32.p50Ms)}  p99 ${ms(rel.ownKeys32.p99Ms)}`,
    `  a key not released before (no cache answers: policy, wrap and JWS signature at the KMS, JWS verified and unwrapped at the sidecar), 1 caller: p50 ${ms(rel.distinct.p50Ms)}  p99 ${ms(rel.distinct.p99Ms)}  (${rel.distinct.requests} keys)   p50 vs target ${TARGETS.distinctKeyP50Ms} ms: ${(rel.distinct.p50Ms / TARGETS.distinctKeyP50Ms).toFixed(2)}x; its two RSA-2048 private operations alone: ${ms(floorMs)}`,
    `  reference pipeline (new RSA-2048 TEE key, report and token per release): p50 ${ms(rel.reference.p50Ms)}  p99 ${ms(rel.reference.p99Ms)}  (${rel.reference.requests} releases)`,
    `  speed-up: ${figures.release.speedup}x (target ${TARGETS.speedup}x)`,
    '',
    '/attest/raw through the sidecar, virtual device (one runtime data for all; requests in flight together share a report):',
    ...CALLERS.map((c) => `  ${String(c).padStart(2)} callers: ${raw[c]!.rps.toFixed(0).padStart(6)} req/s   p50 ${ms(raw[c]!.p50Ms)}   p99 ${ms(raw[c]!.p99Ms)}   (${raw[c]!.requests} requests)`),
    `  32 callers: ${ratio(raw[32]!.rps, TARGETS.attestRawRpsC32)} (${TARGETS.attestRawRpsC32} req/s); scaling 32 vs 1 caller ${(raw[32]!.rps / raw[1]!.rps).toFixed(2)}x`,
    `  32 callers, runtime data of its own per request (a P-384 signature each): ${distinct32.rps.toFixed(0)} req/s   p50 ${ms(distinct32.p50Ms)}   (${(distinct32.rps / raw[32]!.rps).toFixed(2)}x the shared figure)`,
    '',
    'KMS through @azure/keyvault-keys over HTTPS:',
    ...KMS_CALLERS.map((c) => `  ${String(c).padStart(2)} callers: ${String(kms.releases_per_s[c]).padStart(5)} releases/s   ${String(kms.creates_per_s[c]).padStart(5)} oct-HSM creates/s`),
    `  best releases/s: ${ratio(figures.kms.releases_per_s, TARGETS.kmsReleasesPerS)} (${TARGETS.kmsReleasesPerS}/s)`,
    '',
    `npm start, empty state to first release: ${figures.cold_start_ms} ms (${ratio(figures.cold_start_ms, TARGETS.coldStartMs)} of ${TARGETS.coldStartMs} ms)`,
    `npm start, restart to first release: ${figures.restart_ms} ms (${ratio(figures.restart_ms, TARGETS.restartMs)} of ${TARGETS.restartMs} ms)`,
    '',
    `verifier POST /attest/SevSnpVm over HTTPS (virtual evidence, 1 caller): p50 ${ms(verifier.p50Ms)}, p99 ${ms(verifier.p99Ms)}, ${verifier.rps.toFixed(0)} tokens/s`,
    '',
    `virtual device in process, no HTTP: ${device.serial_rps} reports/s one at a time, ${device.concurrent_rps} reports/s with 400 in flight`,
    '',
    ...scaleLines(scale),
    replicas === null
      ? 'KMS replicas through HAProxy: not measured (no PostgreSQL or HAProxy here)'
      : `KMS replicas on PostgreSQL through HAProxy, 32 callers: ${replicas.rps_1} releases/s with 1, ${replicas.rps_2} with 2 (both share the machine's cores with PostgreSQL, HAProxy and the load generator); p99 ${replicas.kill_p99_ms} ms while one is SIGKILLed`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
