/**
 * Host kernels for the point operators and Cutout (composites in ../pointwise.ts and
 * ../cutout.ts), each one pass over the batch where the composites take five to ten
 * (several of them broadcasting, which wasm runs on a slow generic path):
 *
 * - `DraCutout` (images, side [N], centre [N, 2]; fill): the image with the square set to
 *   `fill`. Its gradient is the same kernel on dy with fill 0 (dy outside the square).
 * - `DraSolarize` (images, threshold [N]) and `DraSolarizeGrad` (dy, images, threshold):
 *   v < t ? v : 255 - v, gradient +-dy.
 * - `DraSolarizeAdd` (images, addend [N]) and `DraSolarizeAddGrad`: v < 128 ?
 *   min(v + a, 255) : v, gradients w.r.t. the image and the addend.
 * - `DraPosterize` (images, bits [N]): floor(floor(clip(v, 0, 255)) / 2^k) 2^k with
 *   k = floor(bits); forward only (the op passes the gradient straight through).
 *
 * Values are the composites' bit for bit: each composite's products with 0/1 masks and
 * its float32 sums are exact selections here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostArray } from '../../engine/host-kernels';
import { runOnHost, type HostKernel } from '../../engine/host-kernels';

export const CUTOUT = 'DraCutout';
export const SOLARIZE = 'DraSolarize';
export const SOLARIZE_GRAD = 'DraSolarizeGrad';
export const SOLARIZE_ADD = 'DraSolarizeAdd';
export const SOLARIZE_ADD_GRAD = 'DraSolarizeAddGrad';
export const POSTERIZE = 'DraPosterize';

export interface CutoutAttrs {
  fill: number;
}

const f32 = Math.fround;

function checkPerSample(kernel: string, images: tf.TensorInfo, arg: tf.TensorInfo, what: string): void {
  if (images.shape.length !== 4 || arg.shape.length !== 1 || arg.shape[0] !== images.shape[0]) {
    throw new Error(`${kernel}: expected images [N,H,W,C] and ${what} [N], got [${images.shape.join(', ')}] and [${arg.shape.join(', ')}]`);
  }
}

/** Rows (or columns) [first, last) of the square along a side of `size` pixels, as the composite's step masks select them. */
export function squareSpan(centreFraction: number, side: number, size: number): [number, number] {
  const start = Math.floor(f32(f32(centreFraction * size) - side / 2));
  return [Math.max(0, start), Math.min(size, start + side)];
}

const cutoutKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images, side, centre } = inputs as Record<'images' | 'side' | 'centre', tf.TensorInfo>;
  const { fill } = attrs as unknown as CutoutAttrs;
  checkPerSample(CUTOUT, images, side, 'side');
  if (centre.shape.length !== 2 || centre.shape[0] !== images.shape[0] || centre.shape[1] !== 2) {
    throw new Error(`${CUTOUT}: centre must be [${images.shape[0]}, 2], got [${centre.shape.join(', ')}]`);
  }
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const fillValue = f32(fill);
  const [out] = runOnHost(backend, [images, side, centre], [{ shape: [...images.shape] }], ([x, sides, centres], [y]) => {
    y!.set(x!);
    for (let s = 0; s < n; s++) {
      const k = Math.floor(sides![s]!);
      const [top, bottom] = squareSpan(centres![2 * s]!, k, h);
      const [left, right] = squareSpan(centres![2 * s + 1]!, k, w);
      if (right <= left) continue;
      for (let r = top; r < bottom; r++) {
        const rowStart = ((s * h + r) * w + left) * c;
        y!.fill(fillValue, rowStart, rowStart + (right - left) * c);
      }
    }
  });
  return out!;
};

function solarizeLoop(x: HostArray, t: HostArray, out: HostArray, n: number, size: number, gradient: HostArray | null): void {
  for (let s = 0; s < n; s++) {
    const threshold = t[s]!;
    for (let i = s * size, end = i + size; i < end; i++) {
      const v = x[i]!;
      // A select, not a branch: v < t is as likely as not on some images.
      const below = (v < threshold) as unknown as number;
      if (gradient) out[i] = gradient[i]! * (2 * below - 1);
      else out[i] = below * v + (1 - below) * f32(255 - v);
    }
  }
}

const solarizeKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { images, threshold } = inputs as Record<'images' | 'threshold', tf.TensorInfo>;
  checkPerSample(SOLARIZE, images, threshold, 'threshold');
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const [out] = runOnHost(backend, [images, threshold], [{ shape: [...images.shape] }], ([x, t], [y]) => solarizeLoop(x!, t!, y!, n, h * w * c, null));
  return out!;
};

const solarizeGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, images, threshold } = inputs as Record<'dy' | 'images' | 'threshold', tf.TensorInfo>;
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const [out] = runOnHost(backend, [dy, images, threshold], [{ shape: [...images.shape] }], ([g, x, t], [dx]) => solarizeLoop(x!, t!, dx!, n, h * w * c, g!));
  return out!;
};

/** v < 128 ? min(v + add, 255) : v, as the composite's 0/1-mask products compute it. */
export function solarizeAddValue(v: number, add: number): number {
  const below = (v < 128) as unknown as number;
  return below * Math.min(f32(v + add), 255) + (1 - below) * v;
}

const solarizeAddKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { images, addend } = inputs as Record<'images' | 'addend', tf.TensorInfo>;
  checkPerSample(SOLARIZE_ADD, images, addend, 'addend');
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const size = h * w * c;
  const [out] = runOnHost(backend, [images, addend], [{ shape: [...images.shape] }], ([x, a], [y]) => {
    const table = new Float32Array(256);
    for (let s = 0; s < n; s++) {
      const add = a![s]!;
      for (let k = 0; k < 256; k++) table[k] = solarizeAddValue(k, add);
      for (let i = s * size, end = i + size; i < end; i++) {
        const v = x![i]!;
        const k = v | 0;
        // 8-bit levels read the sample's table of solarizeAddValue, other values compute it.
        y![i] = k === v && (k & ~255) === 0 ? table[k]! : solarizeAddValue(v, add);
      }
    }
  });
  return out!;
};

const solarizeAddGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, images, addend } = inputs as Record<'dy' | 'images' | 'addend', tf.TensorInfo>;
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const size = h * w * c;
  return runOnHost(backend, [dy, images, addend], [{ shape: [...images.shape] }, { shape: [n] }], ([g, x, a], [dx, da]) => {
    for (let s = 0; s < n; s++) {
      const add = a![s]!;
      let gAdd = 0;
      for (let i = s * size, end = i + size; i < end; i++) {
        const v = x![i]!;
        const below = (v < 128) as unknown as number;
        // tf.minimum passes the gradient to its first argument where it is <= the second.
        const open = below & ((f32(v + add) <= 255) as unknown as number);
        const gv = g![i]!;
        dx![i] = gv * open + gv * (1 - below);
        gAdd += gv * open;
      }
      da![s] = gAdd;
    }
  });
};

const posterizeKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { images, bits } = inputs as Record<'images' | 'bits', tf.TensorInfo>;
  checkPerSample(POSTERIZE, images, bits, 'bits');
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const size = h * w * c;
  const [out] = runOnHost(backend, [images, bits], [{ shape: [...images.shape] }], ([x, b], [y]) => {
    for (let s = 0; s < n; s++) {
      const step = 2 ** Math.floor(b![s]!);
      const inverse = 1 / step; // a power of two: multiplying by it is the exact division
      for (let i = s * size, end = i + size; i < end; i++) {
        const v = x![i]!;
        const positive = (v + Math.abs(v)) * 0.5;
        const level = Math.floor((positive + 255 - Math.abs(positive - 255)) * 0.5);
        y![i] = Math.floor(level * inverse) * step;
      }
    }
  });
  return out!;
};

/** This file's host kernels (registered in ./index.ts). */
export const POINTWISE_KERNELS: readonly HostKernel[] = [
  { kernelName: CUTOUT, kernelFunc: cutoutKernel },
  { kernelName: SOLARIZE, kernelFunc: solarizeKernel },
  { kernelName: SOLARIZE_GRAD, kernelFunc: solarizeGradKernel },
  { kernelName: SOLARIZE_ADD, kernelFunc: solarizeAddKernel },
  { kernelName: SOLARIZE_ADD_GRAD, kernelFunc: solarizeAddGradKernel },
  { kernelName: POSTERIZE, kernelFunc: posterizeKernel },
];

if (tf.getGradient(CUTOUT) === undefined) {
  tf.registerGradient({
    kernelName: CUTOUT,
    inputsToSave: ['side', 'centre'],
    gradFunc: (dy, saved) => {
      const [side, centre] = saved as [tf.Tensor, tf.Tensor];
      const attrs: CutoutAttrs = { fill: 0 };
      return {
        images: () => tf.engine().runKernel(CUTOUT, { images: dy as tf.Tensor, side, centre }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        side: () => tf.zeros(side.shape),
        centre: () => tf.zeros(centre.shape),
      };
    },
  });
}

if (tf.getGradient(SOLARIZE) === undefined) {
  tf.registerGradient({
    kernelName: SOLARIZE,
    inputsToSave: ['images', 'threshold'],
    gradFunc: (dy, saved) => {
      const [images, threshold] = saved as [tf.Tensor, tf.Tensor];
      return {
        images: () => tf.engine().runKernel(SOLARIZE_GRAD, { dy: dy as tf.Tensor, images, threshold }) as tf.Tensor,
        threshold: () => tf.zeros(threshold.shape),
      };
    },
  });
}

if (tf.getGradient(SOLARIZE_ADD) === undefined) {
  tf.registerGradient({
    kernelName: SOLARIZE_ADD,
    inputsToSave: ['images', 'addend'],
    gradFunc: (dy, saved) => {
      const [images, addend] = saved as [tf.Tensor, tf.Tensor];
      // Both gradients from one kernel, run here so neither is disposed before it is used.
      const [dImages, dAddend] = tf.engine().runKernel(SOLARIZE_ADD_GRAD, { dy: dy as tf.Tensor, images, addend }) as tf.Tensor[];
      return { images: () => dImages!, addend: () => dAddend! };
    },
  });
}
