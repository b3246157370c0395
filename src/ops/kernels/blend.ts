/**
 * Host kernels for the ImageEnhance blends (composites in color.ts):
 *
 * - `DraBlend`: clip(degenerate + factor (images - degenerate), 0, 255), degenerate
 *   broadcasting over height, width and channels ([N, H|1, W|1, C|1]), factor [N]; its
 *   gradient `DraBlendGrad` gives the image, the degenerate (summed over its broadcast
 *   axes) and the factor.
 * - `DraSmooth`: Pillow's SMOOTH filter ([[1,1,1],[1,5,1],[1,1,1]] / 13, clipped, rounded
 *   half up when `round`), border rows and columns copied; `DraSmoothGrad` is its adjoint,
 *   the rounding passed straight through.
 *
 * Arithmetic is float32 (Math.fround) in the composites' order, so forward values agree
 * bit for bit; gradients agree up to the order of float additions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostArray } from '../../engine/host-kernels';
import { clamp255, inside255, runOnHost, type HostKernel } from '../../engine/host-kernels';
import { simdKernels } from './simd';

export const BLEND = 'DraBlend';
export const BLEND_GRAD = 'DraBlendGrad';
export const SMOOTH = 'DraSmooth';
export const SMOOTH_GRAD = 'DraSmoothGrad';
export const GRAYSCALE = 'DraGrayscale';

/** PIL's `convert('L')` weights: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
export const LUMA = [19595 / 65536, 38470 / 65536, 7471 / 65536] as const;

export interface GrayscaleAttrs {
  round: boolean;
}

export interface SmoothAttrs {
  round: boolean;
}

const f32 = Math.fround;

/** Strides of a degenerate image broadcast against [N, H, W, C] (0 along broadcast axes). */
function broadcastStrides(image: readonly number[], degenerate: readonly number[]): { n: number; y: number; x: number; k: number } {
  const [n, h, w, c] = image as [number, number, number, number];
  const [dn, dh, dw, dc] = degenerate as [number, number, number, number];
  const ok = degenerate.length === 4 && dn === n && (dh === h || dh === 1) && (dw === w || dw === 1) && (dc === c || dc === 1);
  if (!ok) throw new Error(`${BLEND}: degenerate [${degenerate.join(', ')}] does not broadcast against images [${image.join(', ')}]`);
  return { n: dh * dw * dc, y: dh === 1 ? 0 : dw * dc, x: dw === 1 ? 0 : dc, k: dc === 1 ? 0 : 1 };
}

function checkFactor(images: tf.TensorInfo, factor: tf.TensorInfo): void {
  if (factor.shape.length !== 1 || factor.shape[0] !== images.shape[0]) {
    throw new Error(`${BLEND}: factor must be [${images.shape[0]}], got [${factor.shape.join(', ')}]`);
  }
}

function blendForward(d: HostArray, x: HostArray, f: HostArray, out: HostArray, shape: readonly number[], st: ReturnType<typeof broadcastStrides>): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  if (c === 3 && st.k === 0 && st.x === 1 && st.y === w) {
    blendPerPixel(d, x, f, out, n, h * w);
    return;
  }
  let o = 0;
  for (let s = 0; s < n; s++) {
    const factor = f[s]!;
    for (let y = 0; y < h; y++) {
      for (let xi = 0; xi < w; xi++) {
        const dBase = s * st.n + y * st.y + xi * st.x;
        for (let k = 0; k < c; k++, o++) {
          const dv = d[dBase + k * st.k]!;
          out[o] = clamp255(f32(dv + f32(factor * f32(x[o]! - dv))));
        }
      }
    }
  }
}

/** blendForward for a one-channel degenerate ([N,H,W,1], Color's grayscale) and 3-channel images. */
function blendPerPixel(d: HostArray, x: HostArray, f: HostArray, out: HostArray, n: number, pixels: number): void {
  for (let s = 0, p = 0, o = 0; s < n; s++) {
    const factor = f[s]!;
    for (const end = p + pixels; p < end; p++, o += 3) {
      const dv = d[p]!;
      out[o] = clamp255(f32(dv + f32(factor * f32(x[o]! - dv))));
      out[o + 1] = clamp255(f32(dv + f32(factor * f32(x[o + 1]! - dv))));
      out[o + 2] = clamp255(f32(dv + f32(factor * f32(x[o + 2]! - dv))));
    }
  }
}

function blendBackward(dy: HostArray, d: HostArray, x: HostArray, f: HostArray, dd: HostArray, dx: HostArray, df: HostArray, shape: readonly number[], st: ReturnType<typeof broadcastStrides>): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  let o = 0;
  for (let s = 0; s < n; s++) {
    const factor = f[s]!;
    let gFactor = 0;
    for (let y = 0; y < h; y++) {
      for (let xi = 0; xi < w; xi++) {
        const dBase = s * st.n + y * st.y + xi * st.x;
        for (let k = 0; k < c; k++, o++) {
          const di = dBase + k * st.k;
          const dv = d[di]!;
          const diff = f32(x[o]! - dv);
          const v = f32(dv + f32(factor * diff));
          // clipByValue passes the gradient where min <= v <= max (inclusive), as a product.
          const g = dy[o]! * inside255(v);
          const gx = factor * g;
          dx[o] = gx;
          dd[di] = dd[di]! + (g - gx);
          gFactor += g * diff;
        }
      }
    }
    df[s] = gFactor;
  }
}

const blendKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { degenerate, images, factor } = inputs as Record<'degenerate' | 'images' | 'factor', tf.TensorInfo>;
  checkFactor(images, factor);
  const st = broadcastStrides(images.shape, degenerate.shape);
  const [out] = runOnHost(backend, [degenerate, images, factor], [{ shape: [...images.shape] }], ([d, x, f], [y]) =>
    blendForward(d!, x!, f!, y!, images.shape, st),
  );
  return out!;
};

const blendGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, degenerate, images, factor } = inputs as Record<'dy' | 'degenerate' | 'images' | 'factor', tf.TensorInfo>;
  const st = broadcastStrides(images.shape, degenerate.shape);
  return runOnHost(
    backend,
    [dy, degenerate, images, factor],
    [{ shape: [...degenerate.shape], zeroed: true }, { shape: [...images.shape] }, { shape: [...factor.shape] }],
    ([g, d, x, f], [dd, dx, df]) => blendBackward(g!, d!, x!, f!, dd!, dx!, df!, images.shape, st),
  );
};

/** Pillow's SMOOTH sum at interior element i (before clipping), in the composite's order of float32 additions. */
function smoothAt(x: HostArray, i: number, row: number, c: number): number {
  const left = f32(f32(x[i - row - c]! + x[i - c]!) + x[i + row - c]!);
  const mid = f32(f32(x[i - row]! + x[i]!) + x[i + row]!);
  const right = f32(f32(x[i - row + c]! + x[i + c]!) + x[i + row + c]!);
  const box = f32(f32(left + mid) + right);
  return f32(f32(box + f32(x[i]! * 4)) / 13);
}

/** The filter's output for a weighted 3x3 sum `total` (box + 4 centre): / 13, clipped, and rounded as the composite does. */
function smoothFromTotal(total: number, round: boolean): number {
  const clipped = clamp255(f32(total / 13));
  // The composite's straight-through rounding, clipped + (floor(clipped + 0.5) - clipped), in float32.
  return round ? f32(clipped + f32(Math.floor(f32(clipped + 0.5)) - clipped)) : clipped;
}

/** Largest total of an 8-bit neighbourhood: 13 x 255. */
export const MAX_SMOOTH_TOTAL = 13 * 255;
const smoothTables = new Map<boolean, Float32Array>();

/** smoothFromTotal of every integer total in [0, MAX_SMOOTH_TOTAL], built once. */
export function smoothTable(round: boolean): Float32Array {
  let table = smoothTables.get(round);
  if (!table) {
    table = Float32Array.from({ length: MAX_SMOOTH_TOTAL + 1 }, (_, k) => smoothFromTotal(k, round));
    smoothTables.set(round, table);
  }
  return table;
}

function copyBorder(from: HostArray, to: HostArray, shape: readonly number[]): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  const row = w * c;
  for (let s = 0; s < n; s++) {
    const base = s * h * row;
    to.set(from.subarray(base, base + row), base);
    to.set(from.subarray(base + (h - 1) * row, base + h * row), base + (h - 1) * row);
    for (let y = 1; y < h - 1; y++) {
      const r = base + y * row;
      for (let k = 0; k < c; k++) {
        to[r + k] = from[r + k]!;
        to[r + row - c + k] = from[r + row - c + k]!;
      }
    }
  }
}

function smoothable(shape: readonly number[]): boolean {
  return shape[1]! >= 3 && shape[2]! >= 3;
}

const smoothKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images } = inputs as { images: tf.TensorInfo };
  const { round } = attrs as unknown as SmoothAttrs;
  const [out] = runOnHost(backend, [images], [{ shape: [...images.shape] }], ([x], [y]) => {
    if (!smoothable(images.shape)) {
      y!.set(x!);
      return;
    }
    const xv = x!;
    const yv = y!;
    const simd = images.dtype === 'float32' ? simdKernels(backend) : undefined;
    if (simd) {
      // After the interior: on cpu that copies the whole output back from scratch memory.
      simd.smoothInterior(xv as Float32Array, yv as Float32Array, images.shape, round);
      copyBorder(xv, yv, images.shape);
      return;
    }
    const [n, h, w, c] = images.shape as [number, number, number, number];
    const row = w * c;
    copyBorder(xv, yv, images.shape);
    // Each 3x3 sum is three vertical sums added left to right, as in smoothAt; the
    // vertical sums of a row are shared by the three columns that use them.
    const columns = new Float32Array(row);
    const table = smoothTable(round);
    for (let s = 0; s < n; s++) {
      for (let r = 1; r < h - 1; r++) {
        const start = (s * h + r) * row;
        for (let j = 0, i = start; j < row; j++, i++) columns[j] = f32(xv[i - row]! + xv[i]!) + xv[i + row]!;
        for (let j = c, i = start + c, end = row - c; j < end; j++, i++) {
          const box = f32(f32(columns[j - c]! + columns[j]!) + columns[j + c]!);
          const total = f32(box + f32(xv[i]! * 4));
          const level = total | 0;
          // 8-bit images give integer totals: the table holds smoothFromTotal of each.
          yv[i] = level === total && level >= 0 && level <= MAX_SMOOTH_TOTAL ? table[level]! : smoothFromTotal(total, round);
        }
      }
    }
  });
  return out!;
};

const smoothGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, images } = inputs as { dy: tf.TensorInfo; images: tf.TensorInfo };
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const row = w * c;
  const [out] = runOnHost(backend, [dy, images], [{ shape: [...images.shape], zeroed: true }], ([g, x], [dx]) => {
    if (!smoothable(images.shape)) {
      dx!.set(g!);
      return;
    }
    const gv = g!;
    const xv = x!;
    const dv = dx!;
    copyBorder(gv, dv, images.shape);
    for (let s = 0; s < n; s++) {
      for (let r = 1; r < h - 1; r++) {
        for (let i = ((s * h + r) * w + 1) * c, end = i + (w - 2) * c; i < end; i++) {
          const v = smoothAt(xv, i, row, c);
          // clipByValue passes the gradient where 0 <= v <= 255; the rounding passes it straight through.
          if (!(v >= 0 && v <= 255)) continue;
          const tap = gv[i]! / 13;
          const up = i - row;
          const down = i + row;
          dv[up - c] = dv[up - c]! + tap;
          dv[up] = dv[up]! + tap;
          dv[up + c] = dv[up + c]! + tap;
          dv[i - c] = dv[i - c]! + tap;
          dv[i] = dv[i]! + 5 * tap;
          dv[i + c] = dv[i + c]! + tap;
          dv[down - c] = dv[down - c]! + tap;
          dv[down] = dv[down]! + tap;
          dv[down + c] = dv[down + c]! + tap;
        }
      }
    }
  });
  return out!;
};

/**
 * `DraGrayscale`: [N,H,W,3] -> [N,H,W,1], the LUMA-weighted sum accumulated in float32
 * from zero (the wasm Sum's order), rounded half up when `round`. The gradient is
 * dy times the weights (the rounding passed straight through).
 */
const grayscaleKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images } = inputs as { images: tf.TensorInfo };
  const { round } = attrs as unknown as GrayscaleAttrs;
  const [n, h, w, c] = images.shape as [number, number, number, number];
  if (images.shape.length !== 4 || c !== 3) throw new Error(`${GRAYSCALE}: images must be [N,H,W,3], got [${images.shape.join(', ')}]`);
  const [wr, wg, wb] = LUMA.map(f32) as [number, number, number];
  const [out] = runOnHost(backend, [images], [{ shape: [n, h, w, 1] }], ([x], [y]) => {
    const xv = x!;
    const yv = y!;
    const end = n * h * w;
    if (!round) {
      for (let p = 0, i = 0; p < end; p++, i += 3) yv[p] = f32(f32(xv[i]! * wr) + f32(xv[i + 1]! * wg)) + f32(xv[i + 2]! * wb);
      return;
    }
    for (let p = 0, i = 0; p < end; p++, i += 3) {
      const v = f32(f32(f32(xv[i]! * wr) + f32(xv[i + 1]! * wg)) + f32(xv[i + 2]! * wb));
      yv[p] = f32(v + f32(Math.floor(f32(v + 0.5)) - v));
    }
  });
  return out!;
};

/** This file's host kernels (registered in ./index.ts). */
export const BLEND_KERNELS: readonly HostKernel[] = [
  { kernelName: BLEND, kernelFunc: blendKernel },
  { kernelName: GRAYSCALE, kernelFunc: grayscaleKernel },
  { kernelName: BLEND_GRAD, kernelFunc: blendGradKernel },
  { kernelName: SMOOTH, kernelFunc: smoothKernel },
  { kernelName: SMOOTH_GRAD, kernelFunc: smoothGradKernel },
];

if (tf.getGradient(BLEND) === undefined) {
  tf.registerGradient({
    kernelName: BLEND,
    inputsToSave: ['degenerate', 'images', 'factor'],
    gradFunc: (dy, saved) => {
      const [degenerate, images, factor] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      // Computed here, outside the per-input scopes the engine opens, so all three survive.
      const [dd, dx, df] = tf.engine().runKernel(BLEND_GRAD, { dy: dy as tf.Tensor, degenerate, images, factor }) as tf.Tensor[];
      return { degenerate: () => dd!, images: () => dx!, factor: () => df! };
    },
  });
}

if (tf.getGradient(GRAYSCALE) === undefined) {
  tf.registerGradient({
    kernelName: GRAYSCALE,
    gradFunc: (dy) => ({ images: () => tf.mul(dy as tf.Tensor, tf.tensor4d([...LUMA], [1, 1, 1, 3])) }),
  });
}

if (tf.getGradient(SMOOTH) === undefined) {
  tf.registerGradient({
    kernelName: SMOOTH,
    inputsToSave: ['images'],
    gradFunc: (dy, saved) => {
      const [images] = saved as [tf.Tensor];
      return { images: () => tf.engine().runKernel(SMOOTH_GRAD, { dy: dy as tf.Tensor, images }) as tf.Tensor };
    },
  });
}
