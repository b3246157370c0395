/**
 * Building blocks the operators share: gradient stops and straight-through estimators
 * (tfjs has no stopGradient, so they are made with tf.customGrad), a row gather whose
 * gradient is a scatter (tf.gather's own gradient needs UnsortedSegmentSum, which wasm
 * lacks and cpu computes in quadratic time), and PIL's 8-bit quantisation.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's CommonJS build registers no gradients; the operators are meant to be differentiated.
import '../engine/gradients';
import { hostKernelOr } from '../engine/host-kernels';
import { type BlocksAttrs, CONCAT_ROWS, GATHER_BLOCKS, GATHER_ROWS, SCATTER_BLOCKS, SPLIT_ROWS, type SplitRowsAttrs, scatterBlocksInputs } from './kernels';

const stopGradientOp = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** x in the forward pass, zero gradient in the backward pass. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}

/** `forward` in the forward pass, the gradient of `surrogate` in the backward pass. */
export function straightThrough<T extends tf.Tensor>(surrogate: T, forward: tf.Tensor): T {
  return tf.tidy(() => tf.add(surrogate, stopGradient(tf.sub(forward, surrogate)))) as T;
}

/**
 * `forward(x)` in the forward pass, the identity gradient in the backward pass. The ops
 * inside `forward` are not recorded on the gradient tape, so they may include kernels
 * without gradients (scatters, comparisons).
 */
export function identityGradient<T extends tf.Tensor>(x: T, forward: (x: T) => tf.Tensor): T {
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.tidy(() => forward(inputs[0] as T)),
    gradFunc: (dy: tf.Tensor) => tf.clone(dy),
  }));
  return op(x) as T;
}

const zeroGradientLinkOp = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [y, other] = inputs as [tf.Tensor, tf.Tensor];
  return { value: tf.clone(y), gradFunc: (dy: tf.Tensor) => [tf.clone(dy), tf.zerosLike(other)] };
});

/**
 * y unchanged, with `other` attached as an input whose gradient is zero: an op whose
 * output does not depend on its magnitude still reports a (zero) magnitude gradient
 * instead of making tf.grads fail.
 */
export function linkWithZeroGradient<T extends tf.Tensor>(y: T, other: tf.Tensor): T {
  return zeroGradientLinkOp(y, other) as T;
}

/**
 * floor(x + 0.5) forward (PIL's integer rounding of intermediate images, e.g. the
 * grayscale conversion and the smoothing filter), identity gradient backward.
 */
export function roundHalfUpStraightThrough<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => straightThrough(x, tf.floor(tf.add(x, 0.5))));
}

/**
 * The DRA magnitude straight-through input `x + m - stopgrad(m)`: the value of x, and a
 * gradient path from the output back to the magnitude even for operators whose output
 * does not depend on it smoothly (Posterize, Solarize, Cutout...). m is broadcast per
 * sample: images [N,H,W,C], magnitude [N].
 */
export function straightThroughMagnitude(images: tf.Tensor4D, magnitude: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.reshape(magnitude, [-1, 1, 1, 1]);
    return tf.add(images, tf.sub(m, stopGradient(m))) as tf.Tensor4D;
  });
}

/**
 * params[indices] along the first axis, for any rank. The gradient w.r.t. params is a
 * scatter-add of dy (tf.scatterND sums duplicate indices), which every backend has in
 * linear time; on cpu and wasm both directions are host kernels (kernels/rows.ts).
 * Indices get no gradient.
 */
export function gatherRows<T extends tf.Tensor>(params: T, indices: tf.Tensor1D): T {
  return tf.tidy(() => {
    const [rows, ...rest] = params.shape;
    const width = rest.reduce((a, b) => a * b, 1);
    const hostable = params.dtype === 'float32' || params.dtype === 'int32';
    const composite = () => tf.reshape(gatherRowsComposite(params, indices), [indices.shape[0], width]);
    const gathered = hostKernelOr(GATHER_ROWS, { inputs: () => ({ params: tf.reshape(params, [rows!, width]), indices: tf.cast(indices, 'int32') }), when: hostable }, composite);
    return tf.reshape(gathered, [indices.shape[0], ...rest]) as T;
  });
}

/** `gatherRows` from tf.gather and a scatterND gradient, for backends without the host kernels. */
export function gatherRowsComposite<T extends tf.Tensor>(params: T, indices: tf.Tensor1D): T {
  return tf.tidy(() => {
    const [rows, ...rest] = params.shape;
    const width = rest.reduce((a, b) => a * b, 1);
    const gatherOp = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [p, idx, save] = inputs as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      save([idx]);
      return {
        value: tf.gather(p, idx),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const savedIdx = saved[0]!;
          return [tf.scatterND(tf.expandDims(savedIdx, 1), dy, [rows!, width]), tf.zeros(savedIdx.shape)];
        },
      };
    });
    const gathered = gatherOp(tf.reshape(params, [rows!, width]), tf.cast(indices, 'int32'));
    return tf.reshape(gathered, [indices.shape[0], ...rest]) as T;
  });
}

/** tf.split(x, sizes, 0): consecutive blocks of rows; a host kernel (a copy each) on cpu and wasm. */
export function splitRows<T extends tf.Tensor>(x: T, sizes: number[]): T[] {
  const attrs: SplitRowsAttrs = { sizes };
  return hostKernelOr(SPLIT_ROWS, { inputs: { x }, attrs, when: x.dtype === 'float32' || x.dtype === 'int32' }, () => tf.split(x, sizes, 0) as T[]);
}

/** tf.concat(parts, 0); a host kernel (one copy, a split for the gradient) on cpu and wasm. */
export function concatRows<T extends tf.Tensor>(parts: T[]): T {
  const sameDtype = parts.every((p) => p.dtype === parts[0]?.dtype && (p.dtype === 'float32' || p.dtype === 'int32'));
  // The blocks go in as an array, as tf.concat passes them: the gradient saves them all.
  return hostKernelOr(CONCAT_ROWS, { inputs: parts as unknown as tf.NamedTensorMap, when: parts.length >= 2 && sameDtype }, () => tf.concat(parts, 0) as T);
}

/**
 * x's rows in the order of `order` (a permutation of its rows), cut into consecutive
 * blocks of `sizes` rows: one copy on cpu and wasm, a row gather and a split elsewhere.
 */
export function gatherBlocks<T extends tf.Tensor>(x: T, order: Int32Array, sizes: number[]): T[] {
  return tf.tidy(() => {
    const permutation = tf.tensor1d(order, 'int32');
    const attrs: BlocksAttrs = { sizes };
    return hostKernelOr(GATHER_BLOCKS, { inputs: { x, order: permutation }, attrs, when: x.dtype === 'float32' || x.dtype === 'int32' }, () => splitRows(gatherRows(x, permutation), sizes));
  });
}

/**
 * The converse of `gatherBlocks`: row i of the concatenated blocks goes to row order[i].
 * One copy on cpu and wasm, a concat and a row gather by the inverse permutation elsewhere.
 */
export function scatterBlocks<T extends tf.Tensor>(blocks: T[], order: Int32Array): T {
  return tf.tidy(() => {
    const sameDtype = blocks.every((p) => p.dtype === blocks[0]?.dtype && (p.dtype === 'float32' || p.dtype === 'int32'));
    const composite = (): T => {
      const inverse = new Int32Array(order.length);
      order.forEach((row, position) => {
        inverse[row] = position;
      });
      return gatherRows(concatRows(blocks), tf.tensor1d(inverse, 'int32'));
    };
    return hostKernelOr(SCATTER_BLOCKS, { inputs: () => scatterBlocksInputs(blocks, tf.tensor1d(order, 'int32')), when: blocks.length > 0 && sameDtype }, composite);
  });
}

/**
 * The 8-bit image PIL would store for a float result: clip to [0, 255] and truncate
 * toward zero, as Pillow's blend, bilinear transform, autocontrast and lookup-table
 * paths all do (`(UINT8) v`). Not differentiable; meant for output and comparison.
 */
export function quantizeLikePil<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.floor(tf.clipByValue(x, 0, 255))) as T;
}

/** A per-sample value [N] reshaped to broadcast over [N, H, W, C]. */
export function perSample(values: tf.Tensor1D): tf.Tensor4D {
  return tf.reshape(values, [-1, 1, 1, 1]);
}
