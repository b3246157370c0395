/**
 * A frozen policy's augmentation of a batch: `layers` in sequence, each a different op
 * per sample, and each layer's output stored as 8-bit levels, floor(clip(v, 0, 255)),
 * as Pillow stores every op's output (torchvision's and timm's RandAugment chain PIL
 * images). The input is read as 8-bit levels too.
 *
 * On cpu and wasm one host kernel (kernels/layer-pass.ts) runs every layer image by
 * image; elsewhere the composite runs `applyPerSample` and quantizes, layer by layer.
 * Both give the same levels, bit for bit (test/ops/layers.test.ts), with one bound:
 * Contrast's mean grey level is summed exactly by the kernel (as Pillow does) and in
 * float32 by the tensor ops, which is exact up to 65,793 pixels (2^24 / 255; 256 x 257)
 * and may round the mean differently beyond. Not differentiable: the DRA search
 * differentiates `applyPerSample` on float images instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernelOr } from '../engine/host-kernels';
import { LAYER_PASS, type LayerPassAttrs } from './kernels';
import { affineRowsFor, isAffineOp } from './geometric';
import { applyPerSample, checkImages, type GeometryOptions, OPS, resolveOptions } from './index';
import { assertOpName, type OpName } from './names';
import { quantizeLikePil } from './primitives';

/** One layer's per-sample choices, as plain arrays. */
export interface LayerPlan {
  /** Index into the ops, or -1 where the layer leaves the sample alone. */
  opIndex: Int32Array;
  /** Magnitudes >= 0 (1 is the top of each op's documented range; above it the maps extend linearly). */
  magnitude: Float32Array;
  /** +-1 per sample; ignored by unsigned ops. */
  sign: Float32Array;
  /** Cutout square centres [N * 2] as (row, column) fractions in [0, 1). */
  cutoutCentre: Float32Array;
}

function checkPlans(images: tf.Tensor4D, ops: readonly OpName[], layers: readonly LayerPlan[], where: string): void {
  checkImages(images, where);
  const n = images.shape[0];
  for (const name of ops) assertOpName(name, `${where} operator`);
  layers.forEach((layer, l) => {
    const lengths: Array<[string, ArrayLike<number>, number]> = [
      ['opIndex', layer.opIndex, n],
      ['magnitude', layer.magnitude, n],
      ['sign', layer.sign, n],
      ['cutoutCentre', layer.cutoutCentre, 2 * n],
    ];
    for (const [what, values, length] of lengths) {
      if (values?.length !== length) throw new Error(`${where}: layer ${l}: ${what} must have ${length} entries (batch of ${n}), got ${values?.length}`);
    }
    for (let i = 0; i < n; i++) {
      const k = layer.opIndex[i]!;
      if (!Number.isInteger(k) || k < -1 || k >= ops.length) throw new Error(`${where}: layer ${l}: opIndex[${i}] = ${k} is outside [-1, ${ops.length - 1}]`);
      const m = layer.magnitude[i]!;
      if (!(m >= 0 && Number.isFinite(m))) throw new Error(`${where}: layer ${l}: magnitude[${i}] = ${m} must be a finite number >= 0`);
      if (layer.sign[i] !== 1 && layer.sign[i] !== -1) throw new Error(`${where}: layer ${l}: sign[${i}] = ${layer.sign[i]} must be +1 or -1`);
    }
  });
}

/**
 * Applies the layers to images [N, H, W, C] (float32 holding levels in [0, 255]) and
 * returns the 8-bit result as float32 levels.
 */
export function applyLayers(images: tf.Tensor4D, ops: readonly OpName[], layers: readonly LayerPlan[], options: Partial<GeometryOptions> = {}): tf.Tensor4D {
  checkPlans(images, ops, layers, 'applyLayers');
  const { interpolation, fill } = resolveOptions(options);
  const attrs: LayerPassAttrs = { ops, interpolation, fill };
  return tf.tidy(() => hostKernelOr(LAYER_PASS, { inputs: () => ({ images, ...layerPassPlan(images.shape, ops, layers) }), attrs, when: layers.length > 0 }, () => applyLayersComposite(images, ops, layers, options)));
}

/** The layer pass's plan as host arrays, computed on the current backend as `applyLayers` computes it. */
export interface LayerPassPlanArrays {
  plan: Int32Array;
  args: Float32Array;
  mats: Float32Array;
  centres: Float32Array;
}

/**
 * The plan of `applyLayers` for a batch of `shape` as plain arrays: what an augmentation
 * worker needs to run the pass off this thread with the same values (the op arguments and
 * affine matrices come from the same tensor functions on the same backend).
 */
export function layerPassPlanArrays(shape: readonly [number, number, number, number], ops: readonly OpName[], layers: readonly LayerPlan[]): LayerPassPlanArrays {
  return tf.tidy(() => {
    const plan = layerPassPlan(shape, ops, layers);
    return {
      plan: plan.opIndex!.dataSync() as Int32Array,
      args: plan.argument!.dataSync() as Float32Array,
      mats: plan.matrix!.dataSync() as Float32Array,
      centres: plan.centre!.dataSync() as Float32Array,
    };
  });
}

/** The layer pass's plan inputs: the plans as tensors, with each op's argument and affine matrix per sample. */
function layerPassPlan(shape: readonly number[], ops: readonly OpName[], layers: readonly LayerPlan[]): tf.NamedTensorMap {
  const [n, h, w] = shape as [number, number, number];
  // Every op's argument (and affine matrix) for every sample, from the ops' own
  // tensor functions, so the kernel warps and blends with the tensor path's values.
  const zeros = tf.zeros([n]) as tf.Tensor1D;
  const zeroMatrix = tf.zeros([n, 6]);
  const argumentRows: tf.Tensor[] = [];
  const matrixRows: tf.Tensor[] = [];
  for (const layer of layers) {
    const used = new Set(layer.opIndex);
    const magnitude = tf.tensor1d(layer.magnitude);
    const signed = tf.mul(magnitude, tf.tensor1d(layer.sign)) as tf.Tensor1D;
    ops.forEach((name, k) => {
      if (!used.has(k)) {
        argumentRows.push(zeros);
        matrixRows.push(zeroMatrix);
        return;
      }
      const op = OPS[name];
      const argument = op.argument(op.signed ? signed : magnitude, { height: h, width: w });
      argumentRows.push(argument);
      if (isAffineOp(name)) {
        const m = affineRowsFor(name, argument, h, w);
        matrixRows.push(tf.stack([m.a, m.b, m.c, m.d, m.e, m.f], 1));
      } else {
        matrixRows.push(zeroMatrix);
      }
    });
  }
  const l = layers.length;
  const k = ops.length;
  const opIndex = tf.tensor2d(Int32Array.from(layers.flatMap((layer) => [...layer.opIndex])), [l, n], 'int32');
  const argument = tf.reshape(tf.stack(argumentRows), [l, k, n]);
  const matrix = tf.reshape(tf.stack(matrixRows), [l, k, n, 6]);
  const centre = tf.tensor3d(Float32Array.from(layers.flatMap((layer) => [...layer.cutoutCentre])), [l, n, 2]);
  return { opIndex, argument, matrix, centre };
}

/** `applyLayers` from the tensor ops, for backends without the host kernel (and as its reference). */
export function applyLayersComposite(images: tf.Tensor4D, ops: readonly OpName[], layers: readonly LayerPlan[], options: Partial<GeometryOptions> = {}): tf.Tensor4D {
  checkPlans(images, ops, layers, 'applyLayersComposite');
  const n = images.shape[0];
  return tf.tidy(() => {
    let x = quantizeLikePil(images);
    for (const layer of layers) {
      const augmented = applyPerSample(x, ops, layer.opIndex, tf.tensor1d(layer.magnitude), layer.sign, {
        ...options,
        cutoutCentre: tf.tensor2d(layer.cutoutCentre, [n, 2]),
      });
      x = quantizeLikePil(augmented);
    }
    return x;
  });
}
