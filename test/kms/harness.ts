import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import express from 'express';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import { startIdentity, type RunningIdentity } from '../../src/identity';
import { startKms, type KmsOptions, type RunningKms } from '../../src/kms';

export async function tempDir(prefix = 'skr-kms-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A minimal OpenID issuer on loopback HTTP that mints whatever tokens a negative test needs. */
export interface TestIssuer {
  url: string;
  key: KeyObject;
  mint(claims: JWTPayload, options?: { alg?: 'RS256' | 'PS256'; key?: KeyObject; kid?: string; expiresIn?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({ issuer: url, jwks_uri: `${url}/keys` });
  });
  app.get('/keys', (_req, res) => {
    res.json({ keys: [jwk] });
  });
  return {
    url,
    key: privateKey,
    mint: (claims, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: url, aud: 'https://vault.azure.net', iat: now, exp: now + (options.expiresIn ?? 600), ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1', typ: 'JWT' })
        .sign(options.key ?? privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A TokenCredential handing out a fixed principal's tokens from the test issuer. */
export function issuerCredential(issuer: TestIssuer, principal: string): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token: await issuer.mint({ oid: principal, sub: principal }), expiresOnTimestamp: Date.now() + 300_000 }),
  };
}

export interface Stack {
  state: string;
  identity: RunningIdentity;
  issuer: TestIssuer;
  kms: RunningKms;
  /** The identity endpoint's default principal: Crypto Officer and Crypto Service Release User at the vault. */
  officer: string;
  client(credential: TokenCredential): KeyClient;
  close(): Promise<void>;
}

/** Identity endpoint + a test issuer + the KMS trusting both, in one temporary state directory. */
export async function startStack(options: Partial<KmsOptions> = {}): Promise<Stack> {
  const temp = await tempDir();
  const identity = await startIdentity({ stateDir: temp.dir });
  const issuer = await startTestIssuer();
  const officer = identity.defaultPrincipal.objectId;
  const kms = await startKms({
    stateDir: temp.dir,
    trustedIssuers: [issuer.url],
    keyRingIssuers: [identity.verification],
    roleAssignments: [
      { principal: officer, role: 'crypto-officer' },
      { principal: officer, role: 'crypto-service-release-user' },
    ],
    ...options,
  });
  return {
    state: temp.dir,
    identity,
    issuer,
    kms,
    officer,
    client: (credential) => new KeyClient(kms.url, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: kms.caPem }, retryOptions: { maxRetries: 0 } }),
    close: async () => {
      await kms.close();
      await issuer.close();
      await identity.close();
      await temp.remove();
    },
  };
}
