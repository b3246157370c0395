/**
 * The WebGPU backend in Node: tfjs-backend-webgpu running on Dawn through the `webgpu`
 * npm package (prebuilt dawn.node, Vulkan on Linux). Works on any GPU with a Vulkan
 * driver and, for tests, on Mesa's software Vulkan (lavapipe) unpacked by
 * scripts/setup-vulkan.sh.
 *
 * Environment:
 *   DRALAB_WEBGPU_ADAPTER  pick an adapter by name (Dawn's `adapter=` option: a
 *                          case-sensitive part of the name, e.g. "NVIDIA" or "llvmpipe")
 *   DRALAB_WEBGPU_POWER    'high-performance' (default) or 'low-power'
 *   DRALAB_VULKAN_ENV      the software-Vulkan env file (default <package>/.vulkan/vulkan.env
 *                          when present); 'none' to ignore it
 *   VK_ICD_FILENAMES / VK_DRIVER_FILES  when set, the Vulkan drivers are the user's
 *                          choice and the software env file is not applied
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureGradients } from '../engine/gradients';
import type { Loader } from './loader';

/** The parts of the WebGPU API this module touches (the full types live in @webgpu/types). */
interface GpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}
interface GpuDevice {
  readonly queue: { onSubmittedWorkDone(): Promise<void> };
  destroy(): void;
  addEventListener?(type: 'uncapturederror', listener: (event: { error?: { message: string } }) => void): void;
}
interface GpuAdapter {
  readonly info: GpuAdapterInfo;
  readonly features: ReadonlySet<string>;
  readonly limits: Record<string, number>;
  readonly isFallbackAdapter?: boolean;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GpuDevice>;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapter | null>;
}
interface WebgpuModule {
  create(options: string[]): Gpu;
  globals: Record<string, unknown>;
}
interface TfjsWebgpuModule {
  WebGPUBackend: new (device: GpuDevice, adapterInfo: GpuAdapterInfo) => tf.KernelBackend;
}

/** What the loader reports about the adapter (shown by `dralab info`). */
export interface WebgpuAdapterDetails {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe, SwiftShader): correct but slower than wasm. */
  isSoftware: boolean;
  /** Dawn's native backend ('vulkan' on Linux). */
  dawnBackend: string;
  /** The software-Vulkan env file that was applied, if any. */
  vulkanEnv: string | null;
  /** The value of WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD in force. */
  cpuHandoffThreshold: number;
  [key: string]: unknown;
}

export interface WebgpuOptions {
  /** Dawn adapter name to use (default DRALAB_WEBGPU_ADAPTER; case-sensitive substring). */
  adapter?: string;
  powerPreference?: 'high-performance' | 'low-power';
  /** Software-Vulkan env file; null to ignore one (default: see module comment). */
  vulkanEnv?: string | null;
}

// `webgpu` is ESM-only. TypeScript's CommonJS output rewrites `import()` to `require()`,
// which cannot load ESM, so the dynamic import is built at run time.
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

// glibc's RTLD_NODELETE; Node does not export it. A library loaded with it stays mapped
// after process.dlopen() closes the handle of a file that is not a Node add-on.
const RTLD_NODELETE = 0x1000;

let gpu: Gpu | undefined;
let device: GpuDevice | undefined;
let appliedVulkanEnv: string | null | undefined;

function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'dralab') return dir;
      } catch {
        // unreadable manifest: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** The software-Vulkan env file to apply, or null when there is none or it is turned off. */
export function softwareVulkanEnvFile(explicit?: string | null): string | null {
  if (explicit === null) return null;
  const named = explicit ?? process.env.DRALAB_VULKAN_ENV;
  if (named === 'none' || named === '') return null;
  if (named !== undefined) {
    if (!existsSync(named)) throw new Error(`DRALAB_VULKAN_ENV='${named}' does not exist (run scripts/setup-vulkan.sh, or set it to 'none')`);
    return resolve(named);
  }
  const fallback = join(packageRoot(), '.vulkan', 'vulkan.env');
  return existsSync(fallback) ? fallback : null;
}

function parseEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${file}: expected KEY=VALUE lines, got '${line}'`);
    values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return values;
}

/** Loads a shared library into this process for good; false if it is not there. */
function preloadLibrary(path: string): boolean {
  const flags = osConstants.dlopen.RTLD_NOW | osConstants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  try {
    process.dlopen({ exports: {} }, path, flags);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node dlopens the file, finds no add-on in it and says so: the library is loaded.
    if (message.includes('did not self-register')) return true;
    return false;
  }
  return true;
}

/**
 * Makes the unpacked lavapipe visible to the Vulkan loader of this process. The loader
 * reads VK_ADD_DRIVER_FILES when Dawn creates its instance, so setting it here is enough;
 * adding rather than replacing (VK_ICD_FILENAMES) keeps a real GPU visible beside it.
 * LD_LIBRARY_PATH is read only at process start, so instead the unpacked libdrm (and the
 * Vulkan loader, if the system has none) are loaded now with RTLD_GLOBAL: when Dawn later
 * opens libvulkan.so.1 and the loader opens lavapipe, the dynamic linker matches those
 * names to the libraries already loaded.
 */
function applySoftwareVulkan(file: string): void {
  const env = parseEnvFile(file);
  const icd = env.VK_ICD_FILENAMES;
  if (!icd || !existsSync(icd)) throw new Error(`${file}: VK_ICD_FILENAMES '${icd ?? ''}' is missing; run scripts/setup-vulkan.sh --force`);
  for (const lib of (env.DRALAB_VULKAN_PRELOAD ?? '').split(':').filter((p) => p !== '')) {
    if (!preloadLibrary(lib)) throw new Error(`${file}: cannot load ${lib}; run scripts/setup-vulkan.sh --force`);
  }
  const loader = env.DRALAB_VULKAN_LOADER;
  if (loader && !preloadLibrary('libvulkan.so.1') && !preloadLibrary(loader)) {
    throw new Error(`${file}: cannot load the Vulkan loader ${loader}; run scripts/setup-vulkan.sh --force`);
  }
  const added = process.env.VK_ADD_DRIVER_FILES;
  if (!added?.split(':').includes(icd)) process.env.VK_ADD_DRIVER_FILES = added ? `${added}:${icd}` : icd;
}

/**
 * Makes two silent failures loud. (1) The package reads GPU data synchronously through
 * OffscreenCanvas, which Node does not have: say so and name the asynchronous
 * alternative instead of 'OffscreenCanvas is not defined' (data already on the CPU still
 * reads synchronously). (2) WebGPU reports an invalid shader or pipeline only as an
 * uncaptured device error and the package never looks, so the output would be garbage
 * (NaN losses): the first such error since the last read fails the next read instead.
 */
function withLoudFailures(backend: tf.KernelBackend, gpuDevice: GpuDevice): tf.KernelBackend {
  const pending: string[] = [];
  gpuDevice.addEventListener?.('uncapturederror', (event) => {
    pending.push(event.error?.message ?? String(event));
  });
  const checkErrors = () => {
    if (pending.length === 0) return;
    const first = pending[0]!.split('\n').slice(0, 3).join(' | ');
    const count = pending.length;
    pending.length = 0;
    throw new WebgpuDeviceError(`the WebGPU device reported ${count} error(s); results are invalid. First: ${first}`);
  };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    checkErrors();
    try {
      return readSync(dataId);
    } catch (err) {
      if (err instanceof ReferenceError && /OffscreenCanvas/.test(err.message)) {
        throw new Error('dataSync()/arraySync() cannot read WebGPU data in Node (no OffscreenCanvas); use await tensor.data() or tensor.array()');
      }
      throw err;
    }
  };
  // Errors of one submission can arrive over several event-loop turns; once one is seen,
  // wait for the queue and collect them all so they are not blamed on the next read.
  const settle = async () => {
    if (pending.length === 0) return;
    await gpuDevice.queue.onSubmittedWorkDone();
    // dawn.node delivers device events from a polling timer: wait until a few polls bring no more.
    for (let seen = -1, quiet = 0; quiet < 3; ) {
      await new Promise((done) => setTimeout(done, 5));
      quiet = pending.length === seen ? quiet + 1 : 0;
      seen = pending.length;
    }
  };
  const read = backend.read.bind(backend);
  backend.read = async (dataId: object) => {
    await settle();
    checkErrors();
    const values = await read(dataId);
    await settle();
    checkErrors();
    return values;
  };
  return backend;
}

/** A WebGPU validation or out-of-memory error surfaced at the next read of a result. */
export class WebgpuDeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebgpuDeviceError';
  }
}

function isSoftwareAdapter(adapter: GpuAdapter): boolean {
  const info = adapter.info;
  if (adapter.isFallbackAdapter === true || info.isFallbackAdapter === true) return true;
  if (info.architecture === 'software') return true;
  return /llvmpipe|lavapipe|swiftshader|software rasterizer/i.test(`${info.description} ${info.device}`);
}

function dawnBackendFor(platform: NodeJS.Platform): string | undefined {
  // On Linux Dawn can also fall back to OpenGL ES, which computed conv2d filter gradients
  // with a 4.5e-2 relative error: training must never run there, so Vulkan is required.
  if (platform === 'linux') return 'vulkan';
  return undefined;
}

async function createGpu(options: WebgpuOptions, dawnBackend: string | undefined): Promise<Gpu> {
  // Resolved here because an import() built by new Function has no module to resolve from.
  const webgpu = (await importEsm(pathToFileURL(require.resolve('webgpu')).href)) as WebgpuModule;
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, ... as globals.
  for (const [name, value] of Object.entries(webgpu.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const dawnOptions: string[] = [];
  if (dawnBackend) dawnOptions.push(`backend=${dawnBackend}`);
  const adapterName = options.adapter ?? process.env.DRALAB_WEBGPU_ADAPTER;
  if (adapterName) dawnOptions.push(`adapter=${adapterName}`);
  return webgpu.create(dawnOptions);
}

function powerPreference(options: WebgpuOptions): 'high-performance' | 'low-power' {
  const value = options.powerPreference ?? process.env.DRALAB_WEBGPU_POWER ?? 'high-performance';
  if (value !== 'high-performance' && value !== 'low-power') {
    throw new Error(`DRALAB_WEBGPU_POWER='${value}' is not valid; expected 'high-performance' or 'low-power'`);
  }
  return value;
}

function noAdapterMessage(vulkanEnv: string | null, cause?: string): string {
  const hint = vulkanEnv
    ? `the software Vulkan from ${vulkanEnv} gave no adapter either`
    : 'install a Vulkan driver for the GPU, or run scripts/setup-vulkan.sh for the software one (tests)';
  return `no WebGPU adapter: ${cause ? `${cause}; ` : ''}${hint}`;
}

/**
 * Activates tfjs's 'webgpu' backend on a Dawn adapter and describes it. Throws with the
 * reason when there is no usable adapter.
 */
export async function loadWebgpu(options: WebgpuOptions = {}): Promise<{ tfjsBackend: 'webgpu'; details: WebgpuAdapterDetails }> {
  const platform = process.platform;
  const dawnBackend = dawnBackendFor(platform);
  if (appliedVulkanEnv === undefined) {
    const userChoseDrivers = Boolean(process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES);
    const file = platform === 'linux' && !userChoseDrivers ? softwareVulkanEnvFile(options.vulkanEnv) : null;
    if (file) applySoftwareVulkan(file);
    appliedVulkanEnv = file;
  }
  gpu ??= await createGpu(options, dawnBackend);

  let adapter: GpuAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: powerPreference(options) });
  } catch (err) {
    // Dawn throws (listing the adapters it saw) when `adapter=` names none of them.
    throw new Error(noAdapterMessage(appliedVulkanEnv, (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')));
  }
  if (!adapter) throw new Error(noAdapterMessage(appliedVulkanEnv));
  const info = adapter.info;
  if (/\bOpenGL\b|\bANGLE\b/i.test(info.description)) {
    throw new Error(`WebGPU adapter '${info.description}' runs on OpenGL, which gives wrong conv2d gradients; use a Vulkan, Metal or D3D12 adapter`);
  }

  // The package checks navigator.gpu when it loads (and registers nothing without it).
  const nav = ((globalThis as { navigator?: { gpu?: Gpu } }).navigator ??= {});
  nav.gpu = gpu;

  // Small tensors would otherwise be computed on the CPU inside the webgpu backend, so a
  // test on small inputs would not exercise the GPU kernels at all. The backend reads this
  // flag once, when its module loads, before the flag is registered: hence setFlags.
  tf.env().setFlags({ ...tf.env().getFlags(), WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tfjsWebgpu = require('@tensorflow/tfjs-backend-webgpu') as TfjsWebgpuModule;
  tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);

  // Replace the package's factory (which asks navigator.gpu for an adapter of its own) so
  // the backend runs on exactly the adapter checked above. Same limits as the package.
  const limits = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const key of ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup']) {
    const value = limits[key];
    if (value !== undefined) requiredLimits[key] = value;
  }
  const chosen = adapter;
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => chosen.features.has(f));
  if (tf.findBackend('webgpu') === null) {
    tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', async () => {
      device = await chosen.requestDevice({ requiredFeatures, requiredLimits });
      return withLoudFailures(new tfjsWebgpu.WebGPUBackend(device, chosen.info), device);
    }, 3);
  }
  ensureGradients();
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error(`tf.setBackend('webgpu') failed on adapter '${info.description}'`);
  await tf.ready();

  return {
    tfjsBackend: 'webgpu',
    details: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isSoftware: isSoftwareAdapter(adapter),
      dawnBackend: dawnBackend ?? 'default',
      vulkanEnv: appliedVulkanEnv,
      cpuHandoffThreshold: tf.env().getNumber('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD'),
    },
  };
}

/**
 * Frees the WebGPU device and drops Dawn, so the process can exit (Dawn keeps Node
 * alive while navigator.gpu is referenced). The next loadWebgpu() starts afresh.
 */
export function releaseWebgpu(): void {
  if (tf.engine().backendNames().includes('webgpu')) tf.removeBackend('webgpu');
  device?.destroy();
  device = undefined;
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  if (nav && nav.gpu === gpu) delete nav.gpu;
  gpu = undefined;
}

/**
 * GPU device nodes on this machine (DRM render nodes, NVIDIA devices). Automatic
 * selection asks Dawn for an adapter only when one exists: probing a machine without a
 * GPU wakes Mesa's software drivers, which print warnings and are slower than wasm.
 */
export function gpuDeviceNodes(): string[] {
  const list = (dir: string, pattern: RegExp) => {
    try {
      return readdirSync(dir).filter((f) => pattern.test(f)).map((f) => join(dir, f));
    } catch {
      return [];
    }
  };
  return [...list('/dev/dri', /^renderD\d+$/), ...list('/dev', /^nvidia\d+$/)];
}

// Automatic selection looks for hardware adapters only: the project's software Vulkan
// (.vulkan/, for tests) is applied when webgpu is asked for by name or software is allowed.
export const webgpuLoader: Loader = async (context) => {
  if (context.automatic && !context.allowSoftware && process.platform === 'linux' && gpuDeviceNodes().length === 0) {
    throw new Error('no GPU device on this machine (/dev/dri/renderD*, /dev/nvidia*)');
  }
  return loadWebgpu(context.allowSoftware ? {} : { vulkanEnv: null });
};
