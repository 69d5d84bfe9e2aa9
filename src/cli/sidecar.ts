import { loadSidecarConfig, startSidecar } from '../sidecar';
import { parseFlags, readInputFile } from './args';
import { untilSignal } from './signals';

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  device: { type: 'string' },
  'device-path': { type: 'string' },
  'state-dir': { type: 'string' },
  'maa-endpoint': { type: 'string' },
  'akv-endpoint': { type: 'string' },
  'kbs-url': { type: 'string' },
  allow: { type: 'string' },
  user: { type: 'string' },
  'ca-file': { type: 'string', multiple: true },
  'tee-key-bits': { type: 'string' },
  'tee-key-ttl': { type: 'string' },
  'fresh-per-release': { type: 'string' },
  'client-id': { type: 'string' },
  'skr-args': { type: 'string' },
  product: { type: 'string' },
  'timeout-ms': { type: 'string' },
} as const;

/** `skr sidecar`: the key release sidecar (the container's entrypoint), until SIGTERM/SIGINT. */
export async function sidecarServe(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, FLAGS);
  const config = loadSidecarConfig({ flags: flags as Record<string, string | boolean | string[] | undefined>, env: process.env });
  const caFiles = [...((flags['ca-file'] as string[] | undefined) ?? []), ...(process.env.SKR_CA_FILE ? [process.env.SKR_CA_FILE] : [])];
  for (const file of caFiles) config.caPems.push((await readInputFile(file, 'ca-file')).toString());
  const running = await startSidecar(config);
  untilSignal(() => running.close());
  return {
    sidecar: {
      url: running.url,
      device: running.context.evidence.device.name,
      virtual: running.context.evidence.device.virtual,
      maaEndpoint: config.maaEndpoint ?? null,
      akvEndpoint: config.akvEndpoint ?? null,
      kbsEndpoint: config.kbsEndpoint ?? null,
      allowedEndpoints: [...config.allowedEndpoints],
      uid: process.getuid?.(),
    },
  };
}
