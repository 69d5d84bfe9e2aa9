import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseParametersFile } from '../../src/deploy';
import { DEFAULT_SCOPE } from '../../src/deploy/arm/functions';
import { isObject, resolveTemplate, type JsonObject } from '../../src/deploy/arm/template';
import { exited } from '../kms/child';
import { postJson } from '../reliability/harness';

/**
 * The templates' container commands, run as separate processes exactly as the self-hosted
 * contract says (README, arm-templates/README.md): the verifier and the KMS of
 * aci-skr-selfhosted.json with local ports and state, TLS/host/master-key flags dropped and the
 * verifier given a virtual state's ARK; keys made with `skr policy create` + `skr key create` as
 * the officer; then `skr sidecar --device virtual` releases the key bound to that state's
 * host_data and is refused (403) the key bound to another. The same for aci-skr-sidecar.json's
 * sidecar (the image's entrypoint with the template's environment) pointed at them.
 */
const ROOT = join(__dirname, '..', '..');
const SKR = join(ROOT, 'bin', 'skr.js');
const TEMPLATES = join(ROOT, 'arm-templates');
/** Flags the contract removes with their values: they name deployment resources (TLS files, the group's address, HSMs, the master key's vault). */
const DROPPED = new Set(['--master-key-release', '--tls-cert', '--tls-key', '--host', '--store']);
const DROPPED_PREFIX = '--pkcs11-';

let work: string;
const children: ChildProcess[] = [];
const timings: Record<string, number> = {};

function resolvedContainers(template: string, parameters: Record<string, { value: unknown }>): JsonObject[] {
  const resolved = resolveTemplate(JSON.parse(template), parameters as never, DEFAULT_SCOPE);
  expect(resolved.errors).toEqual([]);
  const group = resolved.resources.find((r) => r.resolved.type === 'Microsoft.ContainerInstance/containerGroups')!;
  const properties = group.resolved.properties as JsonObject;
  return (properties.containers as JsonObject[]).map((c) => ({ name: c.name, ...(c.properties as JsonObject) }));
}

/** A template command as the contract runs it: `--port`/`--state-dir` replaced, deployment flags dropped. */
function localCommand(command: string[], local: { port: string; stateDir: string }): string[] {
  expect(command.slice(0, 2)).toEqual(['node', 'bin/skr.js']);
  const args = command.slice(2);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (DROPPED.has(arg) || arg.startsWith(DROPPED_PREFIX)) {
      i++;
      continue;
    }
    if (arg === '--port') out.push(arg, local.port);
    else if (arg === '--state-dir') out.push(arg, local.stateDir);
    else {
      out.push(arg);
      continue;
    }
    i++;
  }
  return out;
}

/** Starts `node bin/skr.js ROLE ...` and resolves with the JSON document it prints once it serves (`{ROLE: {...}}`); log lines are skipped. */
function startService(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, any>> {
  const child = spawn(process.execPath, [SKR, ...args], { cwd: ROOT, env: { ...process.env, SKR_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      // The document may be pretty-printed after log lines: try it from each line start.
      const starts = [0, ...[...stdout.matchAll(/\n/g)].map((m) => m.index! + 1)];
      for (const start of starts) {
        try {
          const document = JSON.parse(stdout.slice(start));
          if (document && typeof document === 'object' && args[0]! in document) return resolve(document);
        } catch {
          // not a whole document from here (yet)
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`skr ${args[0]} exited ${code}: ${stderr}`)));
  });
}

/** Runs `node bin/skr.js ARGS` to its end; its JSON output. */
function runSkr(args: string[], env: NodeJS.ProcessEnv = {}): Promise<any> {
  const child = spawn(process.execPath, [SKR, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`skr ${args.slice(0, 2).join(' ')} exited ${code}: ${stdout}${stderr}`))));
  });
}

const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const result = await run();
  timings[name] = Math.round(performance.now() - started);
  return result;
};

let virtualState: string;
let hostData: string;
let verifierUrl: string;
let kmsUrl: string;
let trustEnv: NodeJS.ProcessEnv;
let identityUrl: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'skr-template-'));
  virtualState = join(work, 'tee');
  await runSkr(['virtual', 'init', '--state-dir', virtualState]);
  const { report } = await runSkr(['report', 'get', '--device', 'virtual', '--state-dir', virtualState]);
  hostData = Buffer.from(report, 'hex').subarray(0xc0, 0xe0).toString('hex');

  const template = await readFile(join(TEMPLATES, 'aci-skr-selfhosted.json'), 'utf8');
  const parameters = parseParametersFile(JSON.parse(await readFile(join(TEMPLATES, 'aci-skr-selfhosted.parameters.json'), 'utf8')));
  const commands = resolvedContainers(template, parameters as never).filter((c) => Array.isArray(c.command));
  const commandOf = (role: string) => commands.find((c) => (c.command as string[])[2] === role)!.command as string[];
  expect(commands.map((c) => (c.command as string[])[2]).sort()).toEqual(['kms', 'verifier']);

  const verifierArgs = [...localCommand(commandOf('verifier'), { port: '0', stateDir: join(work, 'verifier') }), '--trust-root', join(virtualState, 'virtual', 'ark.pem')];
  const kmsArgs = localCommand(commandOf('kms'), { port: '0', stateDir: join(work, 'kms') });
  const verifier = await timed('verifierStartMs', () => startService(verifierArgs));
  // The KMS reaches the authority a key's policy names over HTTPS with the outbound trust: here
  // the verifier's generated CA, through NODE_EXTRA_CA_CERTS (an operator's publicly trusted
  // certificate needs nothing).
  const kms = await timed('kmsStartMs', () => startService(kmsArgs, { NODE_EXTRA_CA_CERTS: verifier.verifier.caFile }));
  verifierUrl = verifier.verifier.url;
  kmsUrl = kms.kms.url;
  identityUrl = kms.kms.identity;
  const endpoints = JSON.parse(await readFile(join(work, 'kms', 'endpoints.json'), 'utf8'));
  expect(endpoints).toMatchObject({ kms: kmsUrl, identity: identityUrl, caCertFile: expect.any(String), officer: { endpoint: expect.any(String), headerFile: expect.any(String) } });

  const bundle = join(work, 'ca-bundle.pem');
  await writeFile(bundle, `${await readFile(verifier.verifier.caFile, 'utf8')}\n${await readFile(endpoints.caCertFile, 'utf8')}`);
  trustEnv = { NODE_EXTRA_CA_CERTS: bundle };
  const officerEnv = { ...trustEnv, IDENTITY_ENDPOINT: endpoints.officer.endpoint, IDENTITY_HEADER: await readFile(endpoints.officer.headerFile, 'utf8') };

  const otherHostData = (BigInt(`0x${hostData}`) ^ 1n).toString(16).padStart(64, '0');
  for (const [name, data] of [
    ['bound', hostData],
    ['other-tee', otherHostData],
  ] as const) {
    const policy = await runSkr(['policy', 'create', '--maa', verifierUrl, '--hostdata', data], trustEnv);
    const file = join(work, `${name}.policy.json`);
    await writeFile(file, JSON.stringify(policy));
    await runSkr(['key', 'create', '--vault', kmsUrl, '--name', name, '--kty', 'oct-HSM', '--size', '256', '--policy', file, '--exportable'], officerEnv);
  }
}, 180_000);

afterAll(async () => {
  for (const child of children) {
    child.kill('SIGTERM');
    await exited(child);
  }
  if (work) await rm(work, { recursive: true, force: true });
  if (Object.keys(timings).length) process.stderr.write(`template-commands timings: ${JSON.stringify(timings)}\n`);
});

async function releaseThrough(sidecar: Record<string, any>): Promise<void> {
  const url = sidecar.sidecar.url as string;
  const first = await timed('firstReleaseMs', () => postJson(url, '/key/release?format=object', { kid: 'bound' }));
  expect({ status: first.status, text: first.status === 200 ? '' : first.text }).toEqual({ status: 200, text: '' });
  expect(JSON.parse(first.text).key).toMatchObject({ kty: 'oct', k: expect.any(String) });
  const again = await timed('warmReleaseMs', () => postJson(url, '/key/release?format=object', { kid: 'bound' }));
  expect(again.status).toBe(200);
  const refused = await postJson(url, '/key/release?format=object', { kid: 'other-tee' });
  expect(refused.status).toBe(403);
  expect(refused.text).not.toContain('"k"');
}

test('skr sidecar --device virtual releases the key bound to its host_data from the template’s KMS, and is refused the other (403)', async () => {
  const sidecar = await timed('sidecarStartMs', () =>
    startService(['sidecar', '--port', '0', '--device', 'virtual', '--state-dir', virtualState, '--maa-endpoint', verifierUrl, '--akv-endpoint', kmsUrl, '--user', 'root'], {
      ...trustEnv,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: identityUrl,
    }),
  );
  await releaseThrough(sidecar);
}, 120_000);

test('aci-skr-sidecar.json’s sidecar (the image entrypoint with the template’s environment) does the same against them', async () => {
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  const template = await readFile(join(TEMPLATES, 'aci-skr-sidecar.json'), 'utf8');
  const parameters = {
    ...parseParametersFile(JSON.parse(await readFile(join(TEMPLATES, 'aci-skr-sidecar.parameters.json'), 'utf8'))),
    maaEndpoint: { value: new URL(verifierUrl).host },
    akvEndpoint: { value: new URL(kmsUrl).host },
  };
  const container = resolvedContainers(template, parameters as never).find((c) => c.name === 'skr-sidecar')!;
  expect(container.command).toBeUndefined();
  const env = Object.fromEntries((container.environmentVariables as JsonObject[]).filter(isObject).map((e) => [e.name as string, e.value as string]));
  expect(env).toMatchObject({ SKR_MAA_ENDPOINT: new URL(verifierUrl).host, SKR_AKV_ENDPOINT: new URL(kmsUrl).host });
  const args = localCommand([...entrypoint, '--device', 'virtual', '--state-dir', virtualState, '--user', 'root', '--port', '0'], { port: '0', stateDir: virtualState });
  const sidecar = await startService(args, { ...env, ...trustEnv, AZURE_POD_IDENTITY_AUTHORITY_HOST: identityUrl });
  await releaseThrough(sidecar);
}, 120_000);
