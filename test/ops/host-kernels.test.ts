/**
 * The host kernels (src/ops/kernels) against the composite tf-op implementations that
 * other backends run: same values and same gradients on random inputs, on the test
 * backend (cpu by default, DRALAB_BACKEND=wasm for wasm), and no tensor left behind.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { blend, blendComposite, grayscale, grayscaleComposite, smooth, smoothComposite } from '../../src/ops/color';
import { affineWarp, affineWarpComposite, type AffineRows } from '../../src/ops/geometric';
import { BLEND, GRAYSCALE, SMOOTH } from '../../src/ops/kernels/blend';
import { autoContrast, autoContrastComposite, equalize, equalizeComposite } from '../../src/ops/histogram';
import { AUTO_CONTRAST, EQUALIZE } from '../../src/ops/kernels/histogram';
import { WASM_ELEMENTWISE_MIN_ELEMENTS, hasHostKernel, preferHostKernel, runKernel } from '../../src/engine/host-kernels';
import { CONCAT_ROWS, GATHER_BLOCKS, GATHER_ROWS, SCATTER_BLOCKS, SPLIT_ROWS } from '../../src/ops/kernels/rows';
import { concatRows, gatherBlocks, gatherRows, gatherRowsComposite, scatterBlocks, splitRows } from '../../src/ops/primitives';
import { AFFINE_WARP } from '../../src/ops/kernels/warp';
import { cutout, cutoutComposite } from '../../src/ops/cutout';
import { CUTOUT, POSTERIZE, SOLARIZE, SOLARIZE_ADD } from '../../src/ops/kernels/pointwise';
import { posterize, posterizeComposite, solarize, solarizeAdd, solarizeAddComposite, solarizeComposite } from '../../src/ops/pointwise';
import { Rng } from '../../src/util/rng';
import { useTestBackend } from './helpers';

/** Largest |a - b| relative to the largest |b| (or 1 for near-zero references). */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync();
  const bv = b.dataSync();
  assert.equal(av.length, bv.length);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < av.length; i++) {
    err = Math.max(err, Math.abs(av[i]! - bv[i]!));
    scale = Math.max(scale, Math.abs(bv[i]!));
  }
  return err / scale;
}

function randomImages(rng: Rng, shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tensor4d(rng.uniform(shape.reduce((a, b) => a * b, 1), 0, 255), shape);
}

/** Per-sample matrices mixing rotation, shear, scale and translation, some far enough to leave the image. */
function randomMatrices(rng: Rng, n: number, h: number, w: number): number[][] {
  return Array.from({ length: n }, () => {
    const theta = (rng.next() - 0.5) * 1.2;
    const shear = (rng.next() - 0.5) * 0.6;
    const scale = 0.8 + 0.4 * rng.next();
    const a = scale * Math.cos(theta);
    const b = -Math.sin(theta) + shear;
    const d = Math.sin(theta);
    const e = scale * Math.cos(theta);
    return [a, b, (rng.next() - 0.5) * w * 0.6, d, e, (rng.next() - 0.5) * h * 0.6];
  });
}

function rows(matrices: number[][]): AffineRows {
  const column = (j: number) => tf.tensor1d(matrices.map((m) => m[j]!));
  return { a: column(0), b: column(1), c: column(2), d: column(3), e: column(4), f: column(5) };
}

/**
 * Values and gradients (w.r.t. the image and the six coefficient rows) of `warp` under
 * the loss sum(warp(x) * weights).
 */
function warpWithGradients(warp: typeof affineWarp, x: tf.Tensor4D, matrices: number[][], weights: tf.Tensor4D, interpolation: 'nearest' | 'bilinear', fill: number): tf.Tensor[] {
  return tf.tidy(() => {
    const r = rows(matrices);
    const f = (image: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor, f6: tf.Tensor) =>
      tf.sum(tf.mul(warp(image as tf.Tensor4D, { a, b, c, d, e, f: f6 } as AffineRows, interpolation, fill), weights));
    const grads = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([x, r.a, r.b, r.c, r.d, r.e, r.f]);
    return [warp(x, r, interpolation, fill), ...grads];
  });
}

/**
 * [f(...inputs), ...d/d inputs of sum(f(...inputs) * weights)] for a kernel path and its
 * composite, asserting the kernel path leaves no tensor behind, then comparing each.
 */
function compareWithComposite(
  what: string,
  fast: (...inputs: tf.Tensor[]) => tf.Tensor,
  slow: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  weights: tf.Tensor,
  tolerance = { value: 1e-6, gradient: 1e-4 },
): void {
  const run = (f: (...inputs: tf.Tensor[]) => tf.Tensor) =>
    tf.tidy(() => [f(...inputs), ...tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs)]);
  const before = tf.memory().numTensors;
  const ours = run(fast);
  assert.equal(tf.memory().numTensors, before + ours.length, `${what}: the kernel path leaves no tensor behind`);
  const theirs = run(slow);
  ours.forEach((t, i) => {
    const name = i === 0 ? 'value' : `gradient ${i - 1}`;
    assert.deepEqual(t.shape, theirs[i]!.shape, `${what} ${name} shape`);
    const err = relativeError(t, theirs[i]!);
    assert.ok(err <= (i === 0 ? tolerance.value : tolerance.gradient), `${what} ${name}: relative error ${err}`);
  });
  tf.dispose([...ours, ...theirs]);
}

describe('host kernels match the composite ops', () => {
  let backend = '';
  before(async () => {
    backend = await useTestBackend();
  });

  it('the host kernels are active on cpu and wasm', () => {
    if (backend !== 'cpu' && backend !== 'wasm') return;
    for (const kernel of [AFFINE_WARP, BLEND, SMOOTH, GATHER_ROWS, SPLIT_ROWS, CONCAT_ROWS, GATHER_BLOCKS, SCATTER_BLOCKS, EQUALIZE, AUTO_CONTRAST, CUTOUT, SOLARIZE, SOLARIZE_ADD, POSTERIZE, GRAYSCALE]) assert.ok(hasHostKernel(kernel), `${kernel} is not registered on ${backend}`);
  });

  for (const interpolation of ['bilinear', 'nearest'] as const) {
    it(`affine warp (${interpolation}): values and gradients w.r.t. image and coefficients`, () => {
      const rng = new Rng(interpolation === 'bilinear' ? 11 : 12);
      for (const [n, h, w, c] of [
        [3, 9, 13, 3],
        [2, 16, 11, 1],
      ] as const) {
        const x = randomImages(rng, [n, h, w, c]);
        const weights = tf.tensor4d(rng.uniform(n * h * w * c, -1, 1), [n, h, w, c]);
        const matrices = randomMatrices(rng, n, h, w);
        const before = tf.memory().numTensors;
        const fast = warpWithGradients(affineWarp, x, matrices, weights, interpolation, 128);
        assert.equal(tf.memory().numTensors, before + fast.length, 'the kernel path leaves no tensor behind');
        const slow = warpWithGradients(affineWarpComposite, x, matrices, weights, interpolation, 128);
        const names = ['value', 'd image', 'd a', 'd b', 'd c', 'd d', 'd e', 'd f'];
        fast.forEach((t, i) => {
          assert.deepEqual(t.shape, slow[i]!.shape, names[i]);
          const err = relativeError(t, slow[i]!);
          assert.ok(err < (i === 0 ? 1e-6 : 1e-4), `${names[i]} [${n},${h},${w},${c}]: relative error ${err}`);
        });
        if (interpolation === 'nearest') for (const g of fast.slice(2)) assert.equal(tf.max(tf.abs(g)).dataSync()[0], 0, 'nearest has no coefficient gradient');
        else assert.ok(tf.max(tf.abs(fast[2]!)).dataSync()[0]! > 0, 'bilinear has a coefficient gradient');
        tf.dispose([x, weights, ...fast, ...slow]);
      }
    });
  }

  it('blend: values and gradients w.r.t. degenerate, image and factor, for every broadcast of the degenerate', () => {
    const rng = new Rng(21);
    const [n, h, w, c] = [3, 7, 6, 3];
    for (const degenerateShape of [
      [n, h, w, c],
      [n, h, w, 1],
      [n, 1, 1, 1],
      [n, 1, 1, c],
    ] as Array<[number, number, number, number]>) {
      const size = degenerateShape.reduce((a, b) => a * b, 1);
      const degenerate = tf.tensor4d(rng.uniform(size, 0, 255), degenerateShape);
      const x = randomImages(rng, [n, h, w, c]);
      // Factors up to 1.9 push part of the output past 0 and 255, where the clip stops the gradient.
      const factor = tf.tensor1d(rng.uniform(n, 0.1, 1.9));
      const weights = tf.tensor4d(rng.uniform(n * h * w * c, -1, 1), [n, h, w, c]);
      compareWithComposite(
        `blend with degenerate [${degenerateShape.join(',')}]`,
        (d, im, f) => blend(d as tf.Tensor4D, im as tf.Tensor4D, f as tf.Tensor1D),
        (d, im, f) => blendComposite(d as tf.Tensor4D, im as tf.Tensor4D, f as tf.Tensor1D),
        [degenerate, x, factor],
        weights,
      );
      tf.dispose([degenerate, x, factor, weights]);
    }
  });

  for (const round of [true, false]) {
    it(`smoothing filter (${round ? 'rounded like Pillow' : 'continuous'}): values and image gradient, including images too small to filter`, () => {
      const rng = new Rng(round ? 31 : 32);
      for (const shape of [
        [2, 8, 9, 3],
        [1, 3, 3, 1],
        [2, 2, 5, 3],
      ] as Array<[number, number, number, number]>) {
        const x = randomImages(rng, shape);
        // 8-bit levels take the filter's table path, continuous values the formula.
        const levels = tf.floor(x) as tf.Tensor4D;
        const weights = tf.tensor4d(rng.uniform(x.size, -1, 1), shape);
        compareWithComposite(`smooth [${shape.join(',')}]`, (im) => smooth(im as tf.Tensor4D, round), (im) => smoothComposite(im as tf.Tensor4D, round), [x], weights);
        compareWithComposite(`smooth 8-bit [${shape.join(',')}]`, (im) => smooth(im as tf.Tensor4D, round), (im) => smoothComposite(im as tf.Tensor4D, round), [levels], weights, { value: 0, gradient: 1e-4 });
        tf.dispose([x, levels, weights]);
      }
    });
  }

  it('row gather: values and the scatter-add gradient, with repeated and missing rows; indices outside the rows are refused', () => {
    const rng = new Rng(41);
    const params = tf.tensor3d(rng.uniform(5 * 4 * 3, -10, 10), [5, 4, 3]);
    const indices = tf.tensor1d([3, 0, 3, 4, 3], 'int32');
    const weights = tf.tensor3d(rng.uniform(5 * 4 * 3, -1, 1), [5, 4, 3]);
    compareWithComposite(
      'gatherRows',
      (p) => gatherRows(p, indices),
      (p) => gatherRowsComposite(p, indices),
      [params],
      weights,
      { value: 0, gradient: 1e-6 },
    );
    if (hasHostKernel(GATHER_ROWS)) {
      const outside = tf.tensor1d([1, 5], 'int32');
      assert.throws(() => gatherRows(params, outside), /index 5 at position 1 is outside \[0, 4\]/);
      outside.dispose();
    }
    tf.dispose([params, indices, weights]);
  });

  /**
   * Images for the histogram ops: random levels, a few pixels at half-levels (rounding
   * ties), one flat channel, one channel with a narrow range, and repeated extremes.
   */
  function histogramImages(rng: Rng, shape: [number, number, number, number]): tf.Tensor4D {
    const [n, h, w, c] = shape;
    const values = Float32Array.from(rng.uniform(n * h * w * c, 0, 256), Math.floor);
    for (let i = 0; i < values.length; i += 7) values[i] = values[i]! + 0.5;
    for (let p = 0; p < h * w; p++) {
      values[p * c] = 77; // image 0, channel 0: flat
      values[(h * w + p) * c + c - 1] = 100 + (p % 3); // image 1, last channel: levels 100..102
    }
    return tf.tensor4d(values, shape);
  }

  it('equalize: values (histogram lookup) and the straight-through gradient', () => {
    const rng = new Rng(51);
    for (const shape of [
      // 576 and 1200 pixels per channel: Pillow's step is 2 and 4 on the random channels.
      [3, 24, 24, 3],
      [3, 40, 30, 1],
    ] as Array<[number, number, number, number]>) {
      const x = histogramImages(rng, shape);
      const weights = tf.tensor4d(rng.uniform(x.size, -1, 1), shape);
      compareWithComposite(`equalize [${shape.join(',')}]`, (im) => equalize(im as tf.Tensor4D), (im) => equalizeComposite(im as tf.Tensor4D), [x], weights, { value: 0, gradient: 0 });
      tf.dispose([x, weights]);
    }
  });

  it('autocontrast: values and gradients through the stretch and through each channel minimum and maximum', () => {
    const rng = new Rng(52);
    for (const shape of [
      [3, 9, 8, 3],
      [2, 6, 7, 1],
    ] as Array<[number, number, number, number]>) {
      const x = histogramImages(rng, shape);
      const weights = tf.tensor4d(rng.uniform(x.size, -1, 1), shape);
      compareWithComposite(`autocontrast [${shape.join(',')}]`, (im) => autoContrast(im as tf.Tensor4D), (im) => autoContrastComposite(im as tf.Tensor4D), [x], weights);
      tf.dispose([x, weights]);
    }
  });

  it('row split: the blocks of tf.split along the rows, and the concatenated gradient (zero for an unused block)', () => {
    const rng = new Rng(61);
    const x = tf.tensor4d(rng.uniform(6 * 2 * 3 * 2, -5, 5), [6, 2, 3, 2]);
    const weights = tf.tensor4d(rng.uniform(4 * 2 * 3 * 2, -1, 1), [4, 2, 3, 2]);
    // Blocks of 3, 2 and 1 rows; the middle one is left out of the result.
    const useFirstAndLast = (blocks: tf.Tensor[]) => tf.concat([tf.mul(blocks[0]!, 2), blocks[2]!], 0);
    compareWithComposite(
      'splitRows',
      (v) => useFirstAndLast(splitRows(v, [3, 2, 1])),
      (v) => useFirstAndLast(tf.split(v, [3, 2, 1], 0)),
      [x],
      weights,
      { value: 0, gradient: 0 },
    );
    if (hasHostKernel(SPLIT_ROWS)) assert.throws(() => splitRows(x, [3, 2]), /block sizes \[3, 2\] must be non-negative integers adding up to the 6 rows/);
    tf.dispose([x, weights]);
  });

  it('row concat: tf.concat along the rows, with the split gradient to every block', () => {
    const rng = new Rng(62);
    const blocks = [3, 1, 2].map((k) => tf.tensor3d(rng.uniform(k * 4 * 2, -5, 5), [k, 4, 2]));
    const weights = tf.tensor3d(rng.uniform(6 * 4 * 2, -1, 1), [6, 4, 2]);
    compareWithComposite('concatRows', (a, b, c) => concatRows([a!, tf.mul(b!, 3), c!]), (a, b, c) => tf.concat([a!, tf.mul(b!, 3), c!], 0), blocks, weights, { value: 0, gradient: 0 });
    tf.dispose([...blocks, weights]);
  });

  it('block gather and scatter: a permutation cut into blocks and put back, each the gradient of the other; non-permutations are refused', () => {
    const rng = new Rng(63);
    const x = tf.tensor3d(rng.uniform(6 * 3 * 2, -5, 5), [6, 3, 2]);
    const weights = tf.tensor3d(rng.uniform(6 * 3 * 2, -1, 1), [6, 3, 2]);
    const order = Int32Array.from([4, 1, 5, 0, 3, 2]);
    const inverse = Int32Array.from([3, 1, 5, 4, 0, 2]);
    const sizes = [2, 3, 1];
    // Blocks scaled differently, so a block sent to the wrong rows changes value and gradient.
    const scaled = (blocks: tf.Tensor[]) => blocks.map((b, i) => tf.mul(b, i + 2));
    compareWithComposite(
      'gatherBlocks',
      (v) => concatRows(scaled(gatherBlocks(v, order, sizes))),
      (v) => tf.concat(scaled(tf.split(gatherRowsComposite(v, tf.tensor1d(order, 'int32')), sizes, 0)), 0),
      [x],
      weights,
      { value: 0, gradient: 0 },
    );
    compareWithComposite(
      'scatterBlocks',
      (v) => scatterBlocks(scaled(splitRows(v, sizes)), order),
      (v) => gatherRowsComposite(tf.concat(scaled(tf.split(v, sizes, 0)), 0), tf.tensor1d(inverse, 'int32')),
      [x],
      weights,
      { value: 0, gradient: 0 },
    );
    if (hasHostKernel(GATHER_BLOCKS)) {
      assert.throws(() => gatherBlocks(x, Int32Array.from([0, 0, 1, 2, 3, 4]), sizes), /order is not a permutation of \[0, 5\]/);
      assert.throws(() => scatterBlocks(splitRows(x, sizes), Int32Array.from([0, 1, 2, 3, 4, 6])), /order is not a permutation of \[0, 5\]/);
      assert.throws(() => gatherBlocks(x, order, [2, 2]), /block sizes \[2, 2\] must be non-negative integers adding up to the 6 rows/);
    }
    tf.dispose([x, weights]);
  });

  /** Random levels and half-levels, values just outside [0, 255], and every level that sits on a threshold below. */
  function pointImages(rng: Rng, shape: [number, number, number, number]): tf.Tensor4D {
    const values = Float32Array.from(rng.uniform(shape.reduce((a, b) => a * b, 1), -4, 260), (v, i) => (i % 3 === 0 ? Math.floor(v) : Math.floor(v * 2) / 2));
    [0, 127, 127.5, 128, 128.5, 200, 255, 256].forEach((v, i) => {
      values[i * 5] = v;
    });
    return tf.tensor4d(values, shape);
  }

  it('solarize, solarize-add and posterize: values and gradients (image and addend), thresholds hit exactly', () => {
    const rng = new Rng(71);
    const shape: [number, number, number, number] = [4, 6, 5, 3];
    const x = pointImages(rng, shape);
    const weights = tf.tensor4d(rng.uniform(x.size, -1, 1), shape);
    const thresholds = tf.tensor1d([128, 200, 0, 256]);
    const addends = tf.tensor1d([0, 40.5, 110, 127]);
    const bits = tf.tensor1d([0, 1.5, 3, 4]);
    compareWithComposite('solarize', (im) => solarize(im as tf.Tensor4D, thresholds), (im) => solarizeComposite(im as tf.Tensor4D, thresholds), [x], weights, { value: 0, gradient: 0 });
    compareWithComposite('solarizeAdd', (im, a) => solarizeAdd(im as tf.Tensor4D, a as tf.Tensor1D), (im, a) => solarizeAddComposite(im as tf.Tensor4D, a as tf.Tensor1D), [x, addends], weights, { value: 0, gradient: 1e-6 });
    compareWithComposite('posterize', (im) => posterize(im as tf.Tensor4D, bits), (im) => posterizeComposite(im as tf.Tensor4D, bits), [x], weights, { value: 0, gradient: 0 });
    tf.dispose([x, weights, thresholds, addends, bits]);
  });

  it('cutout: the filled square (clipped at the edges, empty for side 0) and the gradient outside it', () => {
    const rng = new Rng(72);
    const shape: [number, number, number, number] = [5, 9, 7, 3];
    const x = randomImages(rng, shape);
    const weights = tf.tensor4d(rng.uniform(x.size, -1, 1), shape);
    const sides = tf.tensor1d([3, 0, 5, 9, 2.7]);
    const centres = tf.tensor2d([0.5, 0.5, 0.3, 0.3, 0.01, 0.99, 0.99, 0.0, 0.4, 0.6], [5, 2]);
    for (const fill of [0, 128]) {
      compareWithComposite(`cutout fill ${fill}`, (im) => cutout(im as tf.Tensor4D, sides, centres, fill), (im) => cutoutComposite(im as tf.Tensor4D, sides, centres, fill), [x], weights, { value: 0, gradient: 0 });
    }
    tf.dispose([x, weights, sides, centres]);
  });

  for (const round of [true, false]) {
    it(`grayscale (${round ? 'rounded like Pillow' : 'continuous'}): values on 8-bit and on continuous images, and the gradient`, () => {
      const rng = new Rng(round ? 81 : 82);
      const shape: [number, number, number, number] = [3, 7, 5, 3];
      const levels = tf.tensor4d(Float32Array.from(rng.uniform(3 * 7 * 5 * 3, 0, 256), Math.floor), shape);
      const x = randomImages(rng, shape);
      const weights = tf.tensor4d(rng.uniform(3 * 7 * 5, -1, 1), [3, 7, 5, 1]);
      for (const [what, input] of [['8-bit', levels], ['continuous', x]] as const) {
        compareWithComposite(`grayscale ${what}`, (im) => grayscale(im as tf.Tensor4D, round), (im) => grayscaleComposite(im as tf.Tensor4D, round), [input], weights, { value: what === '8-bit' ? 0 : 1e-6, gradient: 1e-6 });
      }
      tf.dispose([levels, x, weights]);
    });
  }

  it('large inputs of the elementwise ops (composites on wasm) give the host kernels\' values', () => {
    const rng = new Rng(91);
    const shape: [number, number, number, number] = [2, 48, 64, 3];
    assert.ok(shape.reduce((a, b) => a * b, 1) >= WASM_ELEMENTWISE_MIN_ELEMENTS);
    if (!hasHostKernel(SOLARIZE)) return;
    assert.equal(preferHostKernel(SOLARIZE, 2 * 48 * 64 * 3), backend !== 'wasm');
    const x = pointImages(rng, shape);
    const clipped = tf.clipByValue(x, 0, 255) as tf.Tensor4D;
    const threshold = tf.tensor1d([128, 77]);
    const bits = tf.tensor1d([2, 4]);
    const factor = tf.tensor1d([0.3, 1.7]);
    const perImage = tf.tensor4d([12, 140], [2, 1, 1, 1]);
    const sameShape = randomImages(rng, shape);
    const pairs: Array<[string, tf.Tensor, tf.Tensor]> = [
      ['solarize', solarize(x, threshold), runKernel(SOLARIZE, { images: x, threshold })],
      ['posterize', posterize(x, bits), runKernel(POSTERIZE, { images: x, bits })],
      ['blend, one value per image', blend(perImage, clipped, factor), runKernel(BLEND, { degenerate: perImage, images: clipped, factor })],
      ['blend, same shape', blend(sameShape, clipped, factor), runKernel(BLEND, { degenerate: sameShape, images: clipped, factor })],
    ];
    for (const [what, ours, host] of pairs) assert.equal(relativeError(ours, host), 0, what);
    tf.dispose([x, clipped, threshold, bits, factor, perImage, sameShape, ...pairs.flatMap(([, a, b]) => [a, b])]);
  });
});
