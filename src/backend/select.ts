/**
 * Picks the fastest TensorFlow.js backend that loads on this machine and says why the
 * faster ones were not used. Order: tfjs-node-gpu (CUDA), tfjs-node (native CPU),
 * webgpu (hardware adapter only), wasm (XNNPACK, with our training kernels), cpu.
 */
import * as tf from '@tensorflow/tfjs-core';

/** User-facing backend names, as accepted by DRALAB_BACKEND and `--backend`. */
export const BACKEND_NAMES = ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  /** Why this backend was not used (absent for the chosen one). */
  reason?: string;
}

export interface BackendReport {
  /** The backend in use. */
  backend: BackendName;
  /** The tfjs-internal backend name (`tensorflow`, `wasm`, `cpu`, `webgpu`). */
  tfjsBackend: string;
  /** How it was chosen. */
  selection: 'auto' | 'forced';
  /** Every backend tried before (and including) the chosen one. */
  attempts: BackendAttempt[];
  versions: Record<string, string>;
  /** Threads the backend computes with. */
  threads: number;
  /** Extra facts about the backend (e.g. the WebGPU adapter). */
  details: Record<string, unknown>;
}

export class BackendUnavailableError extends Error {
  constructor(readonly backend: BackendName, readonly reason: string) {
    super(`backend '${backend}' was requested but cannot be used: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

import type { Loader } from './loader';
import { MAX_WASM_THREADS, resolveThreads, ThreadsError, useWasmThreads, wasmThreads } from './wasm-threads';
import { loadOneDnn, oneDnnActive, oneDnnThreads, oneDnnUnavailableReason, parseConvolutionEngine, useOneDnnConvolutions, useXnnpackConvolutions, type ConvolutionEngine } from './onednn';
export type { LoaderContext } from './loader';

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

function packageVersion(name: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/** Requires an optional native package, turning "Cannot find module" into what to do. */
function requireOptional(name: string): void {
  try {
    require(name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`)) {
      throw new Error(`${name} is not installed (optional: its install script downloads libtensorflow; see the README's GPU section)`);
    }
    throw err;
  }
}

const LOADERS: Record<BackendName, Loader> = {
  'node-gpu': async () => {
    requireOptional('@tensorflow/tfjs-node-gpu');
    await activate('tensorflow');
    return { tfjsBackend: 'tensorflow' };
  },
  node: async () => {
    requireOptional('@tensorflow/tfjs-node');
    await activate('tensorflow');
    return { tfjsBackend: 'tensorflow' };
  },
  webgpu: async (context) => {
    // Loaded on demand: the module pulls in the optional webgpu packages.
    const { webgpuLoader } = await import('./webgpu');
    return webgpuLoader(context);
  },
  wasm: async (context) => {
    const before = processHandlers();
    require('@tensorflow/tfjs-backend-wasm');
    const convolutions = decideConvolutions(context.convolutions);
    // oneDNN's OpenMP threads may be as many as the cores (or as asked); only the threaded
    // wasm build is capped (its pre-started workers).
    const choice = resolveThreads(context.threads, '--threads', convolutions.engine === 'onednn' ? Number.POSITIVE_INFINITY : MAX_WASM_THREADS);
    // With oneDNN computing the convolutions and batch norm, what stays on wasm is small
    // elementwise kernels, where waking the pool's Node worker threads costs more than it
    // saves: a WRN-16-2 search step took 216 ms with a 1-thread pool, 260 ms with 2, a
    // ResNet-20 one 110 ms and 177 ms (BENCHMARKS.md). So the threads go to oneDNN and
    // wasm runs its single-threaded build.
    const poolThreads = convolutions.engine === 'onednn' ? 1 : choice.threads;
    await useWasmThreads(poolThreads);
    const { registerWasmTrainingKernels } = await import('./wasm-kernels');
    registerWasmTrainingKernels();
    let convolutionText: string;
    if (convolutions.engine === 'onednn') {
      convolutionText = `${useOneDnnConvolutions(choice.threads)} (native addon: Conv2D and both backprops, training batch norm)`;
    } else {
      useXnnpackConvolutions();
      convolutionText = `XNNPACK in wasm (${convolutions.why})`;
    }
    await activate('wasm');
    removeHandlersAddedSince(before);
    const pool = poolThreads > 1
      ? `tfjs's threaded-SIMD wasm build: XNNPACK's pool on ${poolThreads} Node worker threads`
      : "tfjs's single-threaded SIMD wasm build";
    const how = convolutions.engine === 'onednn'
      ? `oneDNN's convolutions and batch norm on ${choice.threads} OpenMP thread${choice.threads > 1 ? 's' : ''}; the other kernels on ${pool}`
      : pool;
    return { tfjsBackend: 'wasm', details: { threads: `${choice.threads} (${choice.source}; ${choice.cores} cores): ${how}; dralab's own kernels run on the calling thread`, convolutions: convolutionText } };
  },
  cpu: async () => {
    require('@tensorflow/tfjs-backend-cpu');
    await activate('cpu');
    return { tfjsBackend: 'cpu' };
  },
};

/**
 * Which engine computes the wasm backend's convolutions, and why: oneDNN when asked for
 * (an error where the addon cannot load) or, automatically, where it loads; else XNNPACK.
 */
function decideConvolutions(option: string | undefined): { engine: ConvolutionEngine; why: string } {
  const asked = parseConvolutionEngine(option);
  if (asked === 'xnnpack') return { engine: 'xnnpack', why: 'asked for' };
  if (loadOneDnn() !== undefined) return { engine: 'onednn', why: asked === 'onednn' ? 'asked for' : 'automatic' };
  const reason = oneDnnUnavailableReason() ?? 'the oneDNN addon did not load';
  if (asked === 'onednn') throw new Error(`oneDNN convolutions are unavailable: ${reason}`);
  return { engine: 'xnnpack', why: reason };
}

type ProcessEvent = 'unhandledRejection' | 'uncaughtException';
const PROCESS_EVENTS: ProcessEvent[] = ['unhandledRejection', 'uncaughtException'];

type Listener = (...args: unknown[]) => void;
// process.listeners/removeListener are overloaded per event name; one signature serves both events here.
const listenersOf = (event: ProcessEvent): Listener[] => process.listeners(event as 'unhandledRejection') as unknown as Listener[];

function processHandlers(): Map<ProcessEvent, Set<Listener>> {
  return new Map(PROCESS_EVENTS.map((e) => [e, new Set(listenersOf(e))]));
}

/**
 * The wasm backend's Emscripten glue installs process handlers that rethrow any
 * unhandled rejection or exception, which turns a stray promise error in a notebook
 * into a dead kernel. They guard nothing of ours, so they are removed again.
 */
function removeHandlersAddedSince(before: Map<ProcessEvent, Set<Listener>>): void {
  for (const event of PROCESS_EVENTS) {
    for (const listener of listenersOf(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event as 'unhandledRejection', listener as never);
    }
  }
}

let current: BackendReport | undefined;

function parseBackendName(value: string, source: string): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`${source}='${value}' is not a backend; expected one of ${BACKEND_NAMES.join(', ')}`);
}

export interface SelectOptions {
  /** Force this backend (overrides DRALAB_BACKEND). */
  backend?: BackendName | string;
  /** Select again even if a backend was already selected in this process. */
  reselect?: boolean;
  /**
   * In automatic selection, whether a software WebGPU adapter counts (it does not by
   * default: lavapipe is slower than wasm and is meant for tests).
   */
  allowSoftwareWebgpu?: boolean;
  /** Threads for the wasm backend (overrides DRALAB_THREADS; default: every core, at most 8 without oneDNN). */
  threads?: number | string;
  /**
   * Convolutions on wasm: 'onednn' (the native addon; an error where it is not built),
   * 'xnnpack' (wasm's own), or 'auto' (oneDNN where it loads). Overrides --conv and DRALAB_CONV.
   */
  convolutions?: 'auto' | 'onednn' | 'xnnpack' | string;
}

/**
 * Selects and activates a backend. Automatic unless `options.backend` or the
 * DRALAB_BACKEND environment variable names one; a named backend that cannot load is an
 * error, never a silent fallback.
 */
export async function selectBackend(options: SelectOptions = {}): Promise<BackendReport> {
  if (current && !options.reselect) return current;
  const forcedRaw = options.backend ?? process.env.DRALAB_BACKEND;
  // A malformed --threads or DRALAB_THREADS fails before any backend loads (the cap is
  // checked by the wasm loader, once it knows the convolution engine).
  resolveThreads(options.threads, '--threads', Number.POSITIVE_INFINITY);
  // Likewise a bad --conv or DRALAB_CONV; oneDNN asked for and unavailable is an error,
  // not a fall back to the cpu backend.
  const askedConvolutions = parseConvolutionEngine(options.convolutions);
  const forced = forcedRaw !== undefined && forcedRaw !== ''
    ? parseBackendName(forcedRaw, options.backend !== undefined ? 'backend' : 'DRALAB_BACKEND')
    : undefined;
  const order: BackendName[] = forced ? [forced] : [...BACKEND_NAMES];
  const attempts: BackendAttempt[] = [];
  for (const backend of order) {
    try {
      const loaded = await LOADERS[backend]({ automatic: !forced, allowSoftware: Boolean(forced) || Boolean(options.allowSoftwareWebgpu), ...(options.threads !== undefined ? { threads: options.threads } : {}), ...(options.convolutions !== undefined ? { convolutions: options.convolutions } : {}) });
      if (!forced && backend === 'webgpu' && loaded.details?.isSoftware === true && !options.allowSoftwareWebgpu) {
        attempts.push({ backend, ok: false, reason: `only a software adapter (${String(loaded.details.description ?? 'unknown')}) is present; it is slower than wasm` });
        continue;
      }
      attempts.push({ backend, ok: true });
      current = {
        backend,
        tfjsBackend: loaded.tfjsBackend,
        selection: forced ? 'forced' : 'auto',
        attempts,
        versions: collectVersions(),
        threads: threadCount(backend),
        details: loaded.details ?? {},
      };
      return current;
    } catch (err) {
      if (err instanceof ThreadsError) throw err;
      if (forced || (backend === 'wasm' && askedConvolutions === 'onednn')) throw new BackendUnavailableError(backend, errorText(err));
      attempts.push({ backend, ok: false, reason: errorText(err) });
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')}`);
}

/** The report of the current selection, if a backend was selected. */
export function currentBackend(): BackendReport | undefined {
  return current;
}

function collectVersions(): Record<string, string> {
  const versions: Record<string, string> = { node: process.versions.node, 'tfjs-core': tf.version_core };
  for (const name of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-webgpu', 'webgpu']) {
    const v = packageVersion(name);
    if (v) versions[name] = v;
  }
  return versions;
}

function threadCount(backend: BackendName): number {
  if (backend === 'wasm') {
    if (oneDnnActive()) return oneDnnThreads();
    // What XNNPACK's pool reports (1 on the single-threaded build).
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount?: () => number };
    return Math.max(1, wasm.getThreadsCount?.() ?? wasmThreads());
  }
  if (backend === 'cpu') return 1;
  if (backend === 'node' || backend === 'node-gpu') return require('node:os').availableParallelism?.() ?? 1;
  return 1;
}

/** A human-readable multi-line description of a backend report. */
export function formatBackendReport(report: BackendReport): string {
  const lines = [`backend: ${report.backend} (tfjs '${report.tfjsBackend}', ${report.selection})`, `threads: ${report.threads}`];
  for (const a of report.attempts) if (!a.ok) lines.push(`  not ${a.backend}: ${a.reason}`);
  for (const [k, v] of Object.entries(report.details)) lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  lines.push('versions:');
  for (const [k, v] of Object.entries(report.versions)) lines.push(`  ${k} ${v}`);
  return lines.join('\n');
}
