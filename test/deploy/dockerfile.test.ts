import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';

const ROOT = join(__dirname, '../..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped; enough to check structure. */
function instructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Instructions grouped by stage (each FROM starts one). */
function stages(list: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const instruction of list) {
    if (instruction.keyword === 'FROM') out.push([]);
    out[out.length - 1]?.push(instruction);
  }
  return out;
}

describe('Dockerfile', () => {
  const all = instructions(DOCKERFILE);
  const [build, runtime] = stages(all);

  test('dockerfile-utils finds nothing to report', () => {
    expect(validate(DOCKERFILE)).toEqual([]);
  });

  test('two stages: a Node 20 build stage and a Node 20 slim runtime', () => {
    expect(stages(all)).toHaveLength(2);
    expect(build[0].args).toBe('node:20-bookworm AS build');
    expect(runtime[0].args).toBe('node:20-bookworm-slim AS runtime');
  });

  test('the build stage installs, compiles the addon and TypeScript, then drops dev dependencies', () => {
    const runs = build
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    const order = ['npm ci', 'npm run build:native', 'npm run build', 'npm prune --omit=dev'].map((step) => runs.indexOf(step));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test('the runtime copies exactly dist, bin, the addon, production node_modules and package.json from the build', () => {
    const copies = runtime.filter((i) => i.keyword === 'COPY');
    expect(copies.every((c) => c.args.startsWith('--from=build '))).toBe(true);
    expect(copies.map((c) => c.args.split(/\s+/)[1]).sort()).toEqual(['/app/bin', '/app/build/Release/sevguest.node', '/app/dist', '/app/node_modules', '/app/package.json'].sort());
    expect(runtime.some((i) => i.keyword === 'RUN')).toBe(false);
  });

  test('the sidecar is the entrypoint on port 8080, with a health check on /status', () => {
    const last = (keyword: string) => runtime.filter((i) => i.keyword === keyword).pop()?.args;
    expect(JSON.parse(last('ENTRYPOINT') as string)).toEqual(['node', 'bin/skr.js', 'sidecar']);
    expect(last('EXPOSE')).toBe('8080');
    expect(last('HEALTHCHECK')).toMatch(/CMD \["node", "-e", ".*http:\/\/127\.0\.0\.1:.*8080.*\/status/);
  });

  test('no USER instruction, and the comment says why (root only to open the TEE device)', () => {
    expect(all.some((i) => i.keyword === 'USER')).toBe(false);
    expect(DOCKERFILE).toMatch(/no USER instruction/);
    expect(DOCKERFILE).toMatch(/--user nobody/);
  });

  test('OCI labels', () => {
    const labels = runtime
      .filter((i) => i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of ['title', 'description', 'version', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });
});

describe('.dockerignore', () => {
  const entries = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  test.each(['node_modules', '.git', '.state', 'dist', 'build', 'test', 'coverage'])('excludes %s', (entry) => {
    expect(entries).toContain(entry);
  });

  test('keeps what the build copies', () => {
    for (const needed of ['src', 'bin', 'package.json', 'package-lock.json', 'binding.gyp']) expect(entries).not.toContain(needed);
  });
});
