/**
 * The affine warp as a host kernel pair: `DraAffineWarp` (images [N,H,W,C], matrix [N,6]
 * in Pillow's (a, b, c, d, e, f) order) and its gradient `DraAffineWarpGrad` (the image
 * adjoint, a bilinear or nearest splat, and the gradient w.r.t. the six coefficients).
 *
 * Both follow the composite warp in geometric.ts step by step, in float32 (Math.fround
 * after every operation), so the two agree bit for bit in the forward pass and up to the
 * order of float additions in the backward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostArray } from '../../engine/host-kernels';
import { runOnHost, type HostKernel } from '../../engine/host-kernels';
import { simdKernels } from './simd';

export const AFFINE_WARP = 'DraAffineWarp';
export const AFFINE_WARP_GRAD = 'DraAffineWarpGrad';

export interface AffineWarpAttrs {
  interpolation: 'nearest' | 'bilinear';
  fill: number;
}

const f32 = Math.fround;

function warpForward(x: HostArray, m: HostArray, out: HostArray, shape: readonly number[], bilinear: boolean, fill: number): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  const fillValue = f32(fill);
  for (let s = 0; s < n; s++) {
    const a = m[s * 6]!, b = m[s * 6 + 1]!, cc = m[s * 6 + 2]!, d = m[s * 6 + 3]!, e = m[s * 6 + 4]!, f = m[s * 6 + 5]!;
    const base = s * h * w;
    for (let y = 0; y < h; y++) {
      const yc = y + 0.5;
      const by = f32(b * yc);
      const ey = f32(e * yc);
      for (let xi = 0; xi < w; xi++) {
        const xc = xi + 0.5;
        const sx = f32(f32(f32(a * xc) + by) + cc);
        const sy = f32(f32(f32(d * xc) + ey) + f);
        let o = ((base + y * w + xi) * c) | 0;
        if (!(sx >= 0 && sx < w && sy >= 0 && sy < h)) {
          for (let k = 0; k < c; k++) out[o++] = fillValue;
          continue;
        }
        if (!bilinear) {
          // Inside the image sx, sy >= 0, where truncation is floor (and cheaper).
          const src = (base + (sy | 0) * w + (sx | 0)) * c;
          for (let k = 0; k < c; k++) out[o++] = x[src + k]!;
          continue;
        }
        const bx = f32(sx - 0.5);
        const byy = f32(sy - 0.5);
        // bx, byy >= -0.5 here, so floor(v) = trunc(v + 1) - 1.
        const x0 = ((bx + 1) | 0) - 1;
        const y0 = ((byy + 1) | 0) - 1;
        const fx = f32(bx - x0);
        const fy = f32(byy - y0);
        const cx0 = x0 < 0 ? 0 : x0 > w - 1 ? w - 1 : x0;
        const cx1 = x0 + 1 < 0 ? 0 : x0 + 1 > w - 1 ? w - 1 : x0 + 1;
        const cy0 = y0 < 0 ? 0 : y0 > h - 1 ? h - 1 : y0;
        const cy1 = y0 + 1 < 0 ? 0 : y0 + 1 > h - 1 ? h - 1 : y0 + 1;
        const i00 = (base + cy0 * w + cx0) * c;
        const i01 = (base + cy0 * w + cx1) * c;
        const i10 = (base + cy1 * w + cx0) * c;
        const i11 = (base + cy1 * w + cx1) * c;
        for (let k = 0; k < c; k++) {
          const v00 = x[i00 + k]!, v01 = x[i01 + k]!, v10 = x[i10 + k]!, v11 = x[i11 + k]!;
          const top = f32(v00 + f32(fx * f32(v01 - v00)));
          const bottom = f32(v10 + f32(fx * f32(v11 - v10)));
          out[o++] = f32(top + f32(fy * f32(bottom - top)));
        }
      }
    }
  }
}

/**
 * dImages (zero-filled on entry) gets the splat of dy; dMatrix [N,6] the coefficients'
 * gradient (zero for nearest sampling, whose output is piecewise constant in them).
 */
function warpBackward(dy: HostArray, x: HostArray, m: HostArray, dx: HostArray, dm: HostArray, shape: readonly number[], bilinear: boolean): void {
  const [n, h, w, c] = shape as [number, number, number, number];
  for (let s = 0; s < n; s++) {
    const a = m[s * 6]!, b = m[s * 6 + 1]!, cc = m[s * 6 + 2]!, d = m[s * 6 + 3]!, e = m[s * 6 + 4]!, f = m[s * 6 + 5]!;
    const base = s * h * w;
    let ga = 0, gb = 0, gc = 0, gd = 0, ge = 0, gf = 0;
    for (let y = 0; y < h; y++) {
      const yc = y + 0.5;
      const by = f32(b * yc);
      const ey = f32(e * yc);
      for (let xi = 0; xi < w; xi++) {
        const xc = xi + 0.5;
        const sx = f32(f32(f32(a * xc) + by) + cc);
        const sy = f32(f32(f32(d * xc) + ey) + f);
        if (!(sx >= 0 && sx < w && sy >= 0 && sy < h)) continue;
        const o = (base + y * w + xi) * c;
        if (!bilinear) {
          // Inside the image sx, sy >= 0, where truncation is floor (and cheaper).
          const src = (base + (sy | 0) * w + (sx | 0)) * c;
          for (let k = 0; k < c; k++) dx[src + k] = dx[src + k]! + dy[o + k]!;
          continue;
        }
        const bx = f32(sx - 0.5);
        const byy = f32(sy - 0.5);
        // bx, byy >= -0.5 here, so floor(v) = trunc(v + 1) - 1.
        const x0 = ((bx + 1) | 0) - 1;
        const y0 = ((byy + 1) | 0) - 1;
        const fx = bx - x0;
        const fy = byy - y0;
        const cx0 = x0 < 0 ? 0 : x0 > w - 1 ? w - 1 : x0;
        const cx1 = x0 + 1 < 0 ? 0 : x0 + 1 > w - 1 ? w - 1 : x0 + 1;
        const cy0 = y0 < 0 ? 0 : y0 > h - 1 ? h - 1 : y0;
        const cy1 = y0 + 1 < 0 ? 0 : y0 + 1 > h - 1 ? h - 1 : y0 + 1;
        const i00 = (base + cy0 * w + cx0) * c;
        const i01 = (base + cy0 * w + cx1) * c;
        const i10 = (base + cy1 * w + cx0) * c;
        const i11 = (base + cy1 * w + cx1) * c;
        let gfx = 0;
        let gfy = 0;
        for (let k = 0; k < c; k++) {
          const g = dy[o + k]!;
          const v00 = x[i00 + k]!, v01 = x[i01 + k]!, v10 = x[i10 + k]!, v11 = x[i11 + k]!;
          const top = v00 + fx * (v01 - v00);
          const bottom = v10 + fx * (v11 - v10);
          const gTop = g * (1 - fy);
          const gBottom = g * fy;
          dx[i00 + k] = dx[i00 + k]! + gTop * (1 - fx);
          dx[i01 + k] = dx[i01 + k]! + gTop * fx;
          dx[i10 + k] = dx[i10 + k]! + gBottom * (1 - fx);
          dx[i11 + k] = dx[i11 + k]! + gBottom * fx;
          gfx += gTop * (v01 - v00) + gBottom * (v11 - v10);
          gfy += g * (bottom - top);
        }
        ga += gfx * xc;
        gb += gfx * yc;
        gc += gfx;
        gd += gfy * xc;
        ge += gfy * yc;
        gf += gfy;
      }
    }
    dm[s * 6] = ga;
    dm[s * 6 + 1] = gb;
    dm[s * 6 + 2] = gc;
    dm[s * 6 + 3] = gd;
    dm[s * 6 + 4] = ge;
    dm[s * 6 + 5] = gf;
  }
}

function checkMatrix(images: tf.TensorInfo, matrix: tf.TensorInfo): void {
  const n = images.shape[0];
  if (images.shape.length !== 4 || matrix.shape.length !== 2 || matrix.shape[0] !== n || matrix.shape[1] !== 6) {
    throw new Error(`${AFFINE_WARP}: expected images [N,H,W,C] and matrix [N,6], got [${images.shape.join(', ')}] and [${matrix.shape.join(', ')}]`);
  }
}

const forwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images, matrix } = inputs as { images: tf.TensorInfo; matrix: tf.TensorInfo };
  checkMatrix(images, matrix);
  const { interpolation, fill } = attrs as unknown as AffineWarpAttrs;
  const simd = images.dtype === 'float32' && matrix.dtype === 'float32' ? simdKernels(backend) : undefined;
  const [out] = runOnHost(backend, [images, matrix], [{ shape: [...images.shape] }], ([x, m], [y]) => {
    if (simd) simd.affineWarp(x as Float32Array, m as Float32Array, y as Float32Array, images.shape, interpolation === 'bilinear', fill);
    else warpForward(x!, m!, y!, images.shape, interpolation === 'bilinear', fill);
  });
  return out!;
};

const backwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, images, matrix } = inputs as { dy: tf.TensorInfo; images: tf.TensorInfo; matrix: tf.TensorInfo };
  checkMatrix(images, matrix);
  const { interpolation } = attrs as unknown as AffineWarpAttrs;
  return runOnHost(backend, [dy, images, matrix], [{ shape: [...images.shape], zeroed: true }, { shape: [...matrix.shape] }], ([g, x, m], [dx, dm]) =>
    warpBackward(g!, x!, m!, dx!, dm!, images.shape, interpolation === 'bilinear'),
  );
};

/** This file's host kernels (registered in ./index.ts). */
export const WARP_KERNELS: readonly HostKernel[] = [
  { kernelName: AFFINE_WARP, kernelFunc: forwardKernel },
  { kernelName: AFFINE_WARP_GRAD, kernelFunc: backwardKernel },
];

if (tf.getGradient(AFFINE_WARP) === undefined) {
  tf.registerGradient({
    kernelName: AFFINE_WARP,
    inputsToSave: ['images', 'matrix'],
    gradFunc: (dy, saved, attrs) => {
      const [images, matrix] = saved as [tf.Tensor, tf.Tensor];
      // One backward kernel yields both gradients; it runs here, outside the per-input
      // scopes the engine opens, so neither result is disposed before it is used.
      const [dImages, dMatrix] = tf.engine().runKernel(AFFINE_WARP_GRAD, { dy: dy as tf.Tensor, images, matrix }, attrs) as tf.Tensor[];
      return { images: () => dImages!, matrix: () => dMatrix! };
    },
  });
}
