/**
 * The wasm backend on several cores in Node: tfjs's threaded-SIMD build, its XNNPACK thread
 * pool running on Node worker threads.
 *
 * tfjs ships that build but never loads it under Node (its WASM_HAS_MULTITHREAD_SUPPORT flag
 * is false there, tensorflow/tfjs#3830): its loader hands Emscripten the pthread worker as a
 * Blob URL, which Node's worker_threads cannot start. The Emscripten glue itself supports
 * Node, so this module instantiates the build directly:
 *
 * - the worker script (shipped as a string in wasm-out/*.worker.js) is written to a file in
 *   the temp directory, and Emscripten's `locateFile` points at it;
 * - the backend's C++ caps its pool at `logical cores / 2` (it assumes two hyperthreads per
 *   core; `require('os').cpus().length` under Node), so while the module initialises,
 *   `os.cpus()` reports enough cores for the cap to be the build's 8 pre-started workers;
 *   the count actually used is the one asked for, through `setThreadsCount`;
 * - the workers are unref'd once the pool has started, so they do not keep Node alive.
 *
 * The module is then given to tfjs's own BackendWasm, registered under the name 'wasm', so
 * every wasm kernel (and dralab's training kernels) runs unchanged. XNNPACK splits a
 * convolution or matrix product by output tiles and never splits a sum, so results do not
 * depend on the thread count (checked in test/backend/threads.test.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** Workers the threaded build starts (its PTHREAD_POOL_SIZE): the most threads it can use. */
export const MAX_WASM_THREADS = 8;

export interface ThreadsChoice {
  /** Threads to compute with. */
  threads: number;
  /** Where the number came from. */
  source: 'option' | '--threads' | 'DRALAB_THREADS' | 'all cores';
  /** Cores Node sees (os.availableParallelism). */
  cores: number;
}

/** A thread count that cannot be used: an error of the request, never a reason to fall back. */
export class ThreadsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThreadsError';
  }
}

/** The command line's --threads (set once by the CLI for every backend selection after it). */
let commandLineThreads: string | undefined;

/** Records the command line's --threads (checked now); later selections use it unless given a count. */
export function setCommandLineThreads(value: string): number {
  // Only the form is checked here: the cap depends on the engine the selection picks.
  const { threads } = resolveThreads(value, '--threads', Number.POSITIVE_INFINITY);
  commandLineThreads = String(threads);
  return threads;
}

/**
 * The thread count: an explicit option, else the command line's --threads, else
 * DRALAB_THREADS, else every core, at most `maxThreads` (the threaded wasm build's 8 by
 * default; oneDNN's OpenMP threads have no such cap). A count above the cap is refused.
 */
export function resolveThreads(option?: number | string, optionName = '--threads', maxThreads = MAX_WASM_THREADS): ThreadsChoice {
  const cores = os.availableParallelism();
  const env = process.env.DRALAB_THREADS;
  const given = option !== undefined && option !== ''
    ? { value: option, source: 'option' as const, name: optionName }
    : commandLineThreads !== undefined
      ? { value: commandLineThreads, source: '--threads' as const, name: '--threads' }
      : env !== undefined && env !== '' ? { value: env, source: 'DRALAB_THREADS' as const, name: 'DRALAB_THREADS' } : undefined;
  if (!given) return { threads: Math.min(cores, maxThreads), source: 'all cores', cores };
  const text = String(given.value).trim();
  const threads = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(threads) || threads < 1) throw new ThreadsError(`${given.name} must be a whole number of threads >= 1, got '${text}'`);
  if (threads > maxThreads) throw new ThreadsError(`${given.name}=${threads}: the wasm backend's threaded build starts ${MAX_WASM_THREADS} workers, so at most ${MAX_WASM_THREADS} threads (oneDNN's convolutions have no such limit: see --conv)`);
  return { threads, source: given.source, cores };
}

interface EmscriptenWorker {
  unref(): void;
  terminate(): void;
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
  PThread: { runningWorkers: EmscriptenWorker[]; unusedWorkers: EmscriptenWorker[]; terminateAllThreads(): void };
}

type WasmPackage = {
  BackendWasm: new (module: unknown) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
};

let loaded: { module: ThreadedModule; threads: number } | undefined;

function wasmOutDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
}

/** The pthread worker script as a file (written once per tfjs version, atomically). */
function workerScript(): string {
  const dir = wasmOutDir();
  const version = (JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const file = join(os.tmpdir(), `dralab-${process.getuid?.() ?? 'user'}`, `tfjs-wasm-${version}-threaded-simd.worker.js`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require(join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The string holds the worker's source with its "\n" escapes turned into newlines (tfjs
  // re-escapes them before making a Blob of it); they go back to escapes here.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== source) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, source);
    renameSync(temporary, file);
  }
  return file;
}

async function instantiate(): Promise<ThreadedModule> {
  const dir = wasmOutDir();
  const worker = workerScript();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(join(dir, 'tfjs-backend-wasm-threaded-simd.js')) as (config: Record<string, unknown>) => Promise<ThreadedModule>;
  // See the module note: the pool's cap is read from os.cpus() while the module initialises.
  // The module object itself (the glue's require('os')), not the import's read-only namespace.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeOs = require('node:os') as { cpus: typeof os.cpus };
  const cpus = nodeOs.cpus;
  const one = cpus()[0];
  nodeOs.cpus = () => Array.from({ length: 2 * MAX_WASM_THREADS }, () => one!);
  try {
    return await factory({
      locateFile: (path: string) => (path.endsWith('.worker.js') ? worker : join(dir, path)),
      mainScriptUrlOrBlob: join(dir, 'tfjs-backend-wasm-threaded-simd.js'),
    });
  } finally {
    nodeOs.cpus = cpus;
  }
}

type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** tfjs's own factory for 'wasm' (the single-threaded SIMD build), kept to restore it. */
let singleThreadedFactory: BackendFactory | undefined;

function removeWasmBackend(): void {
  if (tf.findBackendFactory('wasm') !== null) tf.removeBackend('wasm');
}

/**
 * Makes tfjs's 'wasm' backend compute with `threads` threads: 1 is tfjs's own
 * single-threaded SIMD build; more is the threaded build (see the module note). A backend
 * already set up with that count is kept; otherwise the 'wasm' registration is replaced (and
 * a previous threaded module's workers are stopped), and the caller activates it again.
 */
export async function useWasmThreads(threads: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
  if (!loaded) singleThreadedFactory ??= (tf.findBackendFactory('wasm') ?? undefined) as BackendFactory | undefined;
  if (threads === 1) {
    if (loaded) {
      releaseThreadedWasm();
      if (singleThreadedFactory) tf.registerBackend('wasm', singleThreadedFactory);
    }
    return;
  }
  if (loaded?.threads === threads && tf.findBackend('wasm') !== null) return;
  releaseThreadedWasm();
  const module = await instantiate();
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  loaded = { module, threads };
  removeWasmBackend();
  let backend: tf.KernelBackend | undefined;
  tf.registerBackend('wasm', () => {
    // One module, one backend: its constructor starts the thread pool.
    if (!backend) {
      wasm.setThreadsCount(threads);
      backend = new wasm.BackendWasm(module);
      for (const worker of module.PThread.runningWorkers) worker.unref();
    }
    return backend;
  });
}

/** Stops the threaded module's workers and removes its backend (no-op without one). */
export function releaseThreadedWasm(): void {
  if (!loaded) return;
  removeWasmBackend();
  loaded.module.PThread.terminateAllThreads();
  loaded = undefined;
}

/** Threads the wasm backend computes with: the threaded module's, else 1. */
export function wasmThreads(): number {
  return loaded?.threads ?? 1;
}
