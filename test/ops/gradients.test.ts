/**
 * Gradients of every operator against central finite differences (float64 sums of the
 * float32 outputs), on integer-valued random images in [20, 235] whose grayscale levels
 * sit away from PIL's rounding boundaries, so the pieces of the ops that are constant or
 * discontinuous (rounding, thresholds, clipping) are not crossed by the perturbation.
 * Straight-through ops are compared with the identity instead. Then one optimiser step on
 * a learnable magnitude moves it the expected way.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { type OpName, DRA_OP_NAMES, OPS, applyOp, applyPerSample, straightThroughMagnitude, stopGradient } from '../../src/ops';
import { Rng } from '../../src/util/rng';
import { checkGradients, smoothTestImages, useTestBackend } from './helpers';

describe('operator gradients vs central finite differences', () => {
  before(async () => {
    await useTestBackend();
  });
  const magnitudes = Float32Array.from([0.41, 0.73]);
  for (const op of DRA_OP_NAMES) {
    const spec = OPS[op];
    for (const interpolation of spec.gradient === 'exact' && spec.signed && spec.magnitudeGradient && op.match(/Shear|Translate|Rotate/) ? (['bilinear', 'nearest'] as const) : (['bilinear'] as const)) {
      it(`${op}${op.match(/Shear|Translate|Rotate/) ? ` (${interpolation})` : ''}: image${spec.magnitudeGradient ? ' and magnitude' : ''}`, () => {
        const rng = new Rng(100 + DRA_OP_NAMES.indexOf(op));
        // Integer levels sit on SolarizeAdd's threshold (v < 128): move them half a level off.
        const levels = smoothTestImages(rng, [2, 6, 7, 3]);
        const x = op === 'SolarizeAdd' ? (tf.add(levels, 0.5) as tf.Tensor4D) : levels;
        // roundLikePil false: the gradient is exact for the continuous blends (the rounding of
        // the degenerate images is passed straight through).
        const options = { sign: tf.tensor1d([1, -1]), interpolation, fill: 0, roundLikePil: false, cutoutCentre: tf.tensor2d([[0.4, 0.5], [0.7, 0.2]]) };
        const r = checkGradients(op, x, magnitudes, options, rng);
        console.log(`  ${op} ${interpolation}: image rel. error ${r.imageError.toExponential(2)}, magnitude rel. error ${r.magnitudeError.toExponential(2)}`);
        if (spec.gradient === 'straight-through') {
          // The finite difference of a step function is 0; the straight-through gradient is 1.
          const [gx] = tf.grads((xx: tf.Tensor) => tf.sum(applyOp(op, xx as tf.Tensor4D, tf.tensor1d(magnitudes))))([x]);
          assert.ok(gx!.dataSync().every((g) => g === 1), `${op}: straight-through gradient must be the identity`);
        } else {
          assert.ok(r.imageError < 2e-3, `${op}: image gradient relative error ${r.imageError}`);
        }
        if (spec.magnitudeGradient && interpolation === 'bilinear') assert.ok(r.magnitudeError < 2e-2, `${op}: magnitude gradient relative error ${r.magnitudeError}`);
        tf.dispose([x, levels, options.sign, options.cutoutCentre]);
      });
    }
  }

  it('applyPerSample passes image and magnitude gradients back to the right samples', () => {
    tf.tidy(() => {
      const rng = new Rng(7);
      const x = smoothTestImages(rng, [4, 5, 6, 3]);
      const ops: OpName[] = ['Rotate', 'Brightness', 'SolarizeAdd'];
      const opIndex = Int32Array.from([2, 0, -1, 1]);
      const sign = Float32Array.from([1, -1, 1, 1]);
      const m = tf.tensor1d([0.3, 0.6, 0.5, 0.4]);
      const [gx, gm] = tf.grads((xx: tf.Tensor, mm: tf.Tensor) => tf.sum(applyPerSample(xx as tf.Tensor4D, ops, opIndex, mm as tf.Tensor1D, sign)))([x, m]);
      // Reference: each sample through applyOp alone.
      for (let i = 0; i < 4; i++) {
        const xi = tf.slice(x, [i, 0, 0, 0], [1, 5, 6, 3]);
        const mi = tf.slice(m, [i], [1]);
        const k = opIndex[i]!;
        const [gxi, gmi] = k < 0
          ? [tf.onesLike(xi), tf.zeros([1])]
          : tf.grads((xx: tf.Tensor, mm: tf.Tensor) => tf.sum(applyOp(ops[k]!, xx as tf.Tensor4D, mm as tf.Tensor1D, { sign: tf.tensor1d([sign[i]!]) })))([xi, mi]);
        const diff = tf.max(tf.abs(tf.sub(tf.slice(gx!, [i, 0, 0, 0], [1, 5, 6, 3]), gxi!))).dataSync()[0]!;
        assert.ok(diff < 1e-3, `sample ${i}: image gradient differs by ${diff}`);
        assert.ok(Math.abs(gm!.dataSync()[i]! - gmi!.dataSync()[0]!) < 1e-2 * (1 + Math.abs(gmi!.dataSync()[0]!)), `sample ${i}: magnitude gradient`);
      }
    });
  });

  it('stopGradient and straightThroughMagnitude: x + m - stopgrad(m) has the value of x and gradient 1 per pixel w.r.t. m', () => {
    tf.tidy(() => {
      const x = tf.randomUniform([2, 3, 3, 1], 0, 255, 'float32', 1) as tf.Tensor4D;
      const m = tf.tensor1d([0.2, 0.9]);
      const y = straightThroughMagnitude(x, m);
      assert.ok(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]! < 1e-4);
      const [gm] = tf.grads((mm: tf.Tensor) => tf.sum(straightThroughMagnitude(x, mm as tf.Tensor1D)))([m]);
      assert.deepEqual(Array.from(gm!.dataSync()), [9, 9]);
      const [gs] = tf.grads((mm: tf.Tensor) => tf.sum(tf.mul(stopGradient(mm), mm)))([m]);
      assert.deepEqual(Array.from(gs!.dataSync()).map((v) => Math.round(v * 1e5) / 1e5), [0.2, 0.9]);
    });
  });
});

describe('one optimiser step on a learnable magnitude', () => {
  before(async () => {
    await useTestBackend();
  });
  // Minimising the mean brightness of Brightness(x, 1 + 0.9 m) must lower m; minimising
  // the distance of Rotate(x, m) to a target rotated by 20 degrees (m = 2/3) from m = 0.5
  // must raise m.
  const cases: Array<{ op: OpName; target?: number; expectedSign: -1 | 1 }> = [
    { op: 'Brightness', expectedSign: -1 },
    { op: 'Rotate', target: 2 / 3, expectedSign: 1 },
    { op: 'SolarizeAdd', expectedSign: -1 },
  ];
  for (const c of cases) {
    it(`${c.op}: the magnitude moves ${c.expectedSign > 0 ? 'up' : 'down'}`, () => {
      const x = smoothTestImages(new Rng(21), [2, 12, 12, 3]);
      const target = c.target !== undefined ? applyOp(c.op, x, tf.tensor1d([c.target, c.target])) : undefined;
      const m = tf.variable(tf.tensor1d([0.5, 0.5]));
      const optimizer = tf.train.sgd(1e-4);
      const before = m.dataSync().slice();
      optimizer.minimize(() => {
        const y = applyOp(c.op, x, m as unknown as tf.Tensor1D);
        return target ? tf.mean(tf.square(tf.sub(y, target))) : tf.mean(y);
      });
      const after = m.dataSync();
      for (let i = 0; i < 2; i++) {
        const delta = after[i]! - before[i]!;
        assert.ok(Math.sign(delta) === c.expectedSign, `${c.op}: sample ${i} moved ${delta}`);
      }
      tf.dispose([x, m, ...(target ? [target] : [])]);
      optimizer.dispose();
    });
  }
});
