import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { keyCreate, keyImport } from '../../../src/cli/key';
import { createReleasePolicy } from '../../../src/deploy';
import { InvalidArgument, ReleasePolicyWeak, UpstreamRejected } from '../../../src/errors';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  // The request body as JSON, inspected freely.
  body: any;
}

/**
 * A loopback stand-in for Key Vault's wire protocol, just enough to see what the SDK sends:
 * the bearer challenge first, then a KeyBundle echoing the request.
 */
function fakeVault(answer?: (seen: Seen) => { status: number; body: unknown } | undefined) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => void respond(req, res));
  async function respond(req: IncomingMessage, res: ServerResponse) {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (!req.headers.authorization) {
      res.writeHead(401, { 'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/tenant-id", resource="https://vault.azure.net"' });
      res.end();
      return;
    }
    const request: Seen = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined };
    seen.push(request);
    const override = answer?.(request);
    const name = request.url.split('?')[0].split('/')[2];
    const { address, port } = server.address() as AddressInfo;
    const key = request.body.key ?? {};
    const body = override?.body ?? {
      key: { kid: `http://${address}:${port}/keys/${name}/0123456789abcdef0123456789abcdef`, kty: request.body.kty ?? key.kty, key_ops: request.body.key_ops ?? ['wrapKey', 'unwrapKey'] },
      attributes: { enabled: true, exportable: request.body.attributes?.exportable ?? false },
      release_policy: request.body.release_policy,
    };
    res.writeHead(override?.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  return {
    seen,
    start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const POLICY = createReleasePolicy('https://sharedeus.eus.attest.azure.net', ['ab'.repeat(32)]);
/** The SDK writes the query as api%2Dversion; URLSearchParams decodes it. */
const pathAndVersion = (url: string) => {
  const parsed = new URL(url, 'http://vault');
  return [parsed.pathname, parsed.searchParams.get('api-version')];
};
const decodePolicy = (data: string) => JSON.parse(Buffer.from(data, 'base64url').toString('utf8'));

let dir: string;
let policyFile: string;
let weakPolicyFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'skr-key-cli-'));
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  weakPolicyFile = join(dir, 'weak.json');
  writeFileSync(
    weakPolicyFile,
    JSON.stringify({ version: '1.0.0', anyOf: [{ authority: 'https://sharedeus.eus.attest.azure.net', allOf: [{ claim: 'x-ms-compliance-status', equals: 'azure-compliant-uvm' }] }] }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('skr key create / import through @azure/keyvault-keys', () => {
  const vault = fakeVault();
  let url: string;
  beforeAll(async () => {
    url = await vault.start();
  });
  afterAll(() => vault.stop());
  beforeEach(() => vault.seen.splice(0));

  test('create RSA-HSM: key size, exportable and the release policy go on the wire', async () => {
    const result = await keyCreate(['--vault', url, '--name', 'wrapping-key', '--kty', 'RSA-HSM', '--policy', policyFile, '--exportable'], { credential });
    expect(vault.seen).toHaveLength(1);
    const [request] = vault.seen;
    expect(request.method).toBe('POST');
    expect(pathAndVersion(request.url)).toEqual(['/keys/wrapping-key/create', '2025-07-01']);
    expect(request.authorization).toBe('Bearer test-token');
    expect(request.body).toMatchObject({ kty: 'RSA-HSM', key_size: 3072, attributes: { exportable: true }, release_policy: { immutable: false } });
    expect(decodePolicy(request.body.release_policy.data)).toEqual(POLICY);
    expect(result).toMatchObject({ name: 'wrapping-key', kty: 'RSA-HSM', exportable: true, immutablePolicy: false, releasePolicy: POLICY, version: '0123456789abcdef0123456789abcdef' });
  });

  test.each<[string[], object]>([
    [['--kty', 'oct-HSM'], { kty: 'oct-HSM', key_size: 256 }],
    [['--kty', 'oct-HSM', '--size', '128'], { kty: 'oct-HSM', key_size: 128 }],
    [['--kty', 'EC-HSM', '--curve', 'P-384'], { kty: 'EC-HSM', crv: 'P-384' }],
    [
      ['--kty', 'RSA-HSM', '--size', '4096', '--ops', 'wrapKey,unwrapKey', '--immutable-policy'],
      { kty: 'RSA-HSM', key_size: 4096, key_ops: ['wrapKey', 'unwrapKey'], release_policy: { immutable: true } },
    ],
  ])('create %j', async (flags, expected) => {
    await keyCreate(['--vault', url, '--name', 'k1', '--policy', policyFile, ...flags], { credential });
    expect(vault.seen[0].body).toMatchObject(expected);
  });

  test('import a PEM RSA key into the HSM with its release policy', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = join(dir, 'rsa.pem');
    writeFileSync(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await keyImport(['--vault', url, '--name', 'imported', '--kty', 'RSA-HSM', '--key', pem, '--policy', policyFile, '--exportable'], { credential });
    const [request] = vault.seen;
    expect(request.method).toBe('PUT');
    expect(pathAndVersion(request.url)).toEqual(['/keys/imported', '2025-07-01']);
    // Key Vault's import body spells the flag "Hsm".
    const jwk = privateKey.export({ format: 'jwk' });
    expect(request.body).toMatchObject({ Hsm: true, attributes: { exportable: true }, key: { kty: 'RSA-HSM', n: jwk.n, e: jwk.e, d: jwk.d } });
    expect(decodePolicy(request.body.release_policy.data)).toEqual(POLICY);
  });

  test('import an oct JWK', async () => {
    const k = randomBytes(32).toString('base64url');
    const file = join(dir, 'oct.json');
    writeFileSync(file, JSON.stringify({ kty: 'oct', k }));
    await keyImport(['--vault', url, '--name', 'aes', '--kty', 'oct-HSM', '--key', file, '--policy', policyFile, '--exportable'], { credential });
    expect(vault.seen[0].body.key).toMatchObject({ kty: 'oct-HSM', k });
  });

  test('a weak policy is refused before anything is sent, unless allowed explicitly', async () => {
    const argv = ['--vault', url, '--name', 'k2', '--kty', 'RSA-HSM', '--policy', weakPolicyFile];
    await expect(keyCreate(argv, { credential })).rejects.toThrow(ReleasePolicyWeak);
    expect(vault.seen).toHaveLength(0);
    await keyCreate([...argv, '--allow-weak-policy'], { credential });
    expect(vault.seen).toHaveLength(1);
  });
});

describe('vault errors map to skr errors', () => {
  test('a Key Vault 400 becomes upstream_rejected with the service code', async () => {
    const vault = fakeVault(() => ({ status: 400, body: { error: { code: 'BadParameter', message: 'AKV.SKR.1001: exportable keys need a premium vault' } } }));
    const url = await vault.start();
    try {
      const failure = keyCreate(['--vault', url, '--name', 'k', '--kty', 'RSA-HSM', '--policy', policyFile, '--exportable'], { credential });
      await expect(failure).rejects.toThrow(UpstreamRejected);
      await expect(failure).rejects.toMatchObject({ status: 400, details: { upstreamCode: 'BadParameter', upstreamStatus: 400 } });
    } finally {
      await vault.stop();
    }
  });
});

describe('argument validation (nothing is sent)', () => {
  const base = ['--vault', 'https://myvault.vault.azure.net', '--name', 'k', '--policy', 'unused.json'];
  test.each<[string[], string]>([
    [['--name', 'k', '--kty', 'RSA-HSM'], '--vault is required'],
    [['--vault', 'https://v.vault.azure.net', '--name', 'bad name', '--kty', 'RSA-HSM'], '--name'],
    [[...base, '--kty', 'RSA'], '--kty must be one of'],
    [[...base, '--kty', 'RSA-HSM', '--size', '1024'], '--size for RSA-HSM'],
    [[...base, '--kty', 'EC-HSM', '--size', '256'], 'EC-HSM takes --curve'],
    [[...base, '--kty', 'EC-HSM', '--curve', 'P-999'], '--curve must be one of'],
    [[...base, '--kty', 'oct-HSM', '--curve', 'P-256'], '--curve is for EC-HSM'],
    [[...base, '--kty', 'RSA-HSM', '--ops', 'wrapKey,steal'], '"steal"'],
    [['--vault', 'https://v.vault.azure.net', '--name', 'k', '--kty', 'RSA-HSM'], '--policy is required'],
    [['--vault', 'http://v.vault.azure.net', '--name', 'k', '--kty', 'RSA-HSM', '--policy', 'x'], 'ENOENT'],
  ])('create %j', async (argv, message) => {
    await expect(keyCreate(argv, { credential })).rejects.toThrow(InvalidArgument);
    await expect(keyCreate(argv, { credential })).rejects.toThrow(message);
  });

  test('http is refused for a non-loopback vault', async () => {
    await expect(keyCreate(['--vault', 'http://v.vault.azure.net', '--name', 'k', '--kty', 'RSA-HSM', '--policy', policyFile], { credential })).rejects.toThrow('vault must use https');
  });

  test.each<[string, string, string]>([
    ['an EC key for --kty RSA-HSM', 'ec.pem', 'holds a EC key'],
    ['a public key only', 'pub.json', 'no private material'],
    ['a 64-bit oct key', 'short.json', '128, 192 or 256 bits'],
    ['garbage', 'garbage.txt', 'private JWK'],
  ])('import refuses %s', async (_name, file, message) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'ec.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'pub.json'), JSON.stringify(publicKey.export({ format: 'jwk' })));
    writeFileSync(join(dir, 'short.json'), JSON.stringify({ kty: 'oct', k: randomBytes(8).toString('base64url') }));
    writeFileSync(join(dir, 'garbage.txt'), 'hello');
    const kty = file === 'short.json' ? 'oct-HSM' : file === 'pub.json' ? 'EC-HSM' : 'RSA-HSM';
    const argv = ['--vault', 'https://v.vault.azure.net', '--name', 'k', '--kty', kty, '--key', join(dir, file), '--policy', policyFile];
    await expect(keyImport(argv, { credential })).rejects.toThrow(InvalidArgument);
    await expect(keyImport(argv, { credential })).rejects.toThrow(message);
  });
});
