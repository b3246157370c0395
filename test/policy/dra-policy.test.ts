/**
 * The learnable DRA policy: sampling statistics, replayable draws, gradients reaching
 * every parameter (checked against hand-derived and finite-difference values), clipping,
 * ablation switches, snapshots and freezing.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import '../../src/engine/gradients';
import { DraPolicy } from '../../src/policy/dra';
import { DRA_OP_NAMES } from '../../src/ops/names';
import { Rng } from '../../src/util/rng';
import { validatePolicy } from '../../src/policy/schema';

function randomImages(n: number, h: number, w: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from(rng.uniform(n * h * w * 3), (v) => Math.round(v * 255)), [n, h, w, 3]);
}

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
});

describe('DraPolicy sampling', () => {
  it('initialises w, mu, sigma as the reference does', () => {
    const p = new DraPolicy();
    assert.deepEqual(p.weights.shape, [2, 16]);
    const snap = p.snapshot();
    for (const layer of snap.layers) {
      assert.ok(layer.weights.every((v) => Math.abs(v - 1e-3) < 1e-9));
      assert.ok(layer.probabilities.every((v) => Math.abs(v - 1 / 16) < 1e-9));
      assert.ok(layer.mu.every((v) => Math.abs(v - 0.5) < 1e-7));
      assert.ok(layer.sigma.every((v) => Math.abs(v - 0.1) < 1e-7));
    }
    p.dispose();
  });

  it('hard Gumbel choices follow softmax(w) and the gate follows U(0.2, 0.8)', () => {
    const p = new DraPolicy({ depth: 1, ops: ['Identity', 'Invert', 'Brightness'] });
    p.setValues({ weights: [[Math.log(0.6), Math.log(0.3), Math.log(0.1)]], mu: [[0.5, 0.5, 0.5]], sigma: [[0.1, 0.1, 0.1]] });
    const rng = new Rng(3);
    const n = 20000;
    const draw = p.sample(n, rng);
    const w = p.weights.dataSync() as Float32Array;
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < 3; j++) if (w[j]! + draw.gumbel[0]![i * 3 + j]! > w[best]! + draw.gumbel[0]![i * 3 + best]!) best = j;
      counts[best]!++;
    }
    // Gumbel-max gives exact Categorical(softmax(w)) samples; 4 standard errors of slack.
    [0.6, 0.3, 0.1].forEach((q, j) => assert.ok(Math.abs(counts[j]! / n - q) < 4 * Math.sqrt((q * (1 - q)) / n), `op ${j}: ${counts[j]! / n} vs ${q}`));
    const applied = draw.applied[0]!.reduce((a, b) => a + b, 0) / n;
    assert.ok(Math.abs(applied - 0.5) < 0.015, `apply rate ${applied} should be E[U(0.2, 0.8)] = 0.5`);
    p.dispose();
  });

  it('a draw replays to the same augmentation, and the same seed gives the same draw', () => {
    const p = new DraPolicy();
    const x = randomImages(6, 12, 10, 1);
    const w = p.weights.dataSync() as Float32Array;
    const a = tf.tidy(() => p.augmentWith(x, p.sample(6, new Rng(9)), w));
    const b = tf.tidy(() => p.augmentWith(x, p.sample(6, new Rng(9)), w));
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    assert.deepEqual(a.shape, [6, 12, 10, 3]);
    tf.dispose([a, b, x]);
    p.dispose();
  });

  it('augmenting leaks no tensors', () => {
    const p = new DraPolicy();
    const x = randomImages(8, 16, 16, 2);
    const rng = new Rng(4);
    const w = p.weights.dataSync() as Float32Array;
    tf.dispose(tf.tidy(() => p.augmentWith(x, p.sample(8, rng), w)));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const g = tf.variableGrads(() => tf.mean(p.augmentWith(x, p.sample(8, rng), w)), p.trainableVariables);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    }
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    p.dispose();
  });
});

describe('DraPolicy gradients', () => {
  it('every parameter of the chosen ops receives a finite, non-zero gradient', () => {
    const p = new DraPolicy({ applyProbability: [1, 1] });
    const x = randomImages(32, 16, 16, 5);
    const r = randomImages(32, 16, 16, 6);
    const w = p.weights.dataSync() as Float32Array;
    const draw = p.sample(32, new Rng(7));
    const g = tf.variableGrads(() => tf.mean(tf.mul(p.augmentWith(x, draw, w), r)), p.trainableVariables);
    for (const v of p.trainableVariables) {
      const values = g.grads[v.name]!.dataSync();
      assert.ok(values.every(Number.isFinite), `${v.name}: non-finite gradient`);
      assert.ok(values.some((e) => Math.abs(e) > 0), `${v.name}: all-zero gradient`);
    }
    // Every weight gets a gradient through the soft sample, chosen or not.
    const gw = g.grads[p.weights.name]!.dataSync();
    assert.ok(gw.every((e) => e !== 0), 'some selecting weight got no gradient');
    tf.dispose([g.value, ...Object.values(g.grads), x, r]);
    p.dispose();
  });

  it('d/dmu of a Brightness layer matches the straight-through formula', () => {
    // One op, always applied, sigma = 0: out = x_m * f with f = 1 + 0.9 s m, x_m = x + m - sg(m).
    // dL/dm = sum(r * f) (straight-through path) + sum(r * x) * 0.9 s (the op's factor path).
    const p = new DraPolicy({ depth: 1, ops: ['Brightness'], applyProbability: [1, 1], initialSigma: 0, initialMu: 0.3 });
    const x = tf.tidy(() => tf.div(randomImages(4, 8, 8, 8), 2)) as tf.Tensor4D; // keep x f inside [0, 255]: no clamp
    const r = tf.tidy(() => tf.sub(tf.div(randomImages(4, 8, 8, 9), 255), 0.5));
    const w = p.weights.dataSync() as Float32Array;
    const draw = p.sample(4, new Rng(1));
    const g = tf.variableGrads(() => tf.sum(tf.mul(p.augmentWith(x, draw, w), r)), [p.mu]);
    const got = g.grads[p.mu.name]!.dataSync()[0]!;
    const xs = x.dataSync();
    const rs = r.dataSync();
    const size = 8 * 8 * 3;
    let expected = 0;
    for (let i = 0; i < 4; i++) {
      const s = draw.sign[0]![i]!;
      const f = 1 + 0.9 * s * 0.3;
      for (let k = 0; k < size; k++) expected += rs[i * size + k]! * (f + 0.9 * s * xs[i * size + k]!);
    }
    assert.ok(Math.abs(got - expected) <= 1e-3 * Math.abs(expected), `dL/dmu ${got} vs ${expected}`);
    tf.dispose([g.value, ...Object.values(g.grads), x, r]);
    p.dispose();
  });

  it('d/dw equals the gradient of the soft relaxation (central finite differences)', () => {
    const ops = ['Invert', 'Identity', 'Brightness'] as const;
    const p = new DraPolicy({ depth: 1, ops: [...ops], applyProbability: [1, 1], initialSigma: 0, temperature: 0.7 });
    p.setValues({ weights: [[0.2, -0.1, 0.05]], mu: [[0.5, 0.5, 0.4]], sigma: [[0, 0, 0]] });
    const x = randomImages(3, 6, 6, 11);
    const r = tf.tidy(() => tf.sub(tf.div(randomImages(3, 6, 6, 12), 255), 0.5));
    const w0 = Float32Array.from(p.weights.dataSync());
    const draw = p.sample(3, new Rng(2));
    const g = tf.variableGrads(() => tf.sum(tf.mul(p.augmentWith(x, draw, w0), r)), [p.weights]);
    const got = Array.from(g.grads[p.weights.name]!.dataSync());
    // Forward values of the chosen op's output y_i (fixed), then the soft objective
    // L(w) = sum_i sum(r_i * (y_i s_c(w) + sum_{j != c} s_j(w))), s = softmax((w + g_i) / tau).
    const y = tf.tidy(() => p.augmentWith(x, draw, w0));
    const yv = y.dataSync();
    const rv = r.dataSync();
    const size = 6 * 6 * 3;
    const chosen: number[] = [];
    for (let i = 0; i < 3; i++) {
      let best = 0;
      for (let j = 1; j < 3; j++) if (w0[j]! + draw.gumbel[0]![i * 3 + j]! > w0[best]! + draw.gumbel[0]![i * 3 + best]!) best = j;
      chosen.push(best);
    }
    const soft = (wv: number[]): number => {
      let total = 0;
      for (let i = 0; i < 3; i++) {
        const z = wv.map((v, j) => (v + draw.gumbel[0]![i * 3 + j]!) / 0.7);
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, b) => a + b, 0);
        const s = e.map((v) => v / sum);
        let ry = 0;
        let rsum = 0;
        for (let k = 0; k < size; k++) {
          ry += rv[i * size + k]! * yv[i * size + k]!;
          rsum += rv[i * size + k]!;
        }
        s.forEach((sj, j) => (total += j === chosen[i] ? sj * ry : sj * rsum));
      }
      return total;
    };
    const h = 1e-3;
    const base = Array.from(w0);
    base.forEach((_, j) => {
      const plus = [...base];
      const minus = [...base];
      plus[j]! += h;
      minus[j]! -= h;
      const fd = (soft(plus) - soft(minus)) / (2 * h);
      assert.ok(Math.abs(got[j]! - fd) <= 2e-3 * Math.max(1, Math.abs(fd)), `dL/dw[${j}] ${got[j]} vs finite difference ${fd}`);
    });
    tf.dispose([g.value, ...Object.values(g.grads), x, r, y]);
    p.dispose();
  });

  it('with operator gradients off every op is straight-through to its input', () => {
    const p = new DraPolicy({ depth: 1, ops: ['Invert'], applyProbability: [1, 1], operatorGradients: false });
    const x = randomImages(2, 5, 5, 13);
    const w = p.weights.dataSync() as Float32Array;
    const draw = p.sample(2, new Rng(3));
    const gx = tf.grad((img: tf.Tensor) => tf.sum(p.augmentWith(img as tf.Tensor4D, draw, w)))(x);
    // Invert's exact gradient is -1; straight-through passes +1.
    assert.ok(gx.dataSync().every((v) => Math.abs(v - 1) < 1e-5));
    const p2 = new DraPolicy({ depth: 1, ops: ['Invert'], applyProbability: [1, 1] });
    const gx2 = tf.grad((img: tf.Tensor) => tf.sum(p2.augmentWith(img as tf.Tensor4D, draw, w)))(x);
    assert.ok(gx2.dataSync().every((v) => Math.abs(v + 1) < 1e-5));
    tf.dispose([x, gx, gx2]);
    p.dispose();
    p2.dispose();
  });

  it('one Adam step on mu moves it in the direction that lowers the loss', () => {
    // Loss = -mean(Brightness(x)): brighter lowers it, so mu must grow.
    const p = new DraPolicy({ depth: 1, ops: ['Brightness'], applyProbability: [1, 1], initialSigma: 0 });
    const x = tf.tidy(() => tf.div(randomImages(8, 8, 8, 14), 2)) as tf.Tensor4D;
    const rng = new Rng(5);
    const w = p.weights.dataSync() as Float32Array;
    let draw = p.sample(8, rng);
    draw = { ...draw, sign: [new Float32Array(8).fill(1)] };
    const optimizer = tf.train.adam(0.01);
    optimizer.minimize(() => tf.neg(tf.mean(p.augmentWith(x, draw, w))) as tf.Scalar, false, [p.mu]);
    assert.ok(p.mu.dataSync()[0]! > 0.5, `mu ${p.mu.dataSync()[0]} should exceed 0.5`);
    optimizer.dispose();
    x.dispose();
    p.dispose();
  });
});

describe('DraPolicy parameters and snapshots', () => {
  it('clip keeps mu in [0, scale] and sigma in [0, 1]', () => {
    const p = new DraPolicy({ depth: 1, ops: ['Rotate', 'Invert'] });
    p.setValues({ weights: [[0, 0]], mu: [[1.4, -0.2]], sigma: [[-0.1, 1.3]] });
    p.clip();
    assert.deepEqual(Array.from(p.mu.dataSync()), [1, 0]);
    assert.deepEqual(Array.from(p.sigma.dataSync()), [0, 1]);
    p.dispose();
  });

  it('ablation switches decide which variables are trainable', () => {
    const p = new DraPolicy({ learnWeights: false, learnSigma: false });
    assert.deepEqual(p.trainableVariables, [p.mu]);
    p.dispose();
  });

  it('snapshot is a valid policy file and freeze samples from it', () => {
    const p = new DraPolicy();
    const snap = p.snapshot({ step: 3 });
    const file = validatePolicy(JSON.parse(JSON.stringify(snap)));
    assert.deepEqual(file.ops, [...DRA_OP_NAMES]);
    const frozen = p.freeze();
    const x = randomImages(4, 8, 8, 15);
    const a = frozen.apply(x, new Rng(1));
    const b = frozen.apply(x, new Rng(1));
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    tf.dispose([a, b, x]);
    p.dispose();
  });

  it('rejects an invalid configuration with the field named', () => {
    assert.throws(() => new DraPolicy({ temperature: 0 }), /temperature: must be > 0/);
    assert.throws(() => new DraPolicy({ applyProbability: [0.9, 0.1] }), /applyProbability/);
    assert.throws(() => new DraPolicy({ depth: 0 }), /depth/);
  });
});
