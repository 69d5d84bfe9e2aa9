import { TeeKeyHolder } from '../sidecar';
import { parseFlags, parseInteger } from './args';
import { untilSignal } from './signals';

const FLAGS = {
  port: { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

/** `skr dev` (`npm start`): the whole system on one machine, until SIGTERM/SIGINT. */
export async function devServe(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, FLAGS);
  const started = Date.now();
  // The sidecar's TEE key (the defaults: RSA-2048, an hour) is generated on the thread pool
  // while the stack's modules load, which takes as long.
  const teeKeys = new TeeKeyHolder({ modulusLength: 2048, ttlMs: 3_600_000 });
  teeKeys.get().catch(() => undefined);
  const { defaultDevStateDir, startDevStack } = await import('../dev');
  const stack = await startDevStack({
    port: flags.port === undefined ? 8080 : parseInteger(flags.port as string, 'port', 0, 65535),
    stateDir: (flags['state-dir'] as string | undefined) ?? defaultDevStateDir(),
    teeKeys,
  });
  untilSignal(() => stack.close());
  const s = stack.endpoints.sidecar;
  const tryThese = [
    `curl -s ${s}/status`,
    `curl -s -X POST ${s}/key/release -d '{"kid":"demo"}'`,
    `curl -s -X POST ${s}/key/release -d '{"kid":"demo-denied"}'`,
    `curl -s ${s}/cdh/resource/default/demo/secret`,
    `curl -s ${s}/cdh/resource/default/demo/denied`,
    `curl -s -X POST ${s}/attest/raw -d '{"runtime_data":"aGVsbG8="}'`,
    `curl -s -X POST ${s}/attest/maa -d '{"runtime_data":"e30="}'`,
  ];
  process.stderr.write(`skr dev: ready in ${Date.now() - started} ms — sidecar ${s} (virtual SEV-SNP device), state ${stack.stateDir}\n  try:\n${tryThese.map((c) => `    ${c}`).join('\n')}\n`);
  return { ready: true, stateDir: stack.stateDir, endpoints: stack.endpoints, virtualHostData: stack.hostData, try: tryThese };
}
