import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { describeFamily, vjp } from './family';
import { smoothTestImages } from './helpers';
import { Rng } from '../../src/util/rng';

// Blend(deg, x, f) = deg + f (x - deg): with dy = 1 on one channel, the image gradient
// sums to f on the pixel itself plus (1 - f) times the degenerate image's weights, so
// summed over the whole image it is f * pixels + (1 - f) * (sum of d deg / d x).
describeFamily('colour blends (ImageEnhance)', ['Brightness', 'Color', 'Contrast', 'Sharpness'], {
  fidelity: 'every-pixel',
  gradient: (op) => {
    tf.tidy(() => {
      const x = tf.clipByValue(smoothTestImages(new Rng(8), [1, 6, 5, 3]), 60, 140) as tf.Tensor4D; // factor 1.45 stays unclipped
      const dy = tf.onesLike(x);
      const [gx, gm] = vjp(op, x, tf.tensor1d([0.5]), dy);
      const total = tf.sum(gx).dataSync()[0]!;
      // Every degenerate image here (black, grayscale, mean, smoothed) has weights summing
      // to 0 (black) or 1 per output (the others), so the total is f * size or size.
      const expected = op === 'Brightness' ? 1.45 * x.size : x.size;
      assert.ok(Math.abs(total - expected) < 1e-2 * expected, `${op}: total image gradient ${total}, expected ${expected}`);
      // d/dm = 0.9 * sum(x - deg): nonzero for a non-degenerate image.
      assert.ok(Math.abs(gm.dataSync()[0]!) > 1, `${op}: magnitude gradient ${gm.dataSync()[0]} should not vanish`);
    });
  },
});
