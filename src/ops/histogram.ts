/**
 * Per-image, per-channel histogram operators: AutoContrast (exact gradient) and Equalize
 * (straight-through gradient). Both work on the whole batch at once: statistics are
 * reduced per (sample, channel) and never read back to JavaScript. On cpu and wasm both
 * are host kernels (kernels/histogram.ts) with the composites' values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernelOr } from '../engine/host-kernels';
import { AUTO_CONTRAST, EQUALIZE } from './kernels';
import { identityGradient, stopGradient } from './primitives';

/**
 * ImageOps.autocontrast (cutoff 0): per channel, (v - lo) 255 / (hi - lo) with lo, hi the
 * channel's min and max; a flat channel is left unchanged. Differentiable w.r.t. the
 * image, including through lo and hi.
 */
export function autoContrast(images: tf.Tensor4D): tf.Tensor4D {
  return hostKernelOr(AUTO_CONTRAST, { inputs: { images } }, () => autoContrastComposite(images));
}

/**
 * A channel's minimum or maximum whose gradient is split equally among the elements
 * equal to it, as TensorFlow's reduce_min/max gradients do (tfjs's give every tied
 * element the whole gradient). Forward: exactly the extreme.
 */
function tiedExtreme(images: tf.Tensor4D, which: 'min' | 'max'): tf.Tensor4D {
  return tf.tidy(() => {
    const extreme = stopGradient(which === 'min' ? tf.min(images, [1, 2], true) : tf.max(images, [1, 2], true));
    // 1 where an element equals the extreme: |x - e| is 0 there and >= 1 ulp elsewhere;
    // made with step so no comparison (gradient-less in tfjs) sits on the tape.
    const tie = stopGradient(tf.sub(1, tf.step(tf.abs(tf.sub(images, extreme)))));
    const ties = tf.sum(tie, [1, 2], true);
    return tf.add(extreme, tf.div(tf.sum(tf.mul(tf.sub(images, stopGradient(images)), tie), [1, 2], true), ties)) as tf.Tensor4D;
  });
}

/** `autoContrast` from tf ops, for backends without the host kernel. */
export function autoContrastComposite(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const lo = tiedExtreme(images, 'min');
    const hi = tiedExtreme(images, 'max');
    const range = tf.sub(hi, lo);
    // 1 for a flat channel; computed from a stopped value so no comparison sits on the
    // gradient path, and used to keep the division finite.
    const flat = tf.sub(1, tf.step(stopGradient(range)));
    const stretched = tf.clipByValue(tf.mul(tf.sub(images, lo), tf.div(255, tf.add(range, flat))), 0, 255);
    return tf.add(tf.mul(flat, images), tf.mul(tf.sub(1, flat), stretched)) as tf.Tensor4D;
  });
}

/**
 * ImageOps.equalize on the 8-bit levels (rounded to nearest) of each channel:
 * step = (count - count of the top level) // 255; if step is 0 the channel is unchanged;
 * else lut[i] = (step // 2 + #pixels below i) // step, clipped to 255.
 * Histograms are one scatter-add over the batch. Identity gradient (straight-through).
 */
export function equalize(images: tf.Tensor4D): tf.Tensor4D {
  return identityGradient(images, (x) => hostKernelOr(EQUALIZE, { inputs: { images: x } }, () => equalizeLevels(x)));
}

/** `equalize` from tf ops (identity gradient), for backends without the host kernel. */
export function equalizeComposite(images: tf.Tensor4D): tf.Tensor4D {
  return identityGradient(images, equalizeLevels);
}

function equalizeLevels(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = images.shape;
    const pixels = h * w;
    const levels = tf.round(tf.clipByValue(images, 0, 255));
    // Bin of each value in a [n * c * 256] histogram: ((sample * c) + channel) * 256 + level.
    const channelBase = tf.reshape(tf.mul(tf.range(0, n * c, 1, 'float32'), 256), [n, 1, 1, c]);
    const bins = tf.cast(tf.reshape(tf.add(levels, channelBase), [-1, 1]), 'int32');
    const histogram = tf.reshape(tf.scatterND(bins, tf.ones([n * h * w * c]), [n * c * 256]), [n * c, 256]);
    const below = tf.sub(tf.cumsum(histogram, 1), histogram); // pixels strictly below each level
    const topLevel = tf.reshape(tf.max(tf.reshape(tf.transpose(levels, [0, 3, 1, 2]), [n * c, pixels]), 1), [n * c]);
    const topIndex = tf.add(tf.mul(tf.range(0, n * c, 1, 'float32'), 256), topLevel) as tf.Tensor1D;
    const topCount = tf.reshape(tf.gather(tf.reshape(histogram, [n * c * 256]), tf.cast(topIndex, 'int32')), [n * c, 1]);
    const step = tf.floor(tf.div(tf.sub(pixels, topCount), 255));
    const unchanged = tf.sub(1, tf.step(step)); // step == 0
    const safeStep = tf.add(step, unchanged);
    const lut = tf.minimum(tf.floor(tf.div(tf.add(tf.floor(tf.div(safeStep, 2)), below), safeStep)), 255);
    const identity = tf.reshape(tf.range(0, 256, 1, 'float32'), [1, 256]);
    const table = tf.reshape(tf.add(tf.mul(unchanged, identity), tf.mul(tf.sub(1, unchanged), lut)), [n * c * 256]);
    return tf.reshape(tf.gather(table, tf.reshape(bins, [-1])), [n, h, w, c]) as tf.Tensor4D;
  });
}
