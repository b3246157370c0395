/**
 * Point operators (PIL lookup tables): Solarize, SolarizeAdd, Posterize, Invert.
 * Masks come from tf.step, whose gradient is zero: comparison ops have no gradient in
 * tfjs and would break any backward pass they sit on.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasHostKernel, preferHostKernel, runKernel } from './kernels/host';
import { POSTERIZE, SOLARIZE, SOLARIZE_ADD } from './kernels/pointwise';
import { identityGradient, perSample, stopGradient } from './primitives';

/** ImageOps.solarize: v < threshold ? v : 255 - v. Gradient w.r.t. the image is +-1. */
export function solarize(images: tf.Tensor4D, threshold: tf.Tensor1D): tf.Tensor4D {
  if (preferHostKernel(SOLARIZE, images.size)) return runKernel<tf.Tensor4D>(SOLARIZE, { images, threshold });
  return solarizeComposite(images, threshold);
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
  if (hasHostKernel(SOLARIZE_ADD)) return runKernel<tf.Tensor4D>(SOLARIZE_ADD, { images, addend });
  return solarizeAddComposite(images, addend);
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
  if (!preferHostKernel(POSTERIZE, images.size)) return posterizeComposite(images, bitsDropped);
  return tf.tidy(() => {
    const bits = stopGradient(bitsDropped);
    return identityGradient(images, (x) => runKernel<tf.Tensor4D>(POSTERIZE, { images: x, bits }));
  });
}

/** `posterize` from tf ops, for backends without the host kernel. */
export function posterizeComposite(images: tf.Tensor4D, bitsDropped: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const step = perSample(tf.pow(2, tf.floor(stopGradient(bitsDropped))) as tf.Tensor1D);
    return identityGradient(images, (x) => {
      const levels = tf.floor(tf.clipByValue(x, 0, 255));
      return tf.mul(tf.floor(tf.div(levels, step)), step);
    });
  });
}

/** ImageOps.invert: 255 - v. */
export function invert(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(255, images) as tf.Tensor4D);
}
