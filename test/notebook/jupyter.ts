/**
 * An isolated Jupyter set-up for end-to-end notebook tests: the tslab kernel registered
 * under a temporary prefix (through `dralab kernel install`), JUPYTER_* folders in the
 * same temporary directory, and `dralab` importable from notebooks/. Tests skip with a
 * reason when Debian's jupyter-server, nbclient or chromium are missing
 * (.ci/run installs them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { installKernel } from '../../src/cli/kernel';

export const PYTHON = '/usr/bin/python3';
export const JUPYTER_SERVER = '/usr/bin/jupyter-server';
export const CHROMIUM = '/usr/bin/chromium';
export const REPO = resolve(__dirname, '../../..');
export const ARTIFACTS = join(REPO, 'test-artifacts', 'notebooks');

/** Why Jupyter tests cannot run here, or undefined when they can. */
export function jupyterMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  if (!existsSync(JUPYTER_SERVER)) return `${JUPYTER_SERVER} is absent (apt-get install jupyter-server python3-nbclient python3-nbconvert)`;
  const probe = spawnSync(PYTHON, ['-c', 'import nbclient, nbconvert, jupyter_client'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} lacks nbclient/nbconvert (apt-get install python3-nbclient python3-nbconvert)`;
  return undefined;
}

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent (apt-get install chromium)`;
}

export interface JupyterEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** Makes node_modules/dralab point at the repository, as scripts/link-self.mjs does. */
export function linkSelf(): void {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'link-self.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/link-self.mjs failed: ${r.stderr}`);
}

export function isolatedJupyter(): JupyterEnv {
  linkSelf();
  const dir = mkdtempSync(join(tmpdir(), 'dralab-jupyter-'));
  for (const sub of ['data', 'config', 'runtime']) mkdirSync(join(dir, sub));
  installKernel({ python: PYTHON, prefix: dir });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: join(dir, 'share', 'jupyter'),
    JUPYTER_DATA_DIR: join(dir, 'data'),
    JUPYTER_CONFIG_DIR: join(dir, 'config'),
    JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
    JUPYTER_PLATFORM_DIRS: '0',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  return { dir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ChromiumResult {
  dom: string;
  /** Drawn plotly charts (elements with class js-plotly-plot). */
  plots: number;
  /** Charts whose draw script reported a problem. */
  messages: string[];
}

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--virtual-time-budget=15000'];

/** Renders an HTML file headless: counts drawn charts and saves a full-page screenshot. */
export function renderInChromium(htmlFile: string, screenshot: string, scratch: string): ChromiumResult {
  const userData = join(scratch, `chromium-${Date.now()}`);
  const dump = spawnSync(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${userData}`, '--dump-dom', `file://${htmlFile}`], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  if (dump.status !== 0) throw new Error(`chromium --dump-dom failed (${dump.status}): ${dump.stderr.slice(-1000)}`);
  mkdirSync(resolve(screenshot, '..'), { recursive: true });
  spawnSync(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${userData}`, '--hide-scrollbars', '--window-size=1100,4000', `--screenshot=${screenshot}`, `file://${htmlFile}`], { encoding: 'utf8', timeout: 120_000 });
  const dom = dump.stdout;
  const plots = (dom.match(/class="[^"]*\bjs-plotly-plot\b/g) ?? []).length;
  const messages = [...dom.matchAll(/class="dralab-message" style="display: block;[^"]*">([^<]*)</g)].map((m) => m[1]!);
  return { dom, plots, messages };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `probe` every 100 ms until it gives a value. */
export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LiveServer {
  baseUrl: string;
  wsUrl: string;
  token: string;
  /** jupyter-server's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A real jupyter-server on 127.0.0.1 (random port, token) serving `rootDir`, with the isolated kernel set-up. */
export async function startJupyterServer(jupyter: JupyterEnv, rootDir: string, extraArgs: string[] = []): Promise<LiveServer> {
  const { spawn } = await import('node:child_process');
  const { randomBytes } = await import('node:crypto');
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const server = spawn(JUPYTER_SERVER, ['--no-browser', ...(process.getuid?.() === 0 ? ['--allow-root'] : []), '--ServerApp.ip=127.0.0.1', `--ServerApp.port=${port}`, '--ServerApp.port_retries=0', `--ServerApp.token=${token}`, `--ServerApp.root_dir=${rootDir}`, ...extraArgs], { env: jupyter.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (let up = false; !up; ) {
    if (server.exitCode !== null) throw new Error(`jupyter-server exited (${server.exitCode}): ${log.slice(-1500)}`);
    if (Date.now() > deadline) throw new Error(`jupyter-server did not answer on ${baseUrl}: ${log.slice(-1500)}`);
    up = await fetch(`${baseUrl}api/status?token=${token}`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/`,
    token,
    log: () => log,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
    },
  };
}

export interface CellRun {
  status: string;
  messages: import('@jupyterlab/services').KernelMessage.IIOPubMessage[];
  stdout: string;
  stderr: string;
}

/** Runs one cell on a kernel connection; collects its iopub messages and streams. */
export async function executeCell(kernel: import('@jupyterlab/services').Kernel.IKernelConnection, code: string): Promise<CellRun> {
  const future = kernel.requestExecute({ code, stop_on_error: false });
  const messages: CellRun['messages'] = [];
  future.onIOPub = (msg) => void messages.push(msg);
  const reply = await future.done;
  const streams = (name: string) => messages.filter((m) => m.header.msg_type === 'stream' && (m.content as { name: string }).name === name).map((m) => (m.content as { text: string }).text).join('');
  return { status: (reply.content as { status: string }).status, messages, stdout: streams('stdout'), stderr: streams('stderr') };
}

/** Shuts a kernel down, stops the server and removes the isolated set-up, whatever state they are in. */
export async function shutDown(kernel: { shutdown(): Promise<void> } | undefined, manager: { dispose(): void } | undefined, server: LiveServer | undefined, jupyter: JupyterEnv | undefined): Promise<void> {
  try {
    await kernel?.shutdown();
  } catch {
    // the server is stopped below either way
  }
  manager?.dispose();
  await server?.stop();
  jupyter?.cleanup();
}
