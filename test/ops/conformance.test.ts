/**
 * What every operator must do, whatever it computes: keep shapes (N = 1, H != W, 1 or 3
 * channels), be deterministic, dispose every intermediate tensor, treat each sample
 * independently (a batch equals its samples run one by one), keep identity magnitudes
 * where the op has one, and agree between applyOp and applyPerSample.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ALL_OP_NAMES, type OpName, OPS, applyOp, applyPerSample } from '../../src/ops';
import { MAGNITUDE_FREE_OPS } from '../../src/ops/names';
import { Rng } from '../../src/util/rng';
import { useTestBackend } from './helpers';

const centres = (n: number, seed = 4) => tf.tensor2d(new Rng(seed).uniform(2 * n), [n, 2]);

describe('operator conformance', () => {
  before(async () => {
    await useTestBackend();
  });

  it('lists as magnitude-free (for the figures, which load no tensors) exactly the ops the table says take no magnitude', () => {
    assert.deepEqual([...MAGNITUDE_FREE_OPS].sort(), ALL_OP_NAMES.filter((op) => !OPS[op].hasMagnitude).sort());
  });

  for (const op of ALL_OP_NAMES) {
    describe(op, () => {
      it('keeps shapes for N = 1 and H != W and is deterministic', () => {
        tf.tidy(() => {
          for (const shape of [[1, 8, 8, 3], [3, 5, 12, 3], [2, 11, 4, 1]] as Array<[number, number, number, number]>) {
            const x = tf.randomUniform(shape, 0, 255, 'float32', 7) as tf.Tensor4D;
            const m = tf.tensor1d(new Rng(1).uniform(shape[0]));
            const sign = tf.tensor1d(new Rng(2).signs(shape[0]));
            const a = applyOp(op, x, m, { sign, cutoutCentre: centres(shape[0]) });
            const b = applyOp(op, x, m, { sign, cutoutCentre: centres(shape[0]) });
            assert.deepEqual(a.shape, shape);
            assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
          }
        });
      });

      it('leaks no tensors, forward or backward', () => {
        const x = tf.randomUniform([2, 6, 5, 3], 0, 255, 'float32', 8) as tf.Tensor4D;
        const m = tf.tensor1d([0.3, 0.8]);
        const sign = tf.tensor1d([1, -1]);
        const c = centres(2);
        const before = tf.memory().numTensors;
        tf.dispose(applyOp(op, x, m, { sign, cutoutCentre: c }));
        const grads = tf.grads((xx: tf.Tensor, mm: tf.Tensor) => tf.sum(applyOp(op, xx as tf.Tensor4D, mm as tf.Tensor1D, { sign, cutoutCentre: c })))([x, m]);
        tf.dispose(grads);
        assert.equal(tf.memory().numTensors, before);
        tf.dispose([x, m, sign, c]);
      });

      it('treats samples independently: the batch equals its samples one by one', () => {
        tf.tidy(() => {
          const n = 3;
          const x = tf.randomUniform([n, 7, 6, 3], 0, 255, 'float32', 9) as tf.Tensor4D;
          const mags = [0.2, 0.5, 0.9];
          const signs = [1, -1, 1];
          const c = centres(n);
          const batch = applyOp(op, x, tf.tensor1d(mags), { sign: tf.tensor1d(signs), cutoutCentre: c });
          for (let i = 0; i < n; i++) {
            const one = applyOp(op, tf.slice(x, [i, 0, 0, 0], [1, 7, 6, 3]), tf.tensor1d([mags[i]!]), { sign: tf.tensor1d([signs[i]!]), cutoutCentre: tf.slice(c, [i, 0], [1, 2]) });
            const diff = tf.max(tf.abs(tf.sub(tf.slice(batch, [i, 0, 0, 0], [1, 7, 6, 3]), one))).dataSync()[0]!;
            assert.ok(diff < 1e-3, `${op}: sample ${i} differs by ${diff}`);
          }
        });
      });

      if (OPS[op].hasMagnitude && op !== 'Cutout') {
        it('is the identity at the neutral magnitude (0, or factor 1)', () => {
          tf.tidy(() => {
            const x = tf.round(tf.randomUniform([2, 6, 9, 3], 0, 255, 'float32', 10)) as tf.Tensor4D;
            const y = applyOp(op, x, tf.tensor1d([0, 0]));
            const diff = tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]!;
            assert.ok(diff < 1e-3, `${op} at magnitude 0 changes the image by ${diff}`);
          });
        });
      }
    });
  }

  it('applyPerSample equals applyOp sample by sample, in the original order', () => {
    tf.tidy(() => {
      const ops: OpName[] = ['ShearX', 'Equalize', 'Color', 'Cutout', 'Posterize'];
      const n = 7;
      const x = tf.round(tf.randomUniform([n, 8, 10, 3], 0, 255, 'float32', 11)) as tf.Tensor4D;
      const opIndex = Int32Array.from([3, 0, -1, 2, 0, 4, 1]);
      const sign = Float32Array.from([1, -1, 1, 1, 1, -1, 1]);
      const mags = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.4];
      const c = centres(n);
      const y = applyPerSample(x, ops, opIndex, tf.tensor1d(mags), sign, { cutoutCentre: c, interpolation: 'nearest' });
      for (let i = 0; i < n; i++) {
        const xi = tf.slice(x, [i, 0, 0, 0], [1, 8, 10, 3]);
        const k = opIndex[i]!;
        const expected = k < 0 ? xi : applyOp(ops[k]!, xi, tf.tensor1d([mags[i]!]), { sign: tf.tensor1d([sign[i]!]), cutoutCentre: tf.slice(c, [i, 0], [1, 2]), interpolation: 'nearest' });
        const diff = tf.max(tf.abs(tf.sub(tf.slice(y, [i, 0, 0, 0], [1, 8, 10, 3]), expected))).dataSync()[0]!;
        assert.ok(diff < 1e-3, `sample ${i} (${k < 0 ? 'identity' : ops[k]}) differs by ${diff}`);
      }
    });
  });

  it('applyPerSample rejects bad op indices, signs and lengths', () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
      const m = tf.tensor1d([0.5, 0.5]);
      assert.throws(() => applyPerSample(x, ['Invert'], Int32Array.from([0, 1]), m, Float32Array.from([1, 1])), /opIndex\[1\] = 1 is outside \[-1, 0\]/);
      assert.throws(() => applyPerSample(x, ['Invert'], Int32Array.from([0]), m, Float32Array.from([1, 1])), /opIndex must be an Int32Array of length 2/);
      assert.throws(() => applyPerSample(x, ['Invert'], Int32Array.from([0, 0]), m, Float32Array.from([1, 0])), /sign\[1\] = 0 must be \+1 or -1/);
      assert.throws(() => applyPerSample(x, ['Nope' as OpName], Int32Array.from([0, 0]), m, Float32Array.from([1, 1])), /unknown applyPerSample operator 'Nope'/);
    });
  });

  it('applyPerSample leaks no tensors and draws Cutout centres from the Rng reproducibly', () => {
    const x = tf.randomUniform([6, 8, 8, 3], 0, 255, 'float32', 12) as tf.Tensor4D;
    const m = tf.tensor1d([1, 1, 1, 1, 1, 1]);
    const before = tf.memory().numTensors;
    const run = () => {
      const y = applyPerSample(x, ['Cutout', 'Rotate'], Int32Array.from([0, 1, 0, -1, 0, 1]), m, Float32Array.from([1, 1, 1, 1, 1, -1]), { rng: new Rng(3) });
      const v = Array.from(y.dataSync());
      y.dispose();
      return v;
    };
    assert.deepEqual(run(), run());
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, m]);
  });
});
