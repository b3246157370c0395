/**
 * The sections every operator family's test file has (smoke, shapes, bad input, values
 * against Pillow, gradient), so the families are tested the same way.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { type OpName, OPS, applyOp } from '../../src/ops';
import { Rng } from '../../src/util/rng';
import { fidelity, useTestBackend } from './helpers';

export interface FamilyOptions {
  /** Fidelity bar: 'every-pixel' (max error 1 level) or 'geometric' (>= 99% of pixels within 1 level). */
  fidelity: 'every-pixel' | 'geometric';
  /** Family-specific gradient checks (beyond the finite differences in gradients.test.ts). */
  gradient: (op: OpName) => void;
}

const centres = (n: number) => tf.tensor2d(new Rng(3).uniform(2 * n), [n, 2]);

export function describeFamily(title: string, ops: readonly OpName[], options: FamilyOptions): void {
  describe(title, () => {
    before(async () => {
      await useTestBackend();
    });

    describe('smoke', () => {
      for (const op of ops) {
        it(`${op} maps [0, 255] images to finite [0, 255] images`, () => {
          tf.tidy(() => {
            const x = tf.randomUniform([3, 9, 7, 3], 0, 255, 'float32', 1) as tf.Tensor4D;
            const y = applyOp(op, x, tf.tensor1d([0.2, 0.6, 1]), { sign: tf.tensor1d([1, -1, 1]), cutoutCentre: centres(3) });
            const v = y.dataSync();
            assert.ok(v.every((p) => Number.isFinite(p) && p >= -1e-3 && p <= 255 + 1e-3), `${op}: output outside [0, 255]`);
          });
        });
      }
    });

    describe('shapes', () => {
      for (const op of ops) {
        it(`${op} keeps [N, H, W, C] for N = 1, H != W and C = 1`, () => {
          tf.tidy(() => {
            for (const shape of [[1, 5, 11, 3], [2, 13, 6, 3], [2, 7, 7, 1]] as const) {
              const x = tf.randomUniform([...shape], 0, 255, 'float32', 2) as tf.Tensor4D;
              const m = tf.fill([shape[0]], 0.5) as tf.Tensor1D;
              const y = applyOp(op, x, m, { cutoutCentre: centres(shape[0]) });
              assert.deepEqual(y.shape, [...shape]);
              assert.equal(y.dtype, 'float32');
            }
          });
        });
      }
    });

    describe('bad input', () => {
      const op = ops[0]!;
      const x = () => tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
      const m = () => tf.tensor1d([0.5, 0.5]);
      it('rejects images that are not [N, H, W, C] float32 with 1 or 3 channels', () => {
        tf.tidy(() => {
          assert.throws(() => applyOp(op, tf.zeros([4, 4, 3]) as unknown as tf.Tensor4D, m()), /must be \[N, H, W, C\]/);
          assert.throws(() => applyOp(op, tf.zeros([2, 4, 4, 3], 'int32') as tf.Tensor4D, m()), /float32/);
          assert.throws(() => applyOp(op, tf.zeros([2, 4, 4, 4]) as tf.Tensor4D, m()), /1 or 3 channels, got 4/);
        });
      });
      it('rejects a magnitude or sign that is not one per image', () => {
        tf.tidy(() => {
          assert.throws(() => applyOp(op, x(), tf.tensor1d([0.5])), /magnitude must be a tensor of shape \[2\]/);
          assert.throws(() => applyOp(op, x(), m(), { sign: tf.tensor1d([1, 1, 1]) }), /sign must be a tensor of shape \[2\]/);
        });
      });
      it('rejects unknown operators, interpolations and fills', () => {
        tf.tidy(() => {
          assert.throws(() => applyOp('Sheer' as OpName, x(), m()), /unknown operator 'Sheer'/);
          assert.throws(() => applyOp(op, x(), m(), { interpolation: 'bicubic' as 'nearest' }), /interpolation must be 'nearest' or 'bilinear'/);
          assert.throws(() => applyOp(op, x(), m(), { fill: 300 }), /fill must be a number in \[0, 255\]/);
        });
      });
    });

    describe('values against Pillow (test/fixtures/ops, from scripts/make_op_fixtures.py)', () => {
      for (const op of ops) {
        it(`${op} matches Pillow ${options.fidelity === 'every-pixel' ? 'within 1 level on every pixel' : 'within 1 level on >= 99% of pixels'}`, () => {
          const r = fidelity(op);
          console.log(`  ${op}: ${r.cases} cases, max error ${r.maxError}, min within-1 ${(100 * r.minWithin1).toFixed(2)}%, mean exact ${(100 * r.meanExact).toFixed(2)}%`);
          assert.ok(r.argumentError < 1e-4, `${op}: the magnitude mapper disagrees with the fixture's argument (relative error ${r.argumentError})`);
          if (options.fidelity === 'every-pixel') assert.ok(r.maxError <= 1, `${op}: max error ${r.maxError} levels`);
          else assert.ok(r.minWithin1 >= 0.99, `${op}: only ${(100 * r.minWithin1).toFixed(2)}% of pixels within 1 level`);
        });
      }
    });

    describe('gradient', () => {
      for (const op of ops) {
        it(`${op}: ${OPS[op].gradient} gradient w.r.t. the image`, () => options.gradient(op));
      }
    });
  });
}

/** Gradient of sum(dy * op(x)) w.r.t. x and m. */
export function vjp(op: OpName, x: tf.Tensor4D, m: tf.Tensor1D, dy: tf.Tensor4D, opts: Parameters<typeof applyOp>[3] = {}): [tf.Tensor4D, tf.Tensor1D] {
  const [gx, gm] = tf.grads((xx: tf.Tensor, mm: tf.Tensor) => tf.sum(tf.mul(applyOp(op, xx as tf.Tensor4D, mm as tf.Tensor1D, opts), dy)))([x, m]);
  return [gx as tf.Tensor4D, gm as tf.Tensor1D];
}
