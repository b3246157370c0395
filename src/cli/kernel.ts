/**
 * `dralab kernel install` registers the tslab kernel with Jupyter through tslab's own
 * installer, then completes its kernel.json: node started by absolute path (Jupyter's
 * environment may lack node on PATH) and the environment the native GPU backend needs.
 * `dralab kernel check` says what is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';

export interface KernelInstallOptions {
  python: string;
  user?: boolean;
  prefix?: string;
  sysPrefix?: boolean;
  /** DRALAB_BACKEND written into the kernel's environment (default: the current value, if any). */
  backend?: string;
}

function tslabBin(): string {
  return join(dirname(require.resolve('tslab/package.json')), 'bin', 'tslab');
}

/** The module the kernelspec preloads: dralab's comm layer for tslab (src/notebook/preload.ts). */
export function kernelPreload(): string {
  return join(__dirname, '..', 'notebook', 'preload.js');
}

function python(py: string, code: string): string {
  const r = spawnSync(py, ['-c', code], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${py}: ${r.error.message}`);
  if (r.status !== 0) {
    // A Python traceback ends with the exception; its first line says nothing.
    const lines = (r.stderr || r.stdout).trim().split('\n');
    throw new Error(`${py} failed: ${lines[lines.length - 1]}`);
  }
  return r.stdout.trim();
}

/** Interpreters worth suggesting when the one named has no Jupyter (Debian's is often not the first python3 on PATH). */
const OTHER_PYTHONS = ['/usr/bin/python3', '/usr/local/bin/python3', 'python3', 'python'];

function pythonWithJupyter(except: string): string | undefined {
  return OTHER_PYTHONS.filter((p) => p !== except).find((p) => {
    const r = spawnSync(p, ['-c', 'import jupyter_client'], { encoding: 'utf8' });
    return !r.error && r.status === 0;
  });
}

/** The kernels folder tslab's installer writes to for these options. */
export function kernelsDir(options: KernelInstallOptions): string {
  if (options.prefix) return join(resolve(options.prefix), 'share', 'jupyter', 'kernels');
  if (options.sysPrefix) return join(python(options.python, 'import sys; print(sys.prefix)'), 'share', 'jupyter', 'kernels');
  if (options.user || process.getuid?.() !== 0) return join(python(options.python, 'from jupyter_core.paths import jupyter_data_dir; print(jupyter_data_dir())'), 'kernels');
  return join(python(options.python, 'from jupyter_core.paths import SYSTEM_JUPYTER_PATH; print(SYSTEM_JUPYTER_PATH[0])'), 'kernels');
}

/** Environment for the kernel: conda's CUDA/cuDNN libraries on LD_LIBRARY_PATH, backend choice passed through. */
export function kernelEnv(env: NodeJS.ProcessEnv, backend?: string): Record<string, string> {
  const out: Record<string, string> = {};
  const libraryPath = [env.CONDA_PREFIX ? join(env.CONDA_PREFIX, 'lib') : undefined, env.LD_LIBRARY_PATH].filter((p): p is string => !!p);
  if (libraryPath.length) out.LD_LIBRARY_PATH = [...new Set(libraryPath.join(':').split(':').filter(Boolean))].join(':');
  const chosen = backend ?? env.DRALAB_BACKEND;
  if (chosen) out.DRALAB_BACKEND = chosen;
  for (const name of ['CUDA_VISIBLE_DEVICES', 'TF_CPP_MIN_LOG_LEVEL', 'NODE_PATH'] as const) {
    if (env[name]) out[name] = env[name]!;
  }
  return out;
}

export function installKernel(options: KernelInstallOptions): string {
  const args = [tslabBin(), 'install', `--python=${options.python}`];
  if (options.prefix) args.push(`--prefix=${resolve(options.prefix)}`);
  if (options.sysPrefix) args.push('--sys-prefix');
  if (options.user) args.push('--user');
  // tslab's installer always registers a JavaScript kernel (jslab) too, whose command is
  // not on PATH when tslab is a project dependency; only the kernel asked for is kept.
  const jslabDir = join(kernelsDir(options), 'jslab');
  const jslabBefore = existsSync(jslabDir);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (!jslabBefore && existsSync(jslabDir)) rmSync(jslabDir, { recursive: true, force: true });
  if (r.status !== 0) {
    throw new Error(`tslab install failed (is Jupyter installed for ${options.python}?):\n${(r.stderr || r.stdout || String(r.error)).trim()}`);
  }
  const specPath = join(kernelsDir(options), 'tslab', 'kernel.json');
  if (!existsSync(specPath)) throw new Error(`tslab install reported success but ${specPath} is missing`);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { argv: string[]; env?: Record<string, string> };
  // The preload gives the kernel comms (and so ipywidgets) from its first message.
  spec.argv = [process.execPath, '--require', kernelPreload(), tslabBin(), ...spec.argv.slice(1)];
  spec.env = { ...spec.env, ...kernelEnv(process.env, options.backend) };
  writeFileSync(specPath, `${JSON.stringify(spec, null, 1)}\n`);
  return specPath;
}

export interface CheckResult {
  item: string;
  ok: boolean;
  detail: string;
}

export async function checkKernel(py: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let specs: Record<string, { resource_dir: string; spec: { argv: string[]; env?: Record<string, string> } }> = {};
  try {
    const version = python(py, 'import jupyter_client; print(jupyter_client.__version__)');
    results.push({ item: 'jupyter', ok: true, detail: `jupyter_client ${version} for ${py}` });
    specs = JSON.parse(python(py, 'import json; from jupyter_client.kernelspec import KernelSpecManager; print(json.dumps(KernelSpecManager().get_all_specs()))')) as typeof specs;
  } catch (err) {
    const other = pythonWithJupyter(py);
    const hint = other ? `${other} has Jupyter: dralab kernel install --python ${other}` : 'install Jupyter, or name the interpreter with --python';
    results.push({ item: 'jupyter', ok: false, detail: `${(err as Error).message.split('\n')[0]} (${hint})` });
  }
  const tslab = specs.tslab;
  if (!tslab) {
    results.push({ item: 'tslab kernel', ok: false, detail: 'not registered: run `dralab kernel install`' });
  } else {
    const exe = tslab.spec.argv[0] ?? '';
    const runnable = exe.startsWith('/') ? existsSync(exe) : spawnSync('which', [exe]).status === 0;
    results.push({ item: 'tslab kernel', ok: runnable, detail: runnable ? `${tslab.resource_dir} (${tslab.spec.argv.slice(0, 2).join(' ')})` : `${tslab.resource_dir}: ${exe} not found; re-run \`dralab kernel install\`` });
    const env = tslab.spec.env ?? {};
    results.push({ item: 'kernel environment', ok: true, detail: Object.keys(env).length ? Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ') : 'none set (DRALAB_BACKEND / LD_LIBRARY_PATH not passed)' });
  }
  try {
    await import('zeromq');
    results.push({ item: 'zeromq', ok: true, detail: 'loads (tslab talks to Jupyter through it)' });
  } catch (err) {
    results.push({ item: 'zeromq', ok: false, detail: (err as Error).message });
  }
  try {
    const resolved = require.resolve('dralab', { paths: [process.cwd()] });
    results.push({ item: "import 'dralab'", ok: true, detail: `resolves from ${process.cwd()} to ${resolved}` });
  } catch {
    results.push({ item: "import 'dralab'", ok: false, detail: `does not resolve from ${process.cwd()}: npm install dralab in the notebook's project (or, in this repository, npm run link-self)` });
  }
  try {
    const { selectBackend } = await import('../backend/select');
    const report = await selectBackend({});
    results.push({ item: 'backend', ok: true, detail: `${report.backend} (${report.selection})${report.attempts.filter((a) => !a.ok).map((a) => `; not ${a.backend}: ${a.reason}`).join('')}` });
  } catch (err) {
    results.push({ item: 'backend', ok: false, detail: (err as Error).message });
  }
  return results;
}

export function registerKernelCommand(program: Command): void {
  const kernel = program.command('kernel').description('set up the tslab Jupyter kernel for notebooks');
  kernel
    .command('install')
    .description("register the tslab kernel (through tslab's installer) with the environment the backends need")
    .option('--python <path>', 'the Python whose Jupyter gets the kernel', 'python3')
    .option('--user', 'install into the per-user kernel registry (default when not root)')
    .option('--prefix <dir>', 'install into <dir>/share/jupyter/kernels')
    .option('--sys-prefix', "install into the Python's sys.prefix (a virtualenv or conda env)")
    .option('--kernel-backend <name>', 'DRALAB_BACKEND for the kernel (default: the current DRALAB_BACKEND)')
    .action((o: { python: string; user?: boolean; prefix?: string; sysPrefix?: boolean; kernelBackend?: string }) => {
      if ([o.user, o.prefix, o.sysPrefix].filter(Boolean).length > 1) throw new Error('kernel install: choose one of --user, --prefix, --sys-prefix');
      const path = installKernel({ python: o.python, user: o.user, prefix: o.prefix, sysPrefix: o.sysPrefix, backend: o.kernelBackend });
      process.stdout.write(`tslab kernel registered: ${path}\n`);
    });
  kernel
    .command('check')
    .description('say what is missing for notebooks: Jupyter, the tslab kernel, the dralab import, a backend')
    .option('--python <path>', 'the Python whose Jupyter to check', 'python3')
    .option('--json', 'print JSON')
    .action(async (o: { python: string; json?: boolean }) => {
      const results = await checkKernel(o.python);
      process.stdout.write(o.json ? `${JSON.stringify(results, null, 2)}\n` : results.map((r) => `${r.ok ? 'ok     ' : 'MISSING'} ${r.item}: ${r.detail}`).join('\n') + '\n');
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });
}
