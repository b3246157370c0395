/**
 * Point operators (PIL lookup tables): Solarize, SolarizeAdd, Posterize, Invert.
 * Masks come from tf.step, whose gradient is zero: comparison ops have no gradient in
 * tfjs and would break any backward pass they sit on.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernelOr } from '../engine/host-kernels';
import { POSTERIZE, SOLARIZE, SOLARIZE_ADD } from './kernels';
import { identityGradient, perSample, stopGradient } from './primitives';

/** ImageOps.solarize: v < threshold ? v : 255 - v. Gradient w.r.t. the image is +-1. */
export function solarize(images: tf.Tensor4D, threshold: tf.Tensor1D): tf.Tensor4D {
  return hostKernelOr(SOLARIZE, { inputs: { images, threshold }, elementwise: images.size }, () => solarizeComposite(images, threshold));
}

/** `solarize` from tf ops, for backends without the host kernel (kernels/pointwise.ts). */
export function solarizeComposite(images: tf.Tensor4D, threshold: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const below = tf.step(tf.sub(perSample(threshold), images));
    return tf.add(tf.mul(below, images), tf.mul(tf.sub(1, below), tf.sub(255, images))) as tf.Tensor4D;
  });
}

/**
 * timm's solarize_add: v < 128 ? min(255, v + addend) : v. Differentiable w.r.t. the
 * image and the addend (where the sum is below 255).
 */
export function solarizeAdd(images: tf.Tensor4D, addend: tf.Tensor1D): tf.Tensor4D {
  return hostKernelOr(SOLARIZE_ADD, { inputs: { images, addend } }, () => solarizeAddComposite(images, addend));
}

/** `solarizeAdd` from tf ops, for backends without the host kernel. */
export function solarizeAddComposite(images: tf.Tensor4D, addend: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const below = tf.step(tf.sub(128, images));
    const added = tf.minimum(tf.add(images, perSample(addend)), 255);
    return tf.add(tf.mul(below, added), tf.mul(tf.sub(1, below), images)) as tf.Tensor4D;
  });
}

/**
 * ImageOps.posterize with `bitsDropped` low bits cleared: floor(v / 2^k) 2^k on the
 * truncated 8-bit level. Straight-through (identity) gradient w.r.t. the image.
 */
export function posterize(images: tf.Tensor4D, bitsDropped: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const bits = stopGradient(bitsDropped);
    return identityGradient(images, (x) => hostKernelOr(POSTERIZE, { inputs: { images: x, bits }, elementwise: images.size }, () => posterizeLevels(x, bits)));
  });
}

/** `posterize` from tf ops, for backends without the host kernel. */
export function posterizeComposite(images: tf.Tensor4D, bitsDropped: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const bits = stopGradient(bitsDropped);
    return identityGradient(images, (x) => posterizeLevels(x, bits));
  });
}

/** The posterized levels (no gradient of their own: posterize gives it the identity). */
function posterizeLevels(x: tf.Tensor4D, bits: tf.Tensor1D): tf.Tensor4D {
  const step = perSample(tf.pow(2, tf.floor(bits)) as tf.Tensor1D);
  return tf.mul(tf.floor(tf.div(tf.floor(tf.clipByValue(x, 0, 255)), step)), step) as tf.Tensor4D;
}

/** ImageOps.invert: 255 - v. */
export function invert(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(255, images) as tf.Tensor4D);
}
