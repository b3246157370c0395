/**
 * Running the `dralab` command line as a user would, from the tests: spawned from
 * bin/dralab.js on the wasm backend.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const root = join(__dirname, '../../..');
export const bin = join(root, 'bin/dralab.js');
export const cliEnv = { ...process.env, DRALAB_BACKEND: 'wasm' };

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `dralab <args>` to completion. */
export function dralab(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: cliEnv, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `dralab <args>` and sends `signal` once stderr matches `when` (e.g. the first progress line). */
export async function dralabSignalled(args: string[], signal: NodeJS.Signals, when: RegExp): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: cliEnv });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (when.test(stderr) && !child.killed) child.kill(signal);
  });
  const status = await exited;
  return { status, stdout, stderr };
}
