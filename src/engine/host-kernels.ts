/**
 * Host kernels: operators computed by a plain loop over typed arrays, registered for the
 * backends whose memory JavaScript can read directly ('cpu', and 'wasm' through its heap).
 * There one loop replaces tens of small tensor ops (each a full pass over the batch plus
 * dispatch and gradient-tape bookkeeping). Every other backend (tfjs-node, WebGPU) keeps
 * the composite of ordinary tf ops, so callers ask `hasHostKernel` and fall back.
 *
 * Reading the inputs inside a kernel is the backend computing, not op-level code forcing
 * a device sync: the values already live in host memory on these backends.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Backends whose tensors live in memory a JavaScript loop can address. */
export const HOST_BACKENDS = ['cpu', 'wasm'] as const;

export type HostArray = Float32Array | Int32Array;

export interface OutputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32';
  /** Whether the loop expects the output zero-filled (accumulating kernels). */
  zeroed?: boolean;
  /** Scratch space for the loop: freed when it returns, not returned as an output. */
  scratch?: boolean;
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: tf.DataId): boolean;
}

interface CpuLikeBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

function isWasmHeap(backend: unknown): backend is WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function';
}

function asHostArray(values: tf.backend_util.BackendValues, what: string): HostArray {
  if (values instanceof Float32Array || values instanceof Int32Array) return values;
  throw new Error(`host kernel: ${what} must be float32 or int32 data`);
}

/**
 * Runs `compute` over the inputs' values and fresh output arrays, and returns the
 * outputs as tensor infos of `backend`. On wasm the arrays are views of the heap (no
 * copies); the input views are taken after the outputs are allocated, since an
 * allocation may grow (and so move) the heap.
 */
export function runOnHost(
  backend: unknown,
  inputs: readonly tf.TensorInfo[],
  outputs: readonly OutputSpec[],
  compute: (inputs: HostArray[], outputs: HostArray[]) => void,
): tf.TensorInfo[] {
  if (isWasmHeap(backend)) {
    const infos = outputs.map((o) => backend.makeOutput(o.shape, o.dtype ?? 'float32'));
    const outViews = infos.map((info, i) => asHostArray(backend.typedArrayFromHeap(info), `output ${i}`));
    outputs.forEach((o, i) => {
      if (o.zeroed) outViews[i]!.fill(0);
    });
    const inViews = inputs.map((info, i) => asHostArray(backend.typedArrayFromHeap(info), `input ${i}`));
    try {
      compute(inViews, outViews);
    } catch (error) {
      // The engine never saw these outputs, so nothing else would free them.
      for (const info of infos) backend.disposeData(info.dataId);
      throw error;
    }
    infos.forEach((info, i) => {
      if (outputs[i]!.scratch) backend.disposeData(info.dataId);
    });
    return infos.filter((_, i) => !outputs[i]!.scratch);
  }
  const cpu = backend as CpuLikeBackend;
  const inArrays = inputs.map((info, i) => asHostArray(cpu.readSync(info.dataId), `input ${i}`));
  const outArrays = outputs.map((o) => {
    const size = o.shape.reduce((a, b) => a * b, 1);
    return o.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  });
  compute(inArrays, outArrays);
  return outputs.flatMap((o, i) => (o.scratch ? [] : [cpu.makeTensorInfo(o.shape, o.dtype ?? 'float32', outArrays[i]!)]));
}

/**
 * min(max(v, 0), 255) without branches: on random-looking images a clamp written with
 * comparisons mispredicts on a large share of elements and runs several times slower.
 * Exact for every finite float32 v (the sums and differences are exact in float64), as
 * is the mask below; NaN stays NaN.
 */
export function clamp255(v: number): number {
  const positive = (v + Math.abs(v)) * 0.5;
  return (positive + 255 - Math.abs(positive - 255)) * 0.5;
}

/** 1 where 0 <= v <= 255, else 0 (clipByValue's gradient mask), without branches. */
export function inside255(v: number): number {
  return ((v >= 0) as unknown as number) & ((v <= 255) as unknown as number);
}

/** A host kernel: its name and the loop that computes it on a host backend. */
export interface HostKernel {
  kernelName: string;
  kernelFunc: tf.KernelFunc;
}

/**
 * The one registration point: registers each kernel on every host backend (once). The
 * ops register theirs in src/ops/kernels/index.ts, training its optimiser update in
 * src/train/optim.ts.
 */
export function registerHostKernels(kernels: readonly HostKernel[]): void {
  for (const { kernelName, kernelFunc } of kernels) {
    for (const backendName of HOST_BACKENDS) {
      if (tf.getKernel(kernelName, backendName) === undefined) tf.registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
}

export interface HostCall {
  /** The kernel's inputs; a function when building them is itself work (stacking, casts). */
  inputs: tf.NamedTensorMap | (() => tf.NamedTensorMap);
  attrs?: object;
  /** Further conditions of the host path (dtypes, non-empty lists); default true. */
  when?: boolean;
  /**
   * For short elementwise ops: the element count, so wasm keeps its SIMD kernels on
   * large tensors (see preferHostKernel).
   */
  elementwise?: number;
}

/**
 * The one dispatch helper: runs `kernelName` where a host kernel is registered for the
 * active backend (and the call qualifies), else `composite()`, the same op from ordinary
 * tf ops that every other backend (tfjs-node, WebGPU) runs. Wrap in tf.tidy when
 * `inputs` builds tensors.
 */
export function hostKernelOr<T extends tf.Tensor | tf.Tensor[]>(kernelName: string, call: HostCall, composite: () => T): T {
  const host = call.elementwise !== undefined ? preferHostKernel(kernelName, call.elementwise) : hasHostKernel(kernelName);
  if (!host || call.when === false) return composite();
  const inputs = typeof call.inputs === 'function' ? call.inputs() : call.inputs;
  return runKernel<T>(kernelName, inputs, (call.attrs ?? {}) as unknown as tf.NamedAttrMap);
}

let enabled = true;

/**
 * Turns the host kernels off (or back on): the ops then run the composites that every
 * other backend runs, e.g. to check that those need only kernels tfjs-node has.
 */
export function setHostKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the active backend runs `kernelName` as a host kernel (else use the composite). */
export function hasHostKernel(kernelName: string): boolean {
  return enabled && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * From this many elements on, wasm runs a short chain of elementwise ops (same shapes, or
 * one scalar per sample broadcast) faster with its SIMD kernels than a JavaScript loop
 * runs the fused op (measured: 2-6x at 32x32x32x3 and above); below it, the dispatch of
 * each op dominates and the single host kernel wins.
 */
export const WASM_ELEMENTWISE_MIN_ELEMENTS = 16384;

/**
 * Whether to run `kernelName` as a host kernel for an input of `elements` elements, for
 * ops whose composite is such a chain: not on wasm at or above
 * WASM_ELEMENTWISE_MIN_ELEMENTS. Both paths give the same values.
 */
export function preferHostKernel(kernelName: string, elements: number): boolean {
  if (!hasHostKernel(kernelName)) return false;
  return !(tf.getBackend() === 'wasm' && elements >= WASM_ELEMENTWISE_MIN_ELEMENTS);
}

/** Runs a registered kernel through the engine (so it is recorded on the gradient tape). */
export function runKernel<T extends tf.Tensor | tf.Tensor[]>(kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): T {
  return tf.engine().runKernel(kernelName, inputs, attrs) as unknown as T;
}
