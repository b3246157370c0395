/**
 * The four ImageEnhance blends: Brightness, Color, Contrast, Sharpness. Each is PIL's
 * `Image.blend(degenerate, image, factor)` = degenerate + factor (image - degenerate),
 * clipped to [0, 255]; factor 1 is the identity. Exact gradients w.r.t. the image and the
 * factor. PIL rounds its degenerate images to integers (grayscale conversion, contrast
 * mean, smoothing filter); the ops do the same in the forward pass and pass that rounding
 * straight through in the backward pass; `roundLikePil = false` gives the continuous ops
 * (the official DRA code's, and what the gradient is exact for).
 *
 * On cpu and wasm the blend and the smoothing filter are host kernels (kernels/blend.ts);
 * elsewhere they are the composites below, with the same values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernelOr } from '../engine/host-kernels';
import { BLEND, GRAYSCALE, type GrayscaleAttrs, LUMA, SMOOTH, type SmoothAttrs } from './kernels';
import { perSample, roundHalfUpStraightThrough } from './primitives';

const maybeRound = <T extends tf.Tensor>(x: T, round: boolean): T => (round ? roundHalfUpStraightThrough(x) : x);

/** degenerate + factor (image - degenerate), clipped to [0, 255]; factor [N]; degenerate broadcasts (e.g. [N,H,W,1] or [N,1,1,1]). */
export function blend(degenerate: tf.Tensor4D, images: tf.Tensor4D, factor: tf.Tensor1D): tf.Tensor4D {
  // A degenerate of one value per image, or of the image's own shape, keeps the composite
  // free of wasm's slow generic broadcasting; a grayscale one ([N,H,W,1]) does not.
  const simple = degenerate.size === images.shape[0] || degenerate.shape.every((d, i) => d === images.shape[i]);
  return hostKernelOr(BLEND, { inputs: { degenerate, images, factor }, ...(simple ? { elementwise: images.size } : {}) }, () => blendComposite(degenerate, images, factor));
}

/** `blend` from tf ops, for backends without the host kernel. */
export function blendComposite(degenerate: tf.Tensor4D, images: tf.Tensor4D, factor: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() =>
    tf.clipByValue(tf.add(degenerate, tf.mul(perSample(factor), tf.sub(images, degenerate))), 0, 255) as tf.Tensor4D,
  );
}

/** PIL grayscale [N,H,W,1], rounded as PIL does; 1-channel images pass through. A host kernel on cpu and wasm. */
export function grayscale(images: tf.Tensor4D, roundLikePil = true): tf.Tensor4D {
  const attrs: GrayscaleAttrs = { round: roundLikePil };
  return hostKernelOr(GRAYSCALE, { inputs: { images }, attrs, when: images.shape[3] === 3 }, () => grayscaleComposite(images, roundLikePil));
}

/** `grayscale` from tf ops, for backends without the host kernel. */
export function grayscaleComposite(images: tf.Tensor4D, roundLikePil = true): tf.Tensor4D {
  return tf.tidy(() => {
    if (images.shape[3] === 1) return tf.clone(images);
    const weights = tf.tensor4d([...LUMA], [1, 1, 1, 3]);
    return maybeRound(tf.sum(tf.mul(images, weights), 3, true) as tf.Tensor4D, roundLikePil);
  });
}

/** ImageEnhance.Brightness: blend with black (one zero per image, broadcast). */
export function brightness(images: tf.Tensor4D, factor: tf.Tensor1D, _roundLikePil = true): tf.Tensor4D {
  return tf.tidy(() => blend(tf.zeros([images.shape[0], 1, 1, 1]), images, factor));
}

/** ImageEnhance.Color: blend with the image's grayscale version. */
export function color(images: tf.Tensor4D, factor: tf.Tensor1D, roundLikePil = true): tf.Tensor4D {
  return tf.tidy(() => blend(grayscale(images, roundLikePil), images, factor));
}

/** ImageEnhance.Contrast: blend with a constant image of the rounded mean grayscale level. */
export function contrast(images: tf.Tensor4D, factor: tf.Tensor1D, roundLikePil = true): tf.Tensor4D {
  return tf.tidy(() => {
    const mean = maybeRound(tf.mean(grayscale(images, roundLikePil), [1, 2, 3], true) as tf.Tensor4D, roundLikePil);
    return blend(mean, images, factor);
  });
}

/**
 * ImageEnhance.Sharpness: blend with PIL's SMOOTH filter ([[1,1,1],[1,5,1],[1,1,1]] / 13,
 * rounded), whose border rows and columns are the input's.
 */
export function sharpness(images: tf.Tensor4D, factor: tf.Tensor1D, roundLikePil = true): tf.Tensor4D {
  return tf.tidy(() => blend(smooth(images, roundLikePil), images, factor));
}

export function smooth(images: tf.Tensor4D, roundLikePil = true): tf.Tensor4D {
  const attrs: SmoothAttrs = { round: roundLikePil };
  return hostKernelOr(SMOOTH, { inputs: { images }, attrs }, () => smoothComposite(images, roundLikePil));
}

/** `smooth` from shifted slices, for backends without the host kernel. */
export function smoothComposite(images: tf.Tensor4D, roundLikePil = true): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = images.shape;
    if (h < 3 || w < 3) return tf.clone(images);
    const rows = tf.add(tf.add(tf.slice(images, [0, 0, 0, 0], [n, h - 2, w, c]), tf.slice(images, [0, 1, 0, 0], [n, h - 2, w, c])), tf.slice(images, [0, 2, 0, 0], [n, h - 2, w, c]));
    const box = tf.add(tf.add(tf.slice(rows, [0, 0, 0, 0], [n, h - 2, w - 2, c]), tf.slice(rows, [0, 0, 1, 0], [n, h - 2, w - 2, c])), tf.slice(rows, [0, 0, 2, 0], [n, h - 2, w - 2, c]));
    const centre = tf.slice(images, [0, 1, 1, 0], [n, h - 2, w - 2, c]);
    const interior = maybeRound(tf.clipByValue(tf.div(tf.add(box, tf.mul(centre, 4)), 13), 0, 255), roundLikePil);
    const padded = tf.pad(interior, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    const border = borderMask(h, w);
    return tf.add(tf.mul(padded, tf.sub(1, border)), tf.mul(images, border)) as tf.Tensor4D;
  });
}

/** [1,H,W,1] with 1 on the outermost rows and columns. */
function borderMask(h: number, w: number): tf.Tensor4D {
  return tf.tidy(() => tf.sub(1, tf.pad(tf.ones([1, h - 2, w - 2, 1]), [[0, 0], [1, 1], [1, 1], [0, 0]])) as tf.Tensor4D);
}
