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
