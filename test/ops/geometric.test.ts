import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { applyOp } from '../../src/ops';
import { describeFamily, vjp } from './family';

// Bilinear warps with fill 0 are linear in the image: the image gradient must be the
// adjoint, <A x, y> = <x, A^T y>, and nearest's gradient the adjoint of its gather.
describeFamily('geometric operators', ['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'], {
  fidelity: 'geometric',
  gradient: (op) => {
    tf.tidy(() => {
      for (const interpolation of ['bilinear', 'nearest'] as const) {
        const x = tf.randomUniform([2, 7, 9, 3], 0, 255, 'float32', 4) as tf.Tensor4D;
        const y = tf.randomUniform([2, 7, 9, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
        const m = tf.tensor1d([0.45, 0.8]);
        const sign = tf.tensor1d([1, -1]);
        const ax = applyOp(op, x, m, { interpolation, fill: 0, sign });
        const [aty] = vjp(op, x, m, y, { interpolation, fill: 0, sign });
        const lhs = tf.sum(tf.mul(ax, y)).dataSync()[0]!;
        const rhs = tf.sum(tf.mul(x, aty)).dataSync()[0]!;
        assert.ok(Math.abs(lhs - rhs) <= 1e-4 * (Math.abs(lhs) + 1e3), `${op} ${interpolation}: <Ax,y> ${lhs} vs <x,A^T y> ${rhs}`);
      }
    });
  },
});
