import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { applyOp } from '../../src/ops';
import { Rng } from '../../src/util/rng';
import { describeFamily, vjp } from './family';

describeFamily('Cutout', ['Cutout'], {
  fidelity: 'every-pixel',
  gradient: (op) => {
    tf.tidy(() => {
      // A 10x10 image, magnitude 1 -> side 2, centre (0.5, 0.5) -> rows/cols 4..5.
      const x = tf.randomUniform([1, 10, 10, 1], 0, 255, 'float32', 11) as tf.Tensor4D;
      const [gx] = vjp(op, x, tf.tensor1d([1]), tf.onesLike(x), { cutoutCentre: tf.tensor2d([[0.5, 0.5]]) });
      const g = gx.dataSync();
      for (let r = 0; r < 10; r++) {
        for (let c = 0; c < 10; c++) assert.equal(g[r * 10 + c], r >= 4 && r <= 5 && c >= 4 && c <= 5 ? 0 : 1, `pixel ${r},${c}`);
      }
    });
  },
});

import { describe, it } from 'node:test';
describe('Cutout centres', () => {
  it('needs centres or an Rng, and the same seed gives the same squares', () => {
    tf.tidy(() => {
      const x = tf.fill([2, 12, 12, 3], 200) as tf.Tensor4D;
      const m = tf.tensor1d([1, 1]);
      assert.throws(() => applyOp('Cutout', x, m), /Cutout needs per-sample centres/);
      const a = applyOp('Cutout', x, m, { rng: new Rng(5) }).dataSync();
      const b = applyOp('Cutout', x, m, { rng: new Rng(5) }).dataSync();
      assert.deepEqual(Array.from(a), Array.from(b));
      assert.equal(Array.from(a).filter((v) => v === 0).length > 0, true);
    });
  });
});
