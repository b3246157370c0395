/**
 * Host kernels for the per-channel histogram operators (composites in ../histogram.ts):
 *
 * - `DraEqualize`: Pillow's equalize lookup table per (image, channel), applied to the
 *   rounded 8-bit levels. Forward only: the op passes the gradient straight through
 *   around it.
 * - `DraAutoContrast` and its gradient `DraAutoContrastGrad`: per-channel stretch of
 *   [min, max] to [0, 255]; the gradient includes the paths through min and max, split
 *   equally among the elements equal to the extreme, as TensorFlow's reduce_min/max
 *   gradients split it (the official DRA ops are TensorFlow's).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostArray } from '../../engine/host-kernels';
import { runOnHost, type HostKernel } from '../../engine/host-kernels';

export const EQUALIZE = 'DraEqualize';
export const AUTO_CONTRAST = 'DraAutoContrast';
export const AUTO_CONTRAST_GRAD = 'DraAutoContrastGrad';

const f32 = Math.fround;

/** tf.round: half to even, on the value clipped to [0, 255]. */
function level(v: number): number {
  // Branches, not selects: on 8-bit levels they always go the same way, and V8 turns
  // comparisons used as numbers into slow boolean conversions.
  const x = v < 0 ? 0 : v > 255 ? 255 : v;
  const base = Math.floor(x);
  const frac = x - base;
  if (frac < 0.5) return base;
  if (frac > 0.5) return base + 1;
  return base % 2 === 0 ? base : base + 1;
}

/**
 * Pillow's equalize lookup table of one channel from its histogram (`top`: the highest
 * level present, `pixels`: the channel's pixel count): step = (pixels - count of top) //
 * 255; identity if step is 0, else lut[i] = min((step // 2 + #pixels below i) // step, 255).
 */
export function equalizeTable(histogram: Int32Array, top: number, pixels: number, lut: Float32Array | Uint8Array): void {
  const step = Math.floor((pixels - histogram[top]!) / 255);
  if (step <= 0) {
    for (let i = 0; i < 256; i++) lut[i] = i;
    return;
  }
  let below = 0;
  const half = Math.floor(step / 2);
  for (let i = 0; i < 256; i++) {
    lut[i] = Math.min(Math.floor((half + below) / step), 255);
    below += histogram[i]!;
  }
}

function equalizeLoop(x: HostArray, out: HostArray, shape: readonly number[]): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  const pixels = h * w;
  const histogram = new Int32Array(256);
  const lut = new Float32Array(256);
  for (let s = 0; s < n; s++) {
    const base = s * pixels * c;
    for (let k = 0; k < c; k++) {
      histogram.fill(0);
      let top = 0;
      for (let p = base + k, end = base + pixels * c; p < end; p += c) {
        const v = level(x[p]!);
        histogram[v]!++;
        if (v > top) top = v;
      }
      equalizeTable(histogram, top, pixels, lut);
      for (let p = base + k, end = base + pixels * c; p < end; p += c) out[p] = lut[level(x[p]!)]!;
    }
  }
}

interface ChannelRange {
  lo: number;
  hi: number;
}

function channelRange(x: HostArray, base: number, pixels: number, c: number): ChannelRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = base, end = base + pixels * c; p < end; p += c) {
    const v = x[p]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi };
}

function autoContrastForward(x: HostArray, out: HostArray, shape: readonly number[]): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  const pixels = h * w;
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < c; k++) {
      const base = s * pixels * c + k;
      const { lo, hi } = channelRange(x, base, pixels, c);
      const range = f32(hi - lo);
      const end = base + pixels * c;
      if (!(range > 0)) {
        for (let p = base; p < end; p += c) out[p] = x[p]!;
        continue;
      }
      const scale = f32(255 / range);
      for (let p = base; p < end; p += c) {
        const v = f32(f32(x[p]! - lo) * scale);
        out[p] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}

function autoContrastBackward(dy: HostArray, x: HostArray, dx: HostArray, shape: readonly number[]): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  const pixels = h * w;
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < c; k++) {
      const base = s * pixels * c + k;
      const { lo, hi } = channelRange(x, base, pixels, c);
      const range = f32(hi - lo);
      const end = base + pixels * c;
      if (!(range > 0)) {
        for (let p = base; p < end; p += c) dx[p] = dy[p]!;
        continue;
      }
      const scale = f32(255 / range);
      // out = clip((x - lo) scale), scale = 255 / (hi - lo): the direct term, then the
      // gradients of lo and hi handed to the elements equal to them.
      let gShift = 0; // sum of g * scale, the gradient of -lo through (x - lo)
      let gScale = 0; // sum of g * (x - lo)
      for (let p = base; p < end; p += c) {
        const shifted = f32(x[p]! - lo);
        const v = f32(shifted * scale);
        const g = v >= 0 && v <= 255 ? dy[p]! : 0;
        dx[p] = g * scale;
        gShift += g * scale;
        gScale += g * shifted;
      }
      let loTies = 0;
      let hiTies = 0;
      for (let p = base; p < end; p += c) {
        if (x[p] === lo) loTies++;
        if (x[p] === hi) hiTies++;
      }
      const gRange = (-gScale * 255) / (range * range);
      const gLo = (-gShift - gRange) / loTies;
      const gHi = gRange / hiTies;
      for (let p = base; p < end; p += c) {
        const v = x[p]!;
        if (v === lo) dx[p] = dx[p]! + gLo;
        if (v === hi) dx[p] = dx[p]! + gHi;
      }
    }
  }
}

function checkImages(images: tf.TensorInfo, kernel: string): void {
  if (images.shape.length !== 4) throw new Error(`${kernel}: images must be [N,H,W,C], got [${images.shape.join(', ')}]`);
}

const equalizeKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { images } = inputs as { images: tf.TensorInfo };
  checkImages(images, EQUALIZE);
  const [out] = runOnHost(backend, [images], [{ shape: [...images.shape] }], ([x], [y]) => equalizeLoop(x!, y!, images.shape));
  return out!;
};

const autoContrastKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { images } = inputs as { images: tf.TensorInfo };
  checkImages(images, AUTO_CONTRAST);
  const [out] = runOnHost(backend, [images], [{ shape: [...images.shape] }], ([x], [y]) => autoContrastForward(x!, y!, images.shape));
  return out!;
};

const autoContrastGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, images } = inputs as { dy: tf.TensorInfo; images: tf.TensorInfo };
  const [out] = runOnHost(backend, [dy, images], [{ shape: [...images.shape] }], ([g, x], [dx]) => autoContrastBackward(g!, x!, dx!, images.shape));
  return out!;
};

/** This file's host kernels (registered in ./index.ts). */
export const HISTOGRAM_KERNELS: readonly HostKernel[] = [
  { kernelName: EQUALIZE, kernelFunc: equalizeKernel },
  { kernelName: AUTO_CONTRAST, kernelFunc: autoContrastKernel },
  { kernelName: AUTO_CONTRAST_GRAD, kernelFunc: autoContrastGradKernel },
];

if (tf.getGradient(AUTO_CONTRAST) === undefined) {
  tf.registerGradient({
    kernelName: AUTO_CONTRAST,
    inputsToSave: ['images'],
    gradFunc: (dy, saved) => {
      const [images] = saved as [tf.Tensor];
      return { images: () => tf.engine().runKernel(AUTO_CONTRAST_GRAD, { dy: dy as tf.Tensor, images }) as tf.Tensor };
    },
  });
}
