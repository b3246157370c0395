/**
 * Affine operators (ShearX/Y, TranslateX/Y, Rotate) with PIL's `Image.transform`
 * semantics: output pixel (x, y) samples the input at
 * `(a(x+.5) + b(y+.5) + c, d(x+.5) + e(y+.5) + f)`. A sample point outside
 * [0, W) x [0, H) takes the fill value; inside, bilinear sampling clamps its neighbours to
 * the edge and nearest takes floor(coordinate), as Pillow does.
 *
 * tf.image.transform has no gradient, so the warp is a host kernel pair on cpu and wasm
 * and elsewhere a gather (with a scatter gradient, see gatherRows) and elementwise ops;
 * either way the bilinear warp is differentiable
 * w.r.t. the image (the adjoint of the sampling) and w.r.t. the matrix entries, hence
 * w.r.t. the magnitude. Nearest has the image gradient only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostKernelOr } from '../engine/host-kernels';
import { AFFINE_WARP, type AffineWarpAttrs } from './kernels';
import { gatherRows } from './primitives';

export type Interpolation = 'nearest' | 'bilinear';

/** Per-sample affine matrices as six [N] tensors (Pillow's data tuple order). */
export interface AffineRows {
  a: tf.Tensor1D;
  b: tf.Tensor1D;
  c: tf.Tensor1D;
  d: tf.Tensor1D;
  e: tf.Tensor1D;
  f: tf.Tensor1D;
}

/**
 * Warps images [N,H,W,C] with one affine matrix per sample: one host kernel on cpu and
 * wasm (kernels/warp.ts), the composite of tf ops elsewhere. Both give the same values
 * and gradients.
 */
export function affineWarp(images: tf.Tensor4D, m: AffineRows, interpolation: Interpolation, fill: number): tf.Tensor4D {
  const attrs: AffineWarpAttrs = { interpolation, fill };
  return tf.tidy(() => hostKernelOr(AFFINE_WARP, { inputs: () => ({ images, matrix: tf.stack([m.a, m.b, m.c, m.d, m.e, m.f], 1) }), attrs }, () => affineWarpComposite(images, m, interpolation, fill)));
}

/**
 * The warp from gathers and elementwise ops, for backends without the host kernel.
 * Inside-image masks are made from floor/step (whose gradients are zero) rather than
 * comparisons, which have no gradient in tfjs and would break the backward pass.
 */
export function affineWarpComposite(images: tf.Tensor4D, m: AffineRows, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = images.shape;
    const col = (t: tf.Tensor1D) => tf.reshape(t, [n, 1, 1]);
    const xs = tf.reshape(tf.add(tf.range(0, w, 1, 'float32'), 0.5), [1, 1, w]);
    const ys = tf.reshape(tf.add(tf.range(0, h, 1, 'float32'), 0.5), [1, h, 1]);
    const sx = tf.add(tf.add(tf.mul(col(m.a), xs), tf.mul(col(m.b), ys)), col(m.c)); // [n,h,w]
    const sy = tf.add(tf.add(tf.mul(col(m.d), xs), tf.mul(col(m.e), ys)), col(m.f));
    const inside = tf.mul(insideMask(sx, w), insideMask(sy, h));
    const base = tf.reshape(tf.mul(tf.range(0, n, 1, 'float32'), h * w), [n, 1, 1]);
    const flat = tf.reshape(images, [n * h * w, c]);
    const sample = (yi: tf.Tensor, xi: tf.Tensor) => {
      const index = tf.add(base, tf.add(tf.mul(tf.clipByValue(yi, 0, h - 1), w), tf.clipByValue(xi, 0, w - 1)));
      return tf.reshape(gatherRows(flat, tf.reshape(index, [-1]) as tf.Tensor1D), [n, h, w, c]);
    };
    let value: tf.Tensor;
    if (interpolation === 'nearest') {
      value = sample(tf.floor(sy), tf.floor(sx));
    } else {
      // Bilinear samples around the point shifted by half a pixel (pixel centres).
      const bx = tf.sub(sx, 0.5);
      const by = tf.sub(sy, 0.5);
      const x0 = tf.floor(bx);
      const y0 = tf.floor(by);
      const fx = tf.expandDims(tf.sub(bx, x0), 3);
      const fy = tf.expandDims(tf.sub(by, y0), 3);
      const x1 = tf.add(x0, 1);
      const y1 = tf.add(y0, 1);
      const v00 = sample(y0, x0);
      const v01 = sample(y0, x1);
      const v10 = sample(y1, x0);
      const v11 = sample(y1, x1);
      const top = tf.add(v00, tf.mul(fx, tf.sub(v01, v00)));
      const bottom = tf.add(v10, tf.mul(fx, tf.sub(v11, v10)));
      value = tf.add(top, tf.mul(fy, tf.sub(bottom, top)));
    }
    const mask = tf.expandDims(inside, 3);
    return tf.add(tf.mul(mask, value), tf.mul(tf.sub(1, mask), fill)) as tf.Tensor4D;
  });
}

/** 1 where 0 <= coordinate < size, else 0; zero gradient everywhere. */
function insideMask(coordinate: tf.Tensor, size: number): tf.Tensor {
  const cell = tf.floor(coordinate);
  return tf.mul(tf.step(tf.add(cell, 0.5)), tf.step(tf.sub(size - 0.5, cell)));
}

function constantLike(t: tf.Tensor1D, value: number): tf.Tensor1D {
  return tf.fill(t.shape, value) as tf.Tensor1D;
}

/** The identity matrix but for one per-sample coefficient. */
function oneCoefficientRows(value: tf.Tensor1D, slot: 'b' | 'c' | 'd' | 'f'): AffineRows {
  const one = constantLike(value, 1);
  const zero = constantLike(value, 0);
  return { a: one, b: zero, c: zero, d: zero, e: one, f: zero, [slot]: value };
}

/** The affine operators by name. */
export type AffineOpName = 'ShearX' | 'ShearY' | 'TranslateX' | 'TranslateY' | 'Rotate';

export function isAffineOp(name: string): name is AffineOpName {
  return name === 'ShearX' || name === 'ShearY' || name === 'TranslateX' || name === 'TranslateY' || name === 'Rotate';
}

/**
 * The per-sample matrices an affine operator warps with, from its argument [N] (shear
 * factor, pixels or degrees) and the image size. The operators below and the 8-bit
 * layer pass (layers.ts) both build their matrices here, so they agree bit for bit.
 */
export function affineRowsFor(name: AffineOpName, argument: tf.Tensor1D, height: number, width: number): AffineRows {
  switch (name) {
    case 'ShearX':
      return oneCoefficientRows(argument, 'b'); // (1, v, 0, 0, 1, 0)
    case 'ShearY':
      return oneCoefficientRows(argument, 'd'); // (1, 0, 0, v, 1, 0)
    case 'TranslateX':
      return oneCoefficientRows(argument, 'c'); // (1, 0, px, 0, 1, 0): content moves left for px > 0, as in PIL
    case 'TranslateY':
      return oneCoefficientRows(argument, 'f'); // (1, 0, 0, 0, 1, px)
    case 'Rotate':
      return rotationRows(argument, height, width);
  }
}

/** Counter-clockwise rotation by `degrees` about the image centre (W/2, H/2), the matrix Pillow's `Image.rotate` builds. */
function rotationRows(degrees: tf.Tensor1D, height: number, width: number): AffineRows {
  const cx = width / 2;
  const cy = height / 2;
  const theta = tf.mul(degrees, Math.PI / 180) as tf.Tensor1D;
  const cos = tf.cos(theta) as tf.Tensor1D;
  const sin = tf.sin(theta) as tf.Tensor1D;
  const a = cos;
  const b = tf.neg(sin) as tf.Tensor1D;
  const d = sin;
  const e = cos;
  // c = a(-cx) + b(-cy) + cx, f = d(-cx) + e(-cy) + cy
  const c = tf.add(tf.add(tf.mul(a, -cx), tf.mul(b, -cy)), cx) as tf.Tensor1D;
  const f = tf.add(tf.add(tf.mul(d, -cx), tf.mul(e, -cy)), cy) as tf.Tensor1D;
  return { a, b, c, d, e, f };
}

function affineOp(name: AffineOpName, images: tf.Tensor4D, argument: tf.Tensor1D, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return tf.tidy(() => affineWarp(images, affineRowsFor(name, argument, images.shape[1], images.shape[2]), interpolation, fill));
}

/** ShearX by factor v per sample: matrix (1, v, 0, 0, 1, 0). */
export function shearX(images: tf.Tensor4D, factor: tf.Tensor1D, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return affineOp('ShearX', images, factor, interpolation, fill);
}

/** ShearY by factor v per sample: matrix (1, 0, 0, v, 1, 0). */
export function shearY(images: tf.Tensor4D, factor: tf.Tensor1D, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return affineOp('ShearY', images, factor, interpolation, fill);
}

/** TranslateX by `pixels` per sample: matrix (1, 0, px, 0, 1, 0) (content moves left for px > 0, as in PIL). */
export function translateX(images: tf.Tensor4D, pixels: tf.Tensor1D, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return affineOp('TranslateX', images, pixels, interpolation, fill);
}

/** TranslateY by `pixels` per sample: matrix (1, 0, 0, 0, 1, px). */
export function translateY(images: tf.Tensor4D, pixels: tf.Tensor1D, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return affineOp('TranslateY', images, pixels, interpolation, fill);
}

/**
 * Rotate counter-clockwise by `degrees` per sample about the image centre (W/2, H/2),
 * the matrix Pillow's `Image.rotate` builds.
 */
export function rotate(images: tf.Tensor4D, degrees: tf.Tensor1D, interpolation: Interpolation, fill: number): tf.Tensor4D {
  return affineOp('Rotate', images, degrees, interpolation, fill);
}
