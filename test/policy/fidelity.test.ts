/**
 * The search's gradients are the official DRA code's (ainieli/DRA, TensorFlow 2): a
 * closed apply gate passes x untouched; the affine ops' magnitudes get only the
 * straight-through gradient (TF's image transform has none w.r.t. its matrix) unless
 * `magnitudeGradient: 'exact'` asks for the warp's; AutoContrast splits the min/max
 * gradient among tied pixels as TF's reduce_min/max do (checked against central finite
 * differences along the tied set, where the function is differentiable); magnitudes
 * above 1 extend each op's linear map.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import '../../src/engine/gradients';
import { applyOp, DRA_OP_NAMES } from '../../src/ops';
import { autoContrast, autoContrastComposite } from '../../src/ops/histogram';
import { applyLayers, applyLayersComposite } from '../../src/ops/layers';
import { rotate } from '../../src/ops/geometric';
import { DraPolicy, type MagnitudeGradient } from '../../src/policy/dra';
import { Rng } from '../../src/util/rng';

function randomImages(n: number, h: number, w: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from(rng.uniform(n * h * w * 3), (v) => Math.round(v * 255)), [n, h, w, 3]);
}

/** A fixed random linear loss, so dL/dx is a known dense tensor. */
function linearLoss(shape: readonly number[], seed: number): (x: tf.Tensor) => tf.Scalar {
  const rng = new Rng(seed);
  const weights = tf.keep(tf.tensor(Float32Array.from(rng.uniform(shape.reduce((a, b) => a * b, 1)), (v) => v - 0.5), shape as number[]));
  return (x) => tf.sum(tf.mul(x, weights));
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`official DRA gradients (${backend})`, () => {
    before(async () => {
      await selectBackend({ backend, reselect: true });
    });

    it('a closed apply gate passes x: zero gradient to mu and sigma, and the image passes unchanged', () => {
      const policy = new DraPolicy({ depth: 2, applyProbability: [0, 0] });
      const images = randomImages(6, 12, 12, 1);
      const draw = policy.sample(6, new Rng(2));
      const loss = linearLoss(images.shape, 3);
      const w = policy.values().weights;
      const { grads, value } = tf.variableGrads(() => loss(policy.augmentWith(images, draw, w)), [policy.mu, policy.sigma, policy.weights]);
      assert.equal(tf.max(tf.abs(grads[policy.mu.name]!)).dataSync()[0], 0, 'dL/dmu must be exactly 0 when every gate is closed');
      assert.equal(tf.max(tf.abs(grads[policy.sigma.name]!)).dataSync()[0], 0, 'dL/dsigma must be exactly 0 when every gate is closed');
      // The selecting weights still learn (the official layer output is x h_chosen + sum of the other h).
      assert.ok((tf.max(tf.abs(grads[policy.weights.name]!)).dataSync()[0] ?? 0) > 0);
      const out = policy.augmentWith(images, draw, w);
      assert.deepEqual(Array.from(out.dataSync()), Array.from(images.dataSync()));
      tf.dispose([images, out, value, ...Object.values(grads)]);
      policy.dispose();
    });

    for (const op of ['Rotate', 'ShearX', 'TranslateY'] as const) {
      it(`${op}: dL/dmu is the straight-through sum of dL/dx by default; 'exact' adds the warp's own`, () => {
        const images = randomImages(6, 12, 12, 4);
        const loss = linearLoss(images.shape, 5);
        const gradients = (kind: MagnitudeGradient): { mu: number; imagesSum: number } => {
          const policy = new DraPolicy({ depth: 1, ops: [op], applyProbability: [1, 1], initialSigma: 0, magnitudeGradient: kind });
          const draw = policy.sample(6, new Rng(6));
          const w = policy.values().weights;
          const x = tf.variable(images.clone(), true, `images-${op}-${kind}-${backend}`);
          const { grads, value } = tf.variableGrads(() => loss(policy.augmentWith(x, draw, w)), [policy.mu, x]);
          const mu = grads[policy.mu.name]!.dataSync()[0]!;
          const imagesSum = tf.sum(grads[x.name]!).dataSync()[0]!;
          tf.dispose([value, ...Object.values(grads)]);
          x.dispose();
          policy.dispose();
          return { mu, imagesSum };
        };
        const st = gradients('straight-through');
        assert.ok(Math.abs(st.mu - st.imagesSum) <= 1e-4 * Math.max(1, Math.abs(st.imagesSum)), `${op}: dL/dmu ${st.mu} should equal sum dL/dx ${st.imagesSum}`);
        const exact = gradients('exact');
        assert.ok(Math.abs(exact.mu - exact.imagesSum) > 10 * Math.max(1, Math.abs(st.imagesSum) * 1e-3), `${op}: 'exact' should add the warp's magnitude gradient (got ${exact.mu} vs ${exact.imagesSum})`);
        images.dispose();
      });
    }

    it('non-affine ops keep their own argument gradient (Brightness: the blend factor)', () => {
      const images = randomImages(4, 8, 8, 7);
      const loss = linearLoss(images.shape, 8);
      const policy = new DraPolicy({ depth: 1, ops: ['Brightness'], applyProbability: [1, 1], initialSigma: 0 });
      const draw = policy.sample(4, new Rng(9));
      const w = policy.values().weights;
      const x = tf.variable(images.clone(), true, `images-brightness-${backend}`);
      const { grads, value } = tf.variableGrads(() => loss(policy.augmentWith(x, draw, w)), [policy.mu, x]);
      const mu = grads[policy.mu.name]!.dataSync()[0]!;
      const imagesSum = tf.sum(grads[x.name]!).dataSync()[0]!;
      assert.ok(Math.abs(mu - imagesSum) > 1, `Brightness's factor passes a gradient of its own: ${mu} vs ${imagesSum}`);
      tf.dispose([value, images, ...Object.values(grads)]);
      x.dispose();
      policy.dispose();
    });

    for (const [name, fn] of [['host kernel or composite', autoContrast], ['composite', autoContrastComposite]] as const) {
      it(`AutoContrast (${name}) splits the min/max gradient among ties, as TensorFlow does`, () => {
        // One channel with three pixels at the minimum (20) and two at the maximum (200).
        const values = [20, 20, 20, 50, 80, 120, 200, 200, 90, 60, 33, 150, 170, 45, 100, 110];
        const x = tf.tensor4d(values, [1, 4, 4, 1]);
        const weightValues = values.map((_, i) => ((i * 7) % 5) - 2 + 0.25);
        const weights = tf.tensor4d(weightValues, [1, 4, 4, 1]);
        const loss = (t: tf.Tensor) => tf.sum(tf.mul(fn(t as tf.Tensor4D), weights)) as tf.Scalar;
        const grad = tf.grad(loss)(x).dataSync();
        const scale = 255 / (200 - 20);
        for (const [level, what] of [[20, 'minimum'], [200, 'maximum']] as const) {
          const tied: number[] = values.map((v) => (v === level ? 1 : 0));
          // Moving every tied pixel together moves the extreme with them: differentiable.
          const eps = 0.01;
          const at = (s: number) => loss(tf.tensor4d(values.map((v, i) => v + s * eps * tied[i]!), [1, 4, 4, 1])).dataSync()[0]!;
          const fd = (at(1) - at(-1)) / (2 * eps);
          const analytic = tied.reduce((a, t, i) => a + t * grad[i]!, 0);
          assert.ok(Math.abs(analytic - fd) < 1e-2 * Math.max(1, Math.abs(fd)), `${what}: directional derivative along the ties ${analytic} vs finite differences ${fd}`);
          // Equal shares: beyond its own direct term (weight x scale), every tied pixel gets the same part of the extreme's gradient.
          const shares = values.flatMap((v, i) => (v === level ? [grad[i]! - weightValues[i]! * scale] : []));
          assert.ok(shares.every((g) => Math.abs(g - shares[0]!) < 1e-3 * Math.max(1, Math.abs(shares[0]!))), `${what}: tied pixels' shares ${shares.join(', ')} should be equal`);
        }
        tf.dispose([x, weights]);
      });
    }
  });
}

describe('magnitudes above 1 extend each operator (official scale > 1)', () => {
  before(async () => {
    await selectBackend({ backend: 'wasm', reselect: true });
  });

  it('Rotate at magnitude 1.5 turns 45 degrees', () => {
    const images = randomImages(2, 16, 16, 11);
    const out = applyOp('Rotate', images, tf.tensor1d([1.5, 1.5]), { sign: tf.tensor1d([1, -1]) });
    const expected = rotate(images, tf.tensor1d([45, -45]), 'bilinear', 0);
    assert.ok(tf.max(tf.abs(tf.sub(out, expected))).dataSync()[0]! < 1e-3);
    tf.dispose([images, out, expected]);
  });

  it('the 8-bit layer pass equals the quantized tensor ops at magnitudes 1.25 to 3, every op', () => {
    const images = randomImages(16, 12, 12, 12);
    const ops = [...DRA_OP_NAMES];
    const rng = new Rng(13);
    const plans = [0, 1].map(() => ({
      opIndex: Int32Array.from({ length: 16 }, (_, i) => i),
      magnitude: Float32Array.from({ length: 16 }, () => 1.25 + 1.75 * rng.next()),
      sign: rng.signs(16),
      cutoutCentre: rng.uniform(32),
    }));
    const fast = applyLayers(images, ops, plans);
    const reference = applyLayersComposite(images, ops, plans, {});
    const diff = tf.max(tf.abs(tf.sub(fast, reference))).dataSync()[0]!;
    assert.equal(diff, 0, `8-bit pass vs quantized tensor ops at magnitudes above 1: max difference ${diff}`);
    tf.dispose([images, fast, reference]);
  });

  it('the policy clips mu and sampled magnitudes to its scale, not to 1', async () => {
    const policy = new DraPolicy({ depth: 1, ops: ['Rotate'], magnitudeScale: 3, initialMu: 2.5, initialSigma: 0 });
    policy.mu.assign(tf.tensor2d([[3.7]]));
    policy.clip();
    await policy.refresh();
    assert.ok(Math.abs(policy.values().mu[0]! - 3) < 1e-6);
    const snapshot = policy.snapshot();
    assert.equal(snapshot.magnitudeScale, 3);
    assert.ok(Math.abs(snapshot.layers[0]!.mu[0]! - 3) < 1e-6);
    const frozen = policy.freeze();
    const draws = frozen.sample(50, new Rng(1));
    assert.ok(draws[0]!.magnitude.every((m, i) => draws[0]!.opIndex[i] === -1 || Math.abs(m - 3) < 1e-6));
    policy.dispose();
  });
});
