import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { startBalancer, type Balancer } from '../lib/haproxy';
import { freePort } from '../lib/postgres-cluster';
import { exited, spawnKms, type Endpoints } from './child';
import type { TestIssuer } from './harness';

/**
 * `count` `skr kms --store URL --state-dir D --port P` replicas of one vault (one state
 * directory, one PostgreSQL database, each its own port) behind HAProxy. They name the vault
 * by the balancer's address (SKR_KMS_VAULT_URL), so key ids are the same whichever answers.
 * A replica can be SIGKILLed and started again on its port.
 */
export interface ReplicaSet {
  balancer: Balancer;
  /** The replicas' CA (one state directory: one CA, one certificate). */
  ca: string;
  endpoints: Endpoints;
  /** The officer's token, from the issuer every replica trusts. */
  officerToken(): Promise<string>;
  /** A KeyClient for the officer, through the balancer. */
  client(): KeyClient;
  kill(index: number): Promise<void>;
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Callers of the set get their tokens from `issuer`, which every replica trusts (--trusted-issuer):
 * a token of any replica's identity endpoint is accepted by all of them too (store-replicas.test.ts),
 * but that endpoint is gone while its replica is killed.
 */
export async function startReplicaSet(stateDir: string, store: string, count: number, issuer: TestIssuer): Promise<ReplicaSet> {
  const balancerPort = await freePort();
  const vaultUrl = `https://localhost:${balancerPort}`;
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const children: (ChildProcess | undefined)[] = [];
  let endpoints: Endpoints | undefined;
  let officer: string | undefined;
  const start = async (index: number) => {
    const started = await spawnKms(stateDir, ['--store', store, '--port', String(ports[index]), '--trusted-issuer', issuer.url], { SKR_KMS_VAULT_URL: vaultUrl });
    children[index] = started.child;
    officer ??= (JSON.parse(started.stdout()) as { kms: { officer: { objectId: string } } }).kms.officer.objectId;
    endpoints ??= started.endpoints;
  };
  // One at a time: the first creates the state directory's material, the others read it.
  for (let i = 0; i < count; i++) await start(i);
  const balancer = await startBalancer(ports, balancerPort);
  const ca = await readFile(endpoints!.caCertFile, 'utf8');
  let token: { value: string; until: number } | undefined;
  const currentToken = async () => {
    if (!token || token.until < Date.now()) token = { value: await issuer.mint({ oid: officer, sub: officer }), until: Date.now() + 60_000 };
    return token.value;
  };
  const credential: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: await currentToken(), expiresOnTimestamp: Date.now() + 60_000 }) };
  const stopOne = async (index: number, signal: NodeJS.Signals) => {
    const child = children[index];
    if (!child) return;
    child.kill(signal);
    await exited(child);
    children[index] = undefined;
  };
  return {
    balancer,
    ca,
    endpoints: endpoints!,
    officerToken: currentToken,
    client: () => new KeyClient(vaultUrl, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca }, retryOptions: { maxRetries: 0 } }),
    kill: (index) => stopOne(index, 'SIGKILL'),
    restart: (index) => start(index),
    stop: async () => {
      await balancer.stop();
      for (let i = 0; i < count; i++) await stopOne(i, 'SIGTERM');
    },
  };
}
