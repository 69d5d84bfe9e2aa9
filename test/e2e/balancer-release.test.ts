import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { KeyClient } from '@azure/keyvault-keys';
import { demoPolicy } from '../../src/dev/demo-keys';
import { kmsPaths } from '../../src/kms';
import { uvmIssuer } from '../../src/maa';
import { parseAppraisalPolicy, startVerifier, type RunningVerifier } from '../../src/maa/service';
import { loadSidecarConfig, startSidecar, type RunningSidecar } from '../../src/sidecar';
import { loadOrCreateVirtualPki } from '../../src/snp';
import { loadOrCreateTls, type TlsMaterial } from '../../src/tls/certificates';
import { describeBalanced, startBalancer, type Balancer } from '../lib/haproxy';
import { freePort, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { exited, imdsToken, officerToken, spawnKms, type Endpoints } from '../kms/child';
import { tempDir } from '../kms/harness';
import { raw } from '../kms/raw';
import { postToSidecar, type RawResponse } from '../reliability/harness';
import { within } from '../lib/within';

/**
 * The sidecar releasing keys as deployed beside replicas: two `skr kms --store postgres://…`
 * processes on one state directory behind HAProxy, the vault named by the balancer's address
 * (SKR_KMS_VAULT_URL, so key ids agree), the sidecar on the virtual device with an in-process
 * verifier, its `akv_endpoint` the balancer. The sidecar's token comes from one replica's
 * identity endpoint and the officer's from the other's: each replica accepts both.
 */
const API = '?api-version=7.4';
/** The replica contract's bound for a change at one replica to apply at another. */
const CONTRACT_BOUND_MS = 5_000;
const KEYS = ['spread-1', 'spread-2', 'spread-3', 'spread-4'];

interface Replica {
  child: Awaited<ReturnType<typeof spawnKms>>['child'];
  endpoints: Endpoints;
}

/** A credential that fetches its token once and keeps it, as @azure/identity's do, from `fetchToken`. */
function fetchedCredential(fetchToken: () => Promise<string>): TokenCredential {
  let token: Promise<string> | undefined;
  return {
    getToken: async (): Promise<AccessToken> => ({ token: await (token ??= fetchToken()), expiresOnTimestamp: Date.now() + 30 * 60_000 }),
  };
}

describeBalanced('the sidecar releasing keys through HAProxy in front of two skr kms replicas on PostgreSQL', () => {
  let cluster: PostgresCluster;
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let tls: TlsMaterial;
  let verifier: RunningVerifier;
  let balancer: Balancer;
  let sidecar: RunningSidecar;
  const replicas: (Replica | undefined)[] = [];
  let ports: number[];
  let start: (index: number) => Promise<void>;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    temp = await tempDir('skr-balanced-release-');
    const store = await cluster.database('balanced_release');
    // One CA for the verifier and the replicas: the replicas' own, made before they start (they load it).
    tls = await loadOrCreateTls(kmsPaths(temp.dir).tlsDir, { name: 'skr kms' });
    const pki = await loadOrCreateVirtualPki(temp.dir);
    verifier = await startVerifier({
      stateDir: temp.dir,
      tls,
      policy: parseAppraisalPolicy('{}'),
      trustedRoots: [pki.root],
      trustedUvmIssuers: [uvmIssuer(pki.uvm.issuer.did, pki.uvm.issuer.feed)],
    });
    const balancerPort = await freePort();
    ports = [await freePort(), await freePort()];
    const args = (port: number) => ['--store', store, '--port', String(port), '--trusted-authority', verifier.issuer, '--ca-file', kmsPaths(temp.dir).caCert];
    start = async (index) => {
      replicas[index] = await spawnKms(temp.dir, args(ports[index]!), { SKR_KMS_VAULT_URL: `https://localhost:${balancerPort}` });
    };
    // One at a time: the first creates the state directory's material, the other reads it.
    await start(0);
    await start(1);
    balancer = await startBalancer(ports, balancerPort);

    // The officer, with a token from replica 0's identity endpoint, creates the keys through the balancer.
    const officer = fetchedCredential(() => officerToken(replicas[0]!.endpoints));
    const keys = new KeyClient(balancer.url, officer, { disableChallengeResourceVerification: true, tlsOptions: { ca: tls.caPem }, retryOptions: { maxRetries: 0 } });
    const hostData = pki.config.guest.hostData.toString('hex');
    const releasePolicy = { encodedPolicy: Buffer.from(JSON.stringify(demoPolicy(verifier.issuer, hostData, pki.arkSha256))), contentType: 'application/json; charset=utf-8' };
    for (const name of KEYS) await keys.createOctKey(name, { hsm: true, keySize: 256, exportable: true, releasePolicy });

    // The sidecar, as the default principal (release only) with a token from replica 1's identity endpoint.
    const config = loadSidecarConfig({ flags: { port: '0', device: 'virtual', 'state-dir': temp.dir, 'maa-endpoint': verifier.url, 'akv-endpoint': balancer.url }, env: {} });
    config.caPems.push(tls.caPem);
    sidecar = await startSidecar(config, { credential: fetchedCredential(() => imdsToken(replicas[1]!.endpoints.identity)), keepPrivileges: true });
  }, POSTGRES_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await sidecar?.close();
    await balancer?.stop();
    for (const replica of replicas) {
      replica?.child.kill('SIGTERM');
      if (replica) await exited(replica.child);
    }
    await verifier?.close();
    await cluster?.remove();
    await temp?.remove();
  });

  const release = (kid: string) => postToSidecar(sidecar.url, '/key/release?format=object', { kid });
  const keyOf = (res: RawResponse) => (JSON.parse(res.text) as { key: { k: string } }).key.k;
  async function stop(index: number): Promise<void> {
    const replica = replicas[index]!;
    replica.child.kill('SIGTERM');
    await exited(replica.child);
    replicas[index] = undefined;
  }
  /** A change through replica `index` directly, as its officer. */
  async function patchAt(index: number, name: string, body: unknown): Promise<number> {
    const { endpoints } = replicas[index]!;
    const res = await raw(endpoints.kms, tls.caPem, 'PATCH', `/keys/${name}${API}`, { token: await officerToken(endpoints), body: JSON.stringify(body) });
    return res.status;
  }

  test('releases through the balancer succeed at both replicas, with one replica’s token at the other; a key disabled through one is refused within 5 s', async () => {
    // Side by side: the sidecar opens connections as it needs them, and the balancer deals them out.
    const first = await Promise.all(KEYS.map(release));
    expect(first.map((r) => r.status)).toEqual(KEYS.map(() => 200));
    const material = new Map(KEYS.map((name, i) => [name, keyOf(first[i]!)]));

    // Replica 1 stopped: replica 0 answers every release, with the token of replica 1's identity.
    await stop(1);
    for (const name of KEYS) {
      const res = await release(name);
      expect([name, res.status, keyOf(res)]).toEqual([name, 200, material.get(name)]);
    }

    // Replica 1 back and replica 0 stopped: replica 1 answers them, the same material.
    await start(1);
    await stop(0);
    expect(
      await within(CONTRACT_BOUND_MS, async () => {
        const res = await release(KEYS[0]!);
        return res.status === 200 && keyOf(res) === material.get(KEYS[0]!);
      }),
    ).toBe(true);
    for (const name of KEYS) expect(keyOf(await release(name))).toBe(material.get(name));

    // Replica 0 back; a key disabled through it directly is refused to the sidecar, whichever replica answers, within the bound.
    await start(0);
    expect(await patchAt(0, KEYS[1]!, { attributes: { enabled: false } })).toBe(200);
    expect(await within(CONTRACT_BOUND_MS, async () => (await release(KEYS[1]!)).status === 403)).toBe(true);
    // The others are still released.
    expect((await release(KEYS[2]!)).status).toBe(200);
    expect(await patchAt(0, KEYS[1]!, { attributes: { enabled: true } })).toBe(200);
    expect(await within(CONTRACT_BOUND_MS, async () => (await release(KEYS[1]!)).status === 200)).toBe(true);
  }, 180_000);
});
