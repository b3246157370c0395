/**
 * Cutout: a square of side `side` pixels (per sample) set to the fill value. Its
 * position is a per-sample argument (the centre as fractions of height and width in
 * [0, 1)), drawn by the caller's seeded Rng, so the op itself is pure. The square's top
 * left corner is floor(centre - side / 2), and it is clipped to the image. Gradient w.r.t.
 * the image: 1 outside the square, 0 inside.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng';
import { hostKernelOr } from '../engine/host-kernels';
import { CUTOUT, type CutoutAttrs } from './kernels';
import { stopGradient } from './primitives';

/**
 * side [N] (pixels), centre [N, 2] as (row, column) fractions in [0, 1). A host kernel
 * (a copy and the square's fill) on cpu and wasm, the composite elsewhere.
 */
export function cutout(images: tf.Tensor4D, side: tf.Tensor1D, centre: tf.Tensor2D, fill: number): tf.Tensor4D {
  const attrs: CutoutAttrs = { fill };
  return hostKernelOr(CUTOUT, { inputs: { images, side, centre }, attrs }, () => cutoutComposite(images, side, centre, fill));
}

/** `cutout` from tf ops (step masks), for backends without the host kernel. */
export function cutoutComposite(images: tf.Tensor4D, side: tf.Tensor1D, centre: tf.Tensor2D, fill: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = images.shape;
    const s = tf.reshape(tf.floor(stopGradient(side)), [n, 1]);
    const rowCentre = tf.mul(tf.slice(centre, [0, 0], [n, 1]), h);
    const colCentre = tf.mul(tf.slice(centre, [0, 1], [n, 1]), w);
    const top = tf.floor(tf.sub(rowCentre, tf.div(s, 2)));
    const left = tf.floor(tf.sub(colCentre, tf.div(s, 2)));
    // Integer positions p inside [start, start + s) <=> step(p - start + 0.5) * step(start + s - 0.5 - p).
    const span = (start: tf.Tensor, size: number) => {
      const p = tf.reshape(tf.range(0, size, 1, 'float32'), [1, size]);
      return tf.mul(tf.step(tf.add(tf.sub(p, start), 0.5)), tf.step(tf.sub(tf.sub(tf.add(start, s), 0.5), p)));
    };
    const rows = tf.reshape(span(top, h), [n, h, 1, 1]);
    const cols = tf.reshape(span(left, w), [n, 1, w, 1]);
    const hole = tf.mul(rows, cols);
    return tf.add(tf.mul(images, tf.sub(1, hole)), tf.mul(hole, fill)) as tf.Tensor4D;
  });
}

/**
 * n Cutout centres drawn as the official code draws them (operations.py `cutout`): an
 * integer row in [0, height) then an integer column in [0, width) per image, from `rng`.
 * Returned as the fractions `cutout` takes, (k + 0.75) / extent: `cutout` puts the top at
 * floor(fraction * extent - side / 2), which is then k - floor(side / 2) for even and odd
 * sides alike (the official top), with a quarter pixel of room for float rounding.
 */
export function drawCutoutCentres(rng: Rng, n: number, height: number, width: number): tf.Tensor2D {
  return tf.tensor2d(drawCutoutCentreValues(rng, n, height, width), [n, 2]);
}

/** drawCutoutCentres as a plain [n * 2] array (for work that runs off the tensor backend). */
export function drawCutoutCentreValues(rng: Rng, n: number, height: number, width: number): Float32Array {
  const centres = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    centres[2 * i] = (rng.int(height) + 0.75) / height;
    centres[2 * i + 1] = (rng.int(width) + 0.75) / width;
  }
  return centres;
}

/**
 * The Cutout of the training pipelines (after DRA in the search and in final training):
 * a `side` x `side` square of `fill` per image at the given centres. The same op as the
 * Cutout operator, with a fixed side instead of one from a magnitude.
 */
export function cutoutSquares(images: tf.Tensor4D, side: number, centres: tf.Tensor2D, fill = 0): tf.Tensor4D {
  return tf.tidy(() => cutout(images, tf.fill([images.shape[0]], side), centres, fill));
}
