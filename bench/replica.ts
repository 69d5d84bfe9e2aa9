import { startKms } from '../src/kms';

/**
 * One KMS replica for `bench/replicas.ts`, in a process of its own so that it can be killed:
 * argv[2] is `{stateDir, store, port, issuer, vaultUrl}`. The bench's officer is Crypto Officer
 * and release user; the parent's test issuer is the trusted token issuer and policy authority.
 */
async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as { stateDir: string; store: string; port: number; issuer: string; vaultUrl: string };
  const kms = await startKms({
    stateDir: config.stateDir,
    store: config.store,
    port: config.port,
    vaultUrl: config.vaultUrl,
    trustedIssuers: [config.issuer],
    roleAssignments: [
      { principal: 'bench-officer', role: 'crypto-officer' },
      { principal: 'bench-officer', role: 'crypto-service-release-user' },
    ],
  });
  process.send?.({ url: kms.url, caPem: kms.caPem });
  process.on('disconnect', () => void kms.close().then(() => process.exit(0)));
}

void main().catch((error) => {
  process.stderr.write(`bench replica failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
