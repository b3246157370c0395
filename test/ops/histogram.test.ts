import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { describeFamily, vjp } from './family';

describeFamily('histogram operators', ['Equalize', 'AutoContrast'], {
  fidelity: 'every-pixel',
  gradient: (op) => {
    tf.tidy(() => {
      const x = tf.randomUniform([2, 5, 6, 3], 10, 240, 'float32', 9) as tf.Tensor4D;
      const dy = tf.randomUniform([2, 5, 6, 3], -1, 1, 'float32', 10) as tf.Tensor4D;
      const [gx] = vjp(op, x, tf.tensor1d([0, 0]), dy);
      if (op === 'Equalize') {
        // Straight-through: the gradient is dy itself.
        assert.deepEqual(Array.from(gx.dataSync()), Array.from(dy.dataSync()));
      } else {
        // AutoContrast is affine per channel, y = (x - lo) s with s = 255 / (hi - lo); its
        // gradient sums (over a channel) to s * sum(dy) minus what flows through lo and hi,
        // so it is not dy, and flat channels pass dy through (checked by finite differences
        // in gradients.test.ts).
        const g = gx.dataSync();
        assert.ok(g.every(Number.isFinite));
        assert.notDeepEqual(Array.from(g), Array.from(dy.dataSync()));
      }
    });
  },
});
