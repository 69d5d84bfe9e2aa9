import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REGISTER = join(__dirname, '..', 'kms', 'fixtures', 'ts-register.js');
const SERVE = join(__dirname, '..', 'reliability', 'fixtures', 'sidecar-serve.ts');

/**
 * `skr sidecar ARGS` in a process of its own (from the TypeScript sources), with `env` over the
 * test's environment; `url` resolves once it serves, and rejects with its stderr if it exits first.
 */
export function spawnSidecarProcess(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', `require(${JSON.stringify(SERVE)})`, '--', ...args], {
    env: { ...process.env, SKR_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('\n')) resolve((JSON.parse(stdout) as { sidecar: { url: string } }).sidecar.url);
    });
    child.once('exit', (code) => reject(new Error(`skr sidecar exited ${code}: ${stderr}`)));
  });
  return { child, url };
}
