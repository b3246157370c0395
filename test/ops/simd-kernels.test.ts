/**
 * The WebAssembly SIMD kernels (src/ops/kernels/simd-source/*.ts, loaded by src/ops/kernels/simd.ts) against
 * the JavaScript loops they replace: bit for bit the same output on the test backend (cpu
 * copies into the module's scratch memory; wasm runs in place on the backend's heap), on
 * shapes that exercise the four-pixel path, its per-pixel fallback at the image border,
 * row ends that are not a multiple of four, and the last pixel of the buffer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { smooth } from '../../src/ops/color';
import { affineWarp, type AffineRows } from '../../src/ops/geometric';
import { SIMD_MODULE_PATH, setSimdKernelsEnabled, simdKernelsAvailable } from '../../src/ops/kernels/simd';
import { Rng } from '../../src/util/rng';
import { useTestBackend } from './helpers';

/** Matrices that rotate, shear, scale and translate (some far outside), plus exact cell edges. */
function matrices(rng: Rng, n: number, h: number, w: number): number[][] {
  const exact = [
    [1, 0, 0, 0, 1, 0],
    [1, 0, 2, 0, 1, -3],
    [1, 0, 0.5, 0, 1, 0.5],
    [2, 0, 0, 0, 2, 0],
    [0.5, 0, -0.25, 0, 0.5, w],
  ];
  return Array.from({ length: n }, (_, i) => {
    if (i < exact.length && rng.next() < 0.5) return exact[i]!;
    const theta = (rng.next() - 0.5) * 1.6;
    const shear = (rng.next() - 0.5) * 0.6;
    const scale = 0.6 + 0.8 * rng.next();
    return [scale * Math.cos(theta), -Math.sin(theta) + shear, (rng.next() - 0.5) * w, Math.sin(theta), scale * Math.cos(theta), (rng.next() - 0.5) * h];
  });
}

function warp(x: tf.Tensor4D, m: number[][], interpolation: 'nearest' | 'bilinear', fill: number): Uint32Array {
  const y = tf.tidy(() => {
    const column = (j: number) => tf.tensor1d(m.map((row) => row[j]!));
    const rows: AffineRows = { a: column(0), b: column(1), c: column(2), d: column(3), e: column(4), f: column(5) };
    return affineWarp(x, rows, interpolation, fill);
  });
  const bits = new Uint32Array(Float32Array.from(y.dataSync()).buffer);
  y.dispose();
  return bits;
}

function bitsOf(y: tf.Tensor): Uint32Array {
  const bits = new Uint32Array(Float32Array.from(y.dataSync()).buffer);
  y.dispose();
  return bits;
}

/** `f` with the SIMD kernels on and off: [on, off], checking no tensor is left behind. */
function withAndWithout(f: () => tf.Tensor): [Uint32Array, Uint32Array] {
  const before = tf.memory().numTensors;
  setSimdKernelsEnabled(true);
  const on = bitsOf(f());
  setSimdKernelsEnabled(false);
  const off = bitsOf(f());
  setSimdKernelsEnabled(true);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  return [on, off];
}

describe('SIMD kernels match the JavaScript loops bit for bit', () => {
  let backend = '';
  before(async () => {
    backend = await useTestBackend();
  });
  after(() => setSimdKernelsEnabled(true));

  it('the compiled module is present and loads', () => {
    assert.ok(simdKernelsAvailable(), `${SIMD_MODULE_PATH} is missing or does not compile: run \`npm run build\` (tsc, then asc on src/ops/kernels/simd-source/)`);
  });

  for (const interpolation of ['bilinear', 'nearest'] as const) {
    it(`affine warp (${interpolation}), fill 0 and 128, 1 to 4 channels`, () => {
      if (backend !== 'cpu' && backend !== 'wasm') return;
      const rng = new Rng(interpolation === 'bilinear' ? 31 : 32);
      for (const [n, h, w, c] of [
        [6, 9, 13, 3],
        [1, 16, 16, 3],
        [3, 7, 12, 4],
        [2, 11, 6, 1],
        [2, 5, 9, 2],
        [4, 24, 21, 3],
      ] as const) {
        const x = tf.tensor4d(rng.uniform(n * h * w * c, 0, 255), [n, h, w, c]);
        for (const fill of [0, 128]) {
          const m = matrices(rng, n, h, w);
          const before = tf.memory().numTensors;
          setSimdKernelsEnabled(true);
          const simd = warp(x, m, interpolation, fill);
          setSimdKernelsEnabled(false);
          const loop = warp(x, m, interpolation, fill);
          setSimdKernelsEnabled(true);
          assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
          const differing = simd.findIndex((v, i) => v !== loop[i]);
          assert.equal(differing, -1, `[${n},${h},${w},${c}] fill ${fill}: first differing element ${differing}`);
        }
        x.dispose();
      }
    });
  }

  it('smoothing filter, rounded and not, on 8-bit and on fractional images', () => {
    if (backend !== 'cpu' && backend !== 'wasm') return;
    const rng = new Rng(33);
    for (const [n, h, w, c] of [
      [3, 9, 13, 3],
      [1, 3, 3, 3],
      [2, 5, 4, 1],
      [2, 6, 11, 4],
      [1, 17, 8, 2],
    ] as const) {
      const size = n * h * w * c;
      for (const eightBit of [true, false]) {
        const values = rng.uniform(size, -20, 275).map((v) => (eightBit ? Math.round(Math.min(255, Math.max(0, v))) : v));
        const x = tf.tensor4d(values, [n, h, w, c]);
        for (const round of [true, false]) {
          const [on, off] = withAndWithout(() => smooth(x, round));
          const differing = on.findIndex((v, i) => v !== off[i]);
          assert.equal(differing, -1, `[${n},${h},${w},${c}] ${eightBit ? '8-bit' : 'fractional'} round=${round}: first differing element ${differing}`);
        }
        x.dispose();
      }
    }
  });
});
