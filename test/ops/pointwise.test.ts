import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { describeFamily, vjp } from './family';

// Expected image gradients, elementwise, for v away from the thresholds.
describeFamily('point operators (lookup tables)', ['Solarize', 'SolarizeAdd', 'Posterize', 'Invert'], {
  fidelity: 'every-pixel',
  gradient: (op) => {
    tf.tidy(() => {
      const values = [3.5, 60.2, 100.7, 126.1, 131.3, 180.6, 220.4, 250.2];
      const x = tf.tensor4d(values, [1, 2, 4, 1]);
      const m = tf.tensor1d([0.5]); // Solarize threshold 128, SolarizeAdd +55, Posterize 2 bits
      const [gx] = vjp(op, x, m, tf.onesLike(x));
      const expected = values.map((v) => {
        if (op === 'Solarize') return v < 128 ? 1 : -1;
        if (op === 'SolarizeAdd') return v < 128 && v + 55 < 255 ? 1 : v < 128 ? 0 : 1;
        if (op === 'Posterize') return 1; // straight-through
        return -1; // Invert
      });
      assert.deepEqual(Array.from(gx.dataSync()), expected);
    });
  },
});
