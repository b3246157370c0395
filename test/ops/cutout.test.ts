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

describe('one Cutout for the search, final training and the 8-bit pass', () => {
  it('the three give the official square (integer centre k, rows k - side//2 .. + side), for even and odd sides', async () => {
    const { cutoutSquares, drawCutoutCentres } = await import('../../src/ops/cutout');
    const { applyLayers } = await import('../../src/ops/layers');
    const n = 64;
    const [h, w] = [20, 24];
    for (const side of [8, 5]) {
      // The official draw and square (operations.py `cutout`), from the same stream.
      const reference = new Rng(9);
      const expected = new Float32Array(n * h * w).fill(1);
      for (let i = 0; i < n; i++) {
        const cy = reference.int(h);
        const cx = reference.int(w);
        for (let y = Math.max(0, cy - Math.floor(side / 2)); y < Math.min(h, cy + side - Math.floor(side / 2)); y++) {
          for (let x = Math.max(0, cx - Math.floor(side / 2)); x < Math.min(w, cx + side - Math.floor(side / 2)); x++) expected[(i * h + y) * w + x] = 0;
        }
      }
      const x = tf.fill([n, h, w, 1], 1) as tf.Tensor4D;
      const centres = drawCutoutCentres(new Rng(9), n, h, w);
      // The search's and final training's Cutout.
      const pipeline = cutoutSquares(x, side, centres);
      // The 8-bit pass's Cutout operator at the magnitude whose side is `side`.
      // The official Cutout(0, 0.2): side = floor(m * 0.2 * height).
      const magnitude = side / (0.2 * h);
      const pass = applyLayers(x, ['Cutout'], [{ opIndex: new Int32Array(n), magnitude: new Float32Array(n).fill(magnitude), sign: new Float32Array(n).fill(1), cutoutCentre: centres.dataSync() as Float32Array }]);
      assert.deepEqual(Array.from(pipeline.dataSync()), Array.from(expected), `pipeline, side ${side}`);
      assert.deepEqual(Array.from(pass.dataSync()), Array.from(expected).map((v) => (v === 0 ? 0 : 1)), `8-bit pass, side ${side}`);
      tf.dispose([x, centres, pipeline, pass]);
    }
  });
});
