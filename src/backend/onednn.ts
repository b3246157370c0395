/**
 * Convolutions (and training-mode batch normalisation) on the wasm backend computed by
 * oneDNN, through dralab's native addon (native/onednn-kernels.cc, built by `npm install`
 * where oneDNN's headers are present).
 *
 * Why: a training step on wasm spends two thirds of its time in convolutions, and
 * XNNPACK's wasm SIMD128 kernels run 4 floats per instruction where the host CPU runs 8
 * or 16 (BENCHMARKS.md, "train"). oneDNN is the library PyTorch's CPU convolutions use;
 * run on the wasm heap in place, it brings those kernels to dralab without changing
 * anything else: every other kernel stays wasm's, tensors stay in the wasm heap.
 *
 * The addon is optional. Where it is not built, or `DRALAB_CONV=xnnpack` (or the
 * `convolutions` selection option) asks for it, convolutions stay on XNNPACK and
 * dralab's own backprops (./wasm-kernels). `dralab info` says which is in use.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runOnHost } from '../engine/host-kernels';
import { checkNhwc, type Pad, type RoundingMode } from './conv-attrs';

/** Where convolutions on the wasm backend are computed. */
export const CONVOLUTION_ENGINES = ['onednn', 'xnnpack'] as const;
export type ConvolutionEngine = (typeof CONVOLUTION_ENGINES)[number];

/** The kernels oneDNN takes over on the wasm backend. */
export const ONEDNN_KERNELS = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;

/**
 * Training-mode batch normalisation as two kernels, registered on wasm while oneDNN is
 * active (the models use them where the current backend has them, else their composite
 * of tf ops). Forward: inputs x (NHWC), gamma, beta; attr epsilon; outputs y, the batch
 * mean and the biased batch variance per channel. Backward: inputs x, dy, mean,
 * variance, gamma; attr epsilon; outputs dx, dgamma, dbeta.
 */
export const BATCH_NORM_KERNELS = { forward: 'DralabBatchNormTraining', backward: 'DralabBatchNormTrainingGrad' } as const;

/** The addon's interface (native/onednn-kernels.cc). */
interface OneDnnAddon {
  /** kind 0: a = x, b = filter, out = y; 1: a = dy, b = filter, out = dx; 2: a = x, b = dy, out = dFilter. */
  conv2d(kind: 0 | 1 | 2, geometry: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array): void;
  batchNormForward(dims: Int32Array, epsilon: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array): void;
  batchNormBackward(dims: Int32Array, epsilon: number, x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array, gamma: Float32Array, dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array): void;
  setThreads(threads: number): void;
  describe(): string;
}

/** The built addon's path: native/ at the package root (this file is dist/src/backend/). */
export const ONEDNN_ADDON_PATH = process.env.DRALAB_ONEDNN_ADDON ?? join(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'dralab_onednn.node');

let addon: OneDnnAddon | undefined;
/** The OpenMP thread count oneDNN was last given. */
let threadsInUse = 1;
let loadError: string | undefined;

/**
 * Loads the addon once; returns it, or undefined with `oneDnnUnavailableReason()` saying why.
 */
export function loadOneDnn(): OneDnnAddon | undefined {
  if (addon !== undefined || loadError !== undefined) return addon;
  if (!existsSync(ONEDNN_ADDON_PATH)) {
    loadError = `the native addon is not built (${ONEDNN_ADDON_PATH} is missing: install oneDNN's headers, e.g. Debian's libdnnl-dev, then run npm run build:native)`;
    return undefined;
  }
  // libgomp's default wait (spin briefly, then sleep) is kept: with the wasm pool
  // single-threaded beside oneDNN nothing else wants the cores between kernels, and a
  // passive wait made steps 5-10% slower (measured). OMP_WAIT_POLICY is the user's to set.
  try {
    addon = require(ONEDNN_ADDON_PATH) as OneDnnAddon;
  } catch (err) {
    loadError = `the native addon failed to load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
  }
  return addon;
}

/** Why the addon is not available (undefined once it loaded, or before a load was tried). */
export function oneDnnUnavailableReason(): string | undefined {
  return loadError;
}

/** The command line's --conv (set once by the CLI for every backend selection after it). */
let commandLineEngine: string | undefined;

/** Records the command line's --conv (checked now). */
export function setCommandLineConvolutions(value: string): void {
  parseConvolutionEngine(value, '--conv');
  commandLineEngine = value;
}

/**
 * The engine asked for: an explicit option, else the command line's --conv, else
 * DRALAB_CONV; undefined for automatic (oneDNN where the addon loads, else XNNPACK).
 */
export function parseConvolutionEngine(option?: string, optionName = 'convolutions'): ConvolutionEngine | undefined {
  const [raw, source] = option !== undefined && option !== ''
    ? [option, optionName]
    : commandLineEngine !== undefined ? [commandLineEngine, '--conv'] : [process.env.DRALAB_CONV, 'DRALAB_CONV'];
  if (raw === undefined || raw.trim() === '' || raw.trim().toLowerCase() === 'auto') return undefined;
  const name = raw.trim().toLowerCase();
  if ((CONVOLUTION_ENGINES as readonly string[]).includes(name)) return name as ConvolutionEngine;
  throw new Error(`${source}='${raw}' is not a convolution engine; expected auto, ${CONVOLUTION_ENGINES.join(' or ')}`);
}

type NamedArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };
type Shape4 = [number, number, number, number];

/** The geometry of a Conv2D or one of its backprops, from the x and filter shapes and the attrs. */
function convInfo(kernel: string, xShape: Shape4, filterShape: Shape4, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  checkNhwc(attrs.dataFormat as string | undefined, kernel);
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, attrs.strides as number | [number, number], (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as Pad, attrs.dimRoundingMode as RoundingMode, false, 'channelsLast',
  );
}

/** The 17 integers native/onednn-kernels.cc reads, in its Geometry order. */
function geometryOf(info: tf.backend_util.Conv2DInfo): Int32Array {
  const p = info.padInfo;
  return Int32Array.of(
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels,
    info.filterHeight, info.filterWidth, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.left, p.bottom, p.right,
  );
}

/**
 * Runs one oneDNN convolution of `kind` (0 forward, 1 input gradient, 2 filter gradient;
 * see OneDnnAddon.conv2d) over the inputs [a, b] into an output of `outShape`. An empty
 * geometry (a batch of none) gives zeros without calling oneDNN, which refuses it.
 */
function convolve(native: OneDnnAddon, kind: 0 | 1 | 2, backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, outShape: number[]): tf.TensorInfo {
  const empty = [info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels, info.outHeight, info.outWidth].some((d) => d === 0);
  const geometry = geometryOf(info);
  return runOnHost(backend, [a, b], [{ shape: outShape, zeroed: empty }], ([as, bs], [out]) => {
    if (!empty) native.conv2d(kind, geometry, as as Float32Array, bs as Float32Array, out as Float32Array);
  })[0]!;
}

function conv2d(native: OneDnnAddon, { inputs, backend, attrs }: NamedArgs): tf.TensorInfo {
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const info = convInfo('Conv2D', x.shape as Shape4, filter.shape as Shape4, attrs);
  return convolve(native, 0, backend, x, filter, info, info.outShape);
}

function conv2dBackpropInput(native: OneDnnAddon, { inputs, backend, attrs }: NamedArgs): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const inputShape = attrs.inputShape as Shape4;
  return convolve(native, 1, backend, dy, filter, convInfo('Conv2DBackpropInput', inputShape, filter.shape as Shape4, attrs), inputShape);
}

function conv2dBackpropFilter(native: OneDnnAddon, { inputs, backend, attrs }: NamedArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const filterShape = attrs.filterShape as Shape4;
  return convolve(native, 2, backend, x, dy, convInfo('Conv2DBackpropFilter', x.shape as Shape4, filterShape, attrs), filterShape);
}

function nhwcDims(x: tf.TensorInfo, kernel: string): Int32Array {
  if (x.shape.length !== 4 || x.shape.some((d) => d < 1)) throw new Error(`${kernel} needs a non-empty NHWC tensor, got shape [${x.shape.join(', ')}]`);
  return Int32Array.from(x.shape);
}

function batchNormForward(native: OneDnnAddon, { inputs, backend, attrs }: NamedArgs): tf.TensorInfo[] {
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const dims = nhwcDims(x, BATCH_NORM_KERNELS.forward);
  const channels = [dims[3]!];
  return runOnHost(backend, [x, gamma, beta], [{ shape: x.shape }, { shape: channels }, { shape: channels }], ([xs, gs, bs], [ys, ms, vs]) => {
    native.batchNormForward(dims, attrs.epsilon as number, xs as Float32Array, gs as Float32Array, bs as Float32Array, ys as Float32Array, ms as Float32Array, vs as Float32Array);
  });
}

function batchNormBackward(native: OneDnnAddon, { inputs, backend, attrs }: NamedArgs): tf.TensorInfo[] {
  const { x, dy, mean, variance, gamma } = inputs as Record<'x' | 'dy' | 'mean' | 'variance' | 'gamma', tf.TensorInfo>;
  const dims = nhwcDims(x, BATCH_NORM_KERNELS.backward);
  const channels = [dims[3]!];
  return runOnHost(backend, [x, dy, mean, variance, gamma], [{ shape: x.shape }, { shape: channels }, { shape: channels }], ([xs, dys, ms, vs, gs], [dxs, dgs, dbs]) => {
    native.batchNormBackward(dims, attrs.epsilon as number, xs as Float32Array, dys as Float32Array, ms as Float32Array, vs as Float32Array, gs as Float32Array, dxs as Float32Array, dgs as Float32Array, dbs as Float32Array);
  });
}

/** The wasm kernels oneDNN replaced, to put back when XNNPACK is asked for again. */
let replaced: Map<string, tf.KernelConfig | undefined> | undefined;

/**
 * Makes oneDNN compute the wasm backend's convolutions with `threads` OpenMP threads.
 * Throws (naming why) when the addon is not available.
 */
export function useOneDnnConvolutions(threads: number): string {
  const native = loadOneDnn();
  if (native === undefined) throw new Error(`oneDNN convolutions are unavailable: ${loadError ?? 'unknown reason'}`);
  native.setThreads(threads);
  threadsInUse = threads;
  if (replaced === undefined) {
    const kernels: Record<(typeof ONEDNN_KERNELS)[number], (args: NamedArgs) => tf.TensorInfo> = {
      Conv2D: (args) => conv2d(native, args),
      Conv2DBackpropInput: (args) => conv2dBackpropInput(native, args),
      Conv2DBackpropFilter: (args) => conv2dBackpropFilter(native, args),
    };
    replaced = new Map(ONEDNN_KERNELS.map((name) => [name, tf.getKernel(name, 'wasm')]));
    for (const name of ONEDNN_KERNELS) {
      if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernels[name] as unknown as tf.KernelFunc });
    }
    tf.registerKernel({ kernelName: BATCH_NORM_KERNELS.forward, backendName: 'wasm', kernelFunc: ((args: NamedArgs) => batchNormForward(native, args)) as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: BATCH_NORM_KERNELS.backward, backendName: 'wasm', kernelFunc: ((args: NamedArgs) => batchNormBackward(native, args)) as unknown as tf.KernelFunc });
  }
  return native.describe();
}

/** Puts the wasm backend's own convolution kernels back (no-op if oneDNN never took them). */
export function useXnnpackConvolutions(): void {
  if (replaced === undefined) return;
  // A kernel's setupFunc (wasm binds its C function there) runs when the backend is set;
  // where the backend is already up, the restored kernels are set up here.
  const backend = tf.findBackend('wasm');
  for (const name of Object.values(BATCH_NORM_KERNELS)) tf.unregisterKernel(name, 'wasm');
  for (const [name, config] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    if (config === undefined) continue;
    tf.registerKernel(config);
    if (backend !== null) config.setupFunc?.(backend);
  }
  replaced = undefined;
}

/** The OpenMP threads oneDNN computes with (meaningful while it is active). */
export function oneDnnThreads(): number {
  return threadsInUse;
}

/** Whether oneDNN computes the wasm backend's convolutions now. */
export function oneDnnActive(): boolean {
  return replaced !== undefined;
}
