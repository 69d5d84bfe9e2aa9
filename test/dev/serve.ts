import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const REGISTER = join(__dirname, '..', 'kms', 'fixtures', 'ts-register.js');
const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');

export interface ServiceEndpoints {
  kms: string;
  identity: string;
  caCertFile: string;
  officer: { endpoint: string; headerFile: string };
  sidecar?: string;
  kbs?: string;
}

/**
 * Runs `skr <command> --state-dir D ...` through the CLI's own entry (`main`, which sets the
 * umask as `bin/skr.js` does) in a child process, and waits for the endpoints.json it writes.
 */
export async function serve(
  command: 'dev' | 'kms',
  stateDir: string,
  extraArgs: string[] = [],
): Promise<{ child: ChildProcess; endpoints: ServiceEndpoints; stop: () => Promise<void>; stderr: () => string }> {
  const script = `require(${JSON.stringify(MAIN)}).main(process.argv.slice(1))`;
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', script, '--', command, '--state-dir', stateDir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const text = await readFile(join(stateDir, 'endpoints.json'), 'utf8').catch(() => undefined);
    if (text) return { child, endpoints: JSON.parse(text) as ServiceEndpoints, stop, stderr: () => stderr };
    if (child.exitCode !== null) throw new Error(`skr ${command} exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`skr ${command} did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
