import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'skr.js');

export interface CliResult {
  status: number | null;
  json: any;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as users do (`npx --no-install skr` resolves to bin/skr.js); stdout must be one JSON object. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not one JSON object: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return { status: result.status, json, stdout: result.stdout, stderr: result.stderr };
}
