import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadOrCreateSecret } from '../../lib/state-file';
import type { TrustedRoot } from '../../snp';
import { loadOrCreateTls, type TlsMaterial } from '../../tls/certificates';
import { createVerifierApp, type VerifierContext } from './app';
import type { UvmIssuer } from '..';
import type { AppraisalPolicy } from './appraisal-policy';
import type { Revocation } from './attest';
import { openVerifierStores, type VerifierStores } from './store';
import { SigningKeyRing } from '../../oidc';
import { gracefulCloser } from '../../lib/graceful-close';
import { answerUnparsableRequests } from '../../lib/http-errors';
import { requestTimeouts } from '../../lib/request-timeouts';

export interface VerifierOptions {
  stateDir: string;
  policy: AppraisalPolicy;
  port?: number;
  host?: string;
  /** Plain HTTP (loopback use); HTTPS otherwise. */
  http?: boolean;
  /** The HTTPS identity to serve (e.g. one CA shared by the embedded stack); generated in the state directory when absent. */
  tls?: TlsMaterial;
  /** The `iss` of tokens; defaults to the URL the server listens on. */
  issuer?: string;
  tokenLifetimeSeconds?: number;
  challengeTtlSeconds?: number;
  trustedRoots?: TrustedRoot[];
  /** UVM endorsers trusted besides the appraisal policy's (the virtual state's). */
  trustedUvmIssuers?: UvmIssuer[];
  /** Check chains against their ARK's CRL (`skr verifier` turns it on); absent: no revocation check. */
  revocation?: Revocation;
  /**
   * A postgres:// URL: challenge nonces and reference values live there, shared with every
   * replica on that database; absent: nonces in memory, reference values in the state directory.
   */
  store?: string;
  /** Milliseconds a request's headers and body may take to arrive (default 30 s, src/lib/request-timeouts.ts). */
  requestTimeoutMs?: number;
  now?: () => Date;
}

export interface RunningVerifier {
  url: string;
  issuer: string;
  /** PEM of the CA that issued the HTTPS certificate (undefined with --http). */
  caPem?: string;
  adminToken: string;
  context: VerifierContext;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 8 * 3600;

export async function startVerifier(options: VerifierOptions): Promise<RunningVerifier> {
  const dir = join(options.stateDir, 'verifier');
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  // Opened before the port is: a store that cannot be reached (or migrated) stops the start.
  const stores = await openVerifierStores({
    dir,
    ...(options.store !== undefined ? { url: options.store } : {}),
    challenges: { ttlMs: (options.challengeTtlSeconds ?? 300) * 1000, maxOutstanding: 100_000, now: () => now().getTime() },
    now: () => now().getTime(),
  });
  try {
    return await serve(options, dir, host, now, stores);
  } catch (error) {
    await stores.close();
    throw error;
  }
}

/** Listens and answers with the verifier's context; on failure the caller closes `stores`. */
async function serve(options: VerifierOptions, dir: string, host: string, now: () => Date, stores: VerifierStores): Promise<RunningVerifier> {
  const tls = options.http ? undefined : (options.tls ?? (await loadOrCreateTls(join(dir, 'tls'), { name: 'skr verifier' })));
  const timeouts = requestTimeouts(options.requestTimeoutMs);
  const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem, ...timeouts }) : http.createServer(timeouts);
  const closeServer = gracefulCloser(server);
  answerUnparsableRequests(server, (_status, message, code) => ({ error: { code, message } }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${tls && host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  const issuer = options.issuer ?? url;
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;

  const context: VerifierContext = {
    issuer,
    tokenLifetimeSeconds,
    now,
    policy: options.policy,
    keys: await SigningKeyRing.open(join(dir, 'signing-keys.json'), issuer, now().getTime()),
    references: stores.references,
    challenges: stores.challenges,
    trustedRoots: options.trustedRoots ?? [],
    trustedUvmIssuers: options.trustedUvmIssuers ?? [],
    ...(options.revocation ? { revocation: options.revocation } : {}),
    adminToken: await loadOrCreateSecret(join(dir, 'admin-token')),
  };
  server.on('request', createVerifierApp(context));
  const sweeper = setInterval(() => {
    // A store that does not answer now is swept at the next tick.
    context.challenges.sweep().catch(() => undefined);
    void context.keys.prune(tokenLifetimeSeconds * 1000, now().getTime());
  }, 60_000);
  sweeper.unref();

  return {
    url,
    issuer,
    caPem: tls?.caPem,
    adminToken: context.adminToken,
    context,
    close: async () => {
      clearInterval(sweeper);
      await closeServer();
      await stores.close();
    },
  };
}
