/**
 * Optimisers against their update rules evaluated by hand (float64, PyTorch's
 * formulas), state round trips, and the schedule and loss helpers against direct
 * formulas.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, SGD, type Optimizer } from '../../src/train/optim';
import { cosineLearningRate } from '../../src/train/schedule';
import { accuracy, clipByGlobalNorm, crossEntropy, globalNorm, klDivergence } from '../../src/train/losses';
import { initCpuAndWasm } from '../helpers/compare';

const P0 = [0.5, -1.25, 2.0, 0.1];
const GRADS = [[0.3, -0.2, 0.05, 1.0], [-0.1, 0.4, 0.2, -0.5], [0.25, 0.25, -0.3, 0.0]];

function run(optimizer: Optimizer, rates: number[]): number[] {
  const p = tf.variable(tf.tensor1d(P0));
  GRADS.forEach((g, i) => {
    optimizer.learningRate = rates[i]!;
    const grad = tf.tensor1d(g);
    optimizer.applyGradients([p], [grad]);
    grad.dispose();
  });
  const out = Array.from(p.dataSync());
  p.dispose();
  return out;
}

function assertClose(actual: number[], expected: number[], tolerance: number, what: string): void {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tolerance, `${what}[${i}]: ${a} vs ${expected[i]}`));
}

describe('optimisers', () => {
  before(async () => {
    await initCpuAndWasm();
    await tf.setBackend('cpu');
  });

  const rates = [0.1, 0.05, 0.2];

  it('SGD Nesterov with L2 weight decay follows torch.optim.SGD', () => {
    const momentum = 0.9;
    const wd = 5e-4;
    const p = [...P0];
    const buf = [0, 0, 0, 0];
    GRADS.forEach((g, t) => {
      for (let i = 0; i < 4; i++) {
        const d = g[i]! + wd * p[i]!;
        buf[i] = t === 0 ? d : momentum * buf[i]! + d;
        p[i] = p[i]! - rates[t]! * (d + momentum * buf[i]!);
      }
    });
    assertClose(run(new SGD({ learningRate: 1, momentum, nesterov: true, weightDecay: wd }), rates), p, 1e-6, 'sgd nesterov');
  });

  it('SGD heavy-ball momentum with decoupled weight decay', () => {
    const momentum = 0.8;
    const wd = 0.01;
    const p = [...P0];
    const buf = [0, 0, 0, 0];
    GRADS.forEach((g, t) => {
      for (let i = 0; i < 4; i++) {
        buf[i] = momentum * buf[i]! + g[i]!;
        p[i] = p[i]! * (1 - rates[t]! * wd) - rates[t]! * buf[i]!;
      }
    });
    assertClose(run(new SGD({ learningRate: 1, momentum, weightDecay: wd, decoupledWeightDecay: true }), rates), p, 1e-6, 'sgd momentum');
  });

  it('AdamW follows torch.optim.AdamW (bias correction, decoupled decay)', () => {
    const [b1, b2, eps, wd] = [0.5, 0.999, 1e-8, 0.01];
    const p = [...P0];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    GRADS.forEach((g, t) => {
      const step = t + 1;
      for (let i = 0; i < 4; i++) {
        p[i] = p[i]! * (1 - rates[t]! * wd);
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        const mHat = m[i]! / (1 - b1 ** step);
        const vHat = v[i]! / (1 - b2 ** step);
        p[i] = p[i]! - (rates[t]! * mHat) / (Math.sqrt(vHat) + eps);
      }
    });
    assertClose(run(new AdamW({ learningRate: 1, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd }), rates), p, 1e-5, 'adamw');
  });

  for (const make of [() => new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), () => new AdamW({ learningRate: 0.1, beta1: 0.5 })]) {
    it(`${make().name}: state() / loadState() resumes the exact trajectory and owns no caller tensors`, () => {
      const opt = make();
      const p = tf.variable(tf.tensor1d(P0));
      const grad = (i: number) => tf.tensor1d(GRADS[i]!);
      const step = (o: Optimizer, i: number) => {
        const g = grad(i);
        o.applyGradients([p], [g]);
        g.dispose();
      };
      step(opt, 0);
      const saved = opt.state();
      const savedParams = p.clone();
      step(opt, 1);
      step(opt, 2);
      const expected = Array.from(p.dataSync());
      const resumed = make();
      resumed.loadState(saved);
      tf.dispose(saved.slots);
      p.assign(savedParams);
      step(resumed, 1);
      step(resumed, 2);
      assert.deepEqual(Array.from(p.dataSync()), expected);
      assert.equal(resumed.state().step, 3);
      const before = tf.memory().numTensors;
      const s = resumed.state();
      tf.dispose(s.slots);
      assert.equal(tf.memory().numTensors, before, 'state() copies must be disposable by the caller');
      tf.dispose([p, savedParams]);
      opt.dispose();
      resumed.dispose();
    });
  }

  it('refuses bad settings and mismatched gradients', () => {
    assert.throws(() => new SGD({ learningRate: -1 }), /learningRate must be a finite number >= 0/);
    assert.throws(() => new SGD({ learningRate: 0.1, nesterov: true }), /nesterov needs momentum > 0/);
    assert.throws(() => new AdamW({ learningRate: 0.1, beta1: 1 }), /beta1 must be in \[0, 1\)/);
    const opt = new SGD({ learningRate: 0.1, momentum: 0.9 });
    assert.throws(() => { opt.learningRate = Number.NaN; }, /learningRate/);
    const p = tf.variable(tf.zeros([2]));
    const g = tf.zeros([3]);
    assert.throws(() => opt.applyGradients([p], [g]), /gradient 0 has shape \[3\] but variable/);
    assert.throws(() => new AdamW({ learningRate: 1 }).loadState(opt.state()), /cannot load a 'sgd' optimiser state into 'adamw'/);
    tf.dispose([p, g]);
  });
});

describe('cosine schedule', () => {
  it('decays from the base rate to the minimum along half a cosine, after a linear warmup', () => {
    assert.equal(cosineLearningRate(0.1, 0, 100), 0.1);
    assert.ok(Math.abs(cosineLearningRate(0.1, 50, 100) - 0.05) < 1e-12);
    assert.ok(Math.abs(cosineLearningRate(0.1, 25, 100) - 0.05 * (1 + Math.cos(Math.PI / 4))) < 1e-12);
    assert.equal(cosineLearningRate(0.1, 100, 100), 0);
    assert.equal(cosineLearningRate(0.1, 150, 100, { minRate: 0.001 }), 0.001);
    assert.ok(Math.abs(cosineLearningRate(0.1, 0, 100, { warmupSteps: 10 }) - 0.01) < 1e-12);
    assert.ok(Math.abs(cosineLearningRate(0.1, 9, 100, { warmupSteps: 10 }) - 0.1) < 1e-12);
    assert.equal(cosineLearningRate(0.1, 10, 100, { warmupSteps: 10 }), 0.1);
    assert.throws(() => cosineLearningRate(0.1, 0, 0), /totalSteps must be positive/);
  });
});

describe('losses', () => {
  before(async () => {
    await initCpuAndWasm();
    await tf.setBackend('cpu');
  });

  const LOGITS = [[2, 0.5, -1], [0.1, 0.2, 3], [1, 1, 1]];
  const LABELS = [0, 1, 2];
  const logSoftmax = (row: number[]) => {
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    return row.map((v) => v - lse);
  };

  it('cross-entropy, accuracy and KL match their formulas', () => {
    const logits = tf.tensor2d(LOGITS);
    const labels = tf.tensor1d(LABELS, 'int32');
    const ce = LOGITS.reduce((s, row, i) => s - logSoftmax(row)[LABELS[i]!]!, 0) / 3;
    assert.ok(Math.abs(crossEntropy(logits, labels).dataSync()[0]! - ce) < 1e-6);
    assert.ok(Math.abs(accuracy(logits, labels).dataSync()[0]! - 1 / 3) < 1e-7, 'argmax [0, 2, 0] vs labels [0, 1, 2]');
    const other = [[0, 0, 0], [1, -1, 0.5], [2, 0, 1]];
    let kl = 0;
    LOGITS.forEach((row, i) => {
      const lp = logSoftmax(row);
      const lq = logSoftmax(other[i]!);
      kl += lp.reduce((s, v, k) => s + Math.exp(v) * (v - lq[k]!), 0);
    });
    const q = tf.tensor2d(other);
    assert.ok(Math.abs(klDivergence(logits, q).dataSync()[0]! - kl / 3) < 1e-6);
    assert.ok(Math.abs(klDivergence(logits, logits).dataSync()[0]!) < 1e-6);
    assert.throws(() => crossEntropy(logits, tf.tensor1d([0, 1], 'int32')), /labels must be \[3\]/);
    tf.dispose([logits, labels, q]);
  });

  it('clipByGlobalNorm scales to the clip norm only when above it, returning new tensors', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor1d([0, 4]);
    assert.equal(globalNorm([a, b]).dataSync()[0], 5);
    const clipped = clipByGlobalNorm([a, b], 2.5);
    assert.ok(Math.abs(globalNorm(clipped).dataSync()[0]! - 2.5) < 1e-5);
    const kept = clipByGlobalNorm([a, b], 10);
    assert.deepEqual(Array.from(kept[1]!.dataSync()), [0, 4]);
    assert.notEqual(kept[0], a);
    tf.dispose([a, b, ...clipped, ...kept]);
    assert.throws(() => clipByGlobalNorm([], 0), /clipNorm must be a positive number/);
  });
});
