import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gracefulCloser } from '../lib/graceful-close';
import { requestTimeouts } from '../lib/request-timeouts';
import { DEFAULT_REFUSAL_LIMITS, RefusalGate, type RefusalLimits } from '../lib/refusal-gate';
import { ensurePrivateStateDir } from '../lib/state-file';
import { FileReferenceValueStore, type AppraisalPolicy, type Revocation } from '../maa/service';
import type { TrustedRoot } from '../snp';
import { adminKeyOf, loadOrCreateAdminKey, type AdminKey } from './admin-auth';
import { answerUnparsable, createKbsApp } from './app';
import { inProcessAppraiser, type EvidenceAppraiser } from './appraiser';
import { AuditLog } from './audit';
import { DirectoryBackend, type ResourceBackend } from './backends';
import { KeyBroker } from './broker';
import { RateLimiter } from './rate-limit';
import { ResourcePolicies } from './resource-policies';
import { MemorySessionStore, type SessionStore } from './sessions';
import { loadOrCreateTokenKey } from './token-key';

export interface KbsOptions {
  /** The KBS keeps its files under `<stateDir>/kbs`. */
  stateDir: string;
  port?: number;
  host?: string;
  /** The HTTPS identity to serve; plain HTTP (loopback use) when absent. */
  tls?: { certPem: string; keyPem: string; caPem?: string };
  /** The `iss` of tokens and the authority resource policies name; defaults to the URL served. */
  issuer?: string;
  /** The in-process verifier's settings; ignored when `appraiser` is given. */
  verifier?: { policy: AppraisalPolicy; trustedRoots?: TrustedRoot[]; revocation?: Revocation; referenceValuesPath?: string };
  appraiser?: EvidenceAppraiser;
  /** Where resources come from; default a private directory in the state directory. */
  backend?: ResourceBackend;
  sessions?: SessionStore;
  maxSessions?: number;
  /** Ed25519 public keys (PEM) whose admin tokens are accepted; default one kept in the state directory. */
  adminPublicKeys?: (string | Buffer)[];
  sessionTtlSeconds?: number;
  tokenLifetimeSeconds?: number;
  /** /auth requests per source address per minute. */
  authPerMinute?: number;
  /**
   * Bounds of refused requests per caller (resource denials, /attest failures, admin refusals):
   * DEFAULT_REFUSAL_LIMITS by default, the KMS's — a burst of 500 and 100 a second, then 429;
   * 20 audit lines per caller and 1,000 in all a minute, the rest counted.
   */
  refusals?: Partial<RefusalLimits>;
  /** Milliseconds a request's headers and body may take to arrive (default 30 s). */
  requestTimeoutMs?: number;
  now?: () => Date;
}

export interface RunningKbs {
  url: string;
  issuer: string;
  caPem?: string;
  /** The admin private key the KBS generated (when no admin key was configured). */
  adminKeyFile?: string;
  auditFile: string;
  broker: KeyBroker;
  close(): Promise<void>;
}

export const DEFAULT_SESSION_TTL_SECONDS = 300;
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
export const DEFAULT_MAX_SESSIONS = 100_000;
export const DEFAULT_AUTH_PER_MINUTE = 120;

/** `skr kbs`: the key broker on its own HTTP(S) server, until closed. */
export async function startKbs(options: KbsOptions): Promise<RunningKbs> {
  const dir = join(options.stateDir, 'kbs');
  await ensurePrivateStateDir(dir);
  const now = options.now ?? (() => new Date());
  const host = options.host ?? '127.0.0.1';
  const timeouts = requestTimeouts(options.requestTimeoutMs);
  const server = options.tls ? https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem, ...timeouts }) : http.createServer(timeouts);
  const closeServer = gracefulCloser(server);
  answerUnparsable(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://${options.tls && host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  const issuer = options.issuer ?? url;

  let appraiser = options.appraiser;
  if (!appraiser) {
    if (!options.verifier) throw new Error('startKbs needs a verifier configuration or an appraiser');
    appraiser = inProcessAppraiser({
      now,
      policy: options.verifier.policy,
      references: new FileReferenceValueStore(options.verifier.referenceValuesPath ?? join(options.stateDir, 'verifier', 'reference-values.json')),
      trustedRoots: options.verifier.trustedRoots ?? [],
      ...(options.verifier.revocation ? { revocation: options.verifier.revocation } : {}),
    });
  }
  let adminKeys: AdminKey[];
  let adminKeyFile: string | undefined;
  if (options.adminPublicKeys && options.adminPublicKeys.length > 0) adminKeys = await Promise.all(options.adminPublicKeys.map(adminKeyOf));
  else {
    adminKeyFile = join(dir, 'admin-key.pem');
    adminKeys = [await loadOrCreateAdminKey(adminKeyFile)];
  }
  const sessions = options.sessions ?? new MemorySessionStore(options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  const auditFile = join(dir, 'audit.jsonl');
  const audit = await AuditLog.open(auditFile, join(dir, 'audit-counts.json'), now);
  const refusalLimits = { ...DEFAULT_REFUSAL_LIMITS, ...options.refusals };
  const refusals = new RefusalGate(refusalLimits);
  const broker = new KeyBroker({
    issuer,
    tokenKey: await loadOrCreateTokenKey(join(dir, 'token-key.pem')),
    sessions,
    appraiser,
    policies: await ResourcePolicies.open(join(dir, 'resource-policies.json')),
    backend: options.backend ?? new DirectoryBackend(join(dir, 'resources')),
    audit,
    refusals,
    now,
    sessionTtlSeconds: options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
  });
  server.on('request', createKbsApp({ broker, adminKeys, authLimiter: new RateLimiter(options.authPerMinute ?? DEFAULT_AUTH_PER_MINUTE, 60_000), secureCookie: options.tls !== undefined }));
  // A sweep that fails (a shared store briefly down) is retried at the next interval.
  const sweeper = setInterval(() => void sessions.sweep(now().getTime()).catch(() => undefined), 60_000);
  sweeper.unref();
  /** The counted refusals as summary lines; a failure is reported, not thrown from a timer (the counts stay for the next try). */
  const writeSummaries = async () => {
    refusals.newInterval();
    try {
      await audit.summarize();
    } catch {
      process.stderr.write('skr kbs: the summaries of counted refusals could not be audited\n');
    }
  };
  const summarizer = setInterval(() => void writeSummaries(), refusalLimits.intervalMs);
  summarizer.unref();
  return {
    url,
    issuer,
    ...(options.tls?.caPem ? { caPem: options.tls.caPem } : {}),
    ...(adminKeyFile ? { adminKeyFile } : {}),
    auditFile,
    broker,
    close: async () => {
      clearInterval(sweeper);
      clearInterval(summarizer);
      await closeServer();
      await writeSummaries();
    },
  };
}
