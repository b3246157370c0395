/**
 * `DraLayerPass`: a frozen policy's layers over a batch in one host kernel, image by
 * image in 8-bit levels: the compiled loops of simd-source/layer-pass.ts where the module
 * loads, else the JavaScript ones of layer-pass-ops.ts (the same levels bit for bit). Inputs: images [N,H,W,C] (read as floor(clip(v)));
 * opIndex int32 [L,N] (index into the `ops` attribute, -1 = the layer skips the sample);
 * argument [L,K,N], every op's argument for every sample (K = ops.length); matrix
 * [L,K,N,6], the affine ops' coefficients (zeros for the others); centre [L,N,2],
 * Cutout's centres. Attributes: ops, interpolation, fill. Output: the float levels.
 *
 * Forward only, like the pass it serves (a frozen policy is not differentiated). Each
 * image's layers run on two buffers of H x W x C bytes that stay in cache, where the
 * tensor path sorts the batch into one block per op, runs each op's float kernels on
 * its block, puts the batch back in order and quantizes, once per layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type HostArray, type OutputSpec, runOnHost, type HostKernel } from '../../engine/host-kernels';
import { type LayerPassArrays, type SimdKernels, simdKernels } from './simd';
import type { OpName } from '../names';
import * as CODES from './op-codes';
import { LEVEL_OPS, type LevelCall, type LevelOp, readLevels } from './layer-pass-ops';

export const LAYER_PASS = 'DraLayerPass';

export interface LayerPassAttrs {
  ops: readonly OpName[];
  interpolation: 'nearest' | 'bilinear';
  fill: number;
}

const f32 = Math.fround;

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Each op's code in the compiled pass (the shared table ./op-codes). */
export const OP_CODE: Readonly<Record<OpName, number>> = {
  ShearX: CODES.SHEAR_X,
  ShearY: CODES.SHEAR_Y,
  TranslateX: CODES.TRANSLATE_X,
  TranslateY: CODES.TRANSLATE_Y,
  Rotate: CODES.ROTATE,
  Brightness: CODES.BRIGHTNESS,
  Color: CODES.COLOR,
  Sharpness: CODES.SHARPNESS,
  Contrast: CODES.CONTRAST,
  Cutout: CODES.CUTOUT,
  Solarize: CODES.SOLARIZE,
  Posterize: CODES.POSTERIZE,
  Equalize: CODES.EQUALIZE,
  AutoContrast: CODES.AUTO_CONTRAST,
  Invert: CODES.INVERT,
  SolarizeAdd: CODES.SOLARIZE_ADD,
  Identity: CODES.IDENTITY,
};

/** Scratch bytes of the compiled pass for images of `size` levels (simd-source/layer-pass.ts's layout). */
export const LAYER_PASS_WORK_BYTES = (size: number): number => 2 * align16(size + 16) + 3 * 256 + 6 * 256 * 4;

let buffers: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];

function imageBuffers(size: number): [Uint8Array, Uint8Array] {
  if (buffers[0].length !== size) buffers = [new Uint8Array(size), new Uint8Array(size)];
  return buffers;
}

function expectShape(what: string, info: tf.TensorInfo, shape: readonly number[]): void {
  if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${LAYER_PASS}: ${what} must be [${shape.join(', ')}], got [${info.shape.join(', ')}]`);
  }
}

const layerPassKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images, opIndex, argument, matrix, centre } = inputs as Record<'images' | 'opIndex' | 'argument' | 'matrix' | 'centre', tf.TensorInfo>;
  const { ops, interpolation, fill } = attrs as unknown as LayerPassAttrs;
  if (images.shape.length !== 4) throw new Error(`${LAYER_PASS}: images must be [N,H,W,C], got [${images.shape.join(', ')}]`);
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const layers = opIndex.shape[0] ?? 0;
  const k = ops.length;
  expectShape('opIndex', opIndex, [layers, n]);
  expectShape('argument', argument, [layers, k, n]);
  expectShape('matrix', matrix, [layers, k, n, 6]);
  expectShape('centre', centre, [layers, n, 2]);
  const size = h * w * c;
  const simd = simdKernels(backend);
  const outputs: OutputSpec[] = [{ shape: [...images.shape] }];
  // The scratch also holds the op codes (at its end), so that on wasm every array the
  // compiled pass reads lives in the backend's heap and nothing is copied.
  if (simd) outputs.push({ shape: [layerPassWorkLength(size, k)], dtype: 'int32', scratch: true });
  const [out] = runOnHost(backend, [images, opIndex, argument, matrix, centre], outputs, ([x, plan, args, mats, centres], [y, work]) => {
    runLayerPass({ images: x!, plan: plan!, args: args!, mats: mats!, centres: centres!, out: y!, work }, [n, h, w, c], layers, { ops, interpolation, fill }, simd);
  });
  return out!;
};

/** Int32 elements of the compiled pass's scratch for images of `size` levels and k ops (codes at its end). */
export function layerPassWorkLength(size: number, k: number): number {
  return Math.ceil(LAYER_PASS_WORK_BYTES(size) / 4) + k;
}

/** The arrays of one pass, as the kernel and the augmentation workers (src/train/augment-worker.ts) hold them. */
export interface LayerPassHostArrays {
  images: HostArray;
  plan: HostArray;
  args: HostArray;
  mats: HostArray;
  centres: HostArray;
  out: HostArray;
  /** The compiled pass's scratch (layerPassWorkLength), where `simd` is given. */
  work?: HostArray;
}

/**
 * The layer pass over plain arrays: the compiled loops where `simd` is given, else the
 * JavaScript ones (the same levels bit for bit). Throws on an op index out of range or an
 * image holding NaN.
 */
export function runLayerPass(
  a: LayerPassHostArrays, shape: readonly [number, number, number, number], layers: number, attrs: LayerPassAttrs, simd: SimdKernels | undefined,
): void {
  const { ops, interpolation, fill } = attrs;
  const [n] = shape;
  const k = ops.length;
  const impls: LevelOp[] = ops.map((name) => {
    const impl = (LEVEL_OPS as Record<string, LevelOp | undefined>)[name];
    if (!impl) throw new Error(`${LAYER_PASS}: unknown operator '${String(name)}'`);
    return impl;
  });
  for (let i = 0; i < a.plan.length; i++) {
    const op = a.plan[i]!;
    if (!(op >= -1 && op < k)) throw new Error(`${LAYER_PASS}: opIndex ${op} (layer ${Math.floor(i / n)}, image ${i % n}) is outside [-1, ${k - 1}]`);
  }
  const bilinear = interpolation === 'bilinear';
  let firstNaN = -1;
  if (simd && a.work) {
    const codes = (a.work as Int32Array).subarray(a.work.length - k);
    ops.forEach((name, i) => (codes[i] = OP_CODE[name]));
    const arrays = { images: a.images, plan: a.plan, args: a.args, mats: a.mats, centres: a.centres, codes, out: a.out, work: a.work } as LayerPassArrays;
    firstNaN = simd.layerPass(arrays, shape, layers, bilinear, f32(fill));
  } else {
    const identity = ops.map((name) => name === 'Identity');
    firstNaN = passInJavaScript(a.images, a.plan, a.args, a.mats, a.centres, a.out, impls, identity, shape, layers, bilinear, f32(fill));
  }
  if (firstNaN >= 0) throw new Error(`${LAYER_PASS}: image ${firstNaN} of the batch contains NaN`);
}

/** The pass with layer-pass-ops.ts's loops (where the compiled module is unavailable); returns -1 or the first image holding a NaN. */
function passInJavaScript(
  x: HostArray, plan: HostArray, args: HostArray, mats: HostArray, centres: HostArray, y: HostArray,
  impls: readonly LevelOp[], identity: readonly boolean[], shape: readonly [number, number, number, number], layers: number, bilinear: boolean, fill: number,
): number {
  const [n, h, w, c] = shape;
  const k = impls.length;
  const size = h * w * c;
  let [current, next] = imageBuffers(size);
  const call: LevelCall = { h, w, c, argument: 0, matrix: mats, matrixAt: 0, centreRow: 0, centreColumn: 0, bilinear, fill };
  for (let s = 0; s < n; s++) {
    if (!readLevels(x, s * size, current)) return s;
    for (let l = 0; l < layers; l++) {
      const op = plan[l * n + s]!;
      if (op < 0 || identity[op]) continue;
      const slot = (l * k + op) * n + s;
      call.argument = args[slot]!;
      call.matrixAt = slot * 6;
      call.centreRow = centres[(l * n + s) * 2]!;
      call.centreColumn = centres[(l * n + s) * 2 + 1]!;
      impls[op]!(current, next, call);
      [current, next] = [next, current];
    }
    const base = s * size;
    for (let i = 0; i < size; i++) y[base + i] = current[i]!;
  }
  return -1;
}

/** This file's host kernels (registered in ./index.ts). */
export const LAYER_PASS_KERNELS: readonly HostKernel[] = [
  { kernelName: LAYER_PASS, kernelFunc: layerPassKernel },
];
