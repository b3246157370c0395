/**
 * The SGD host kernel (cpu and wasm) against the composite of tensor ops that every
 * other backend runs: bit-identical parameters and momentum buffers over several steps,
 * for each form of the update, several parameter shapes, and a single parameter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { hasHostKernel, runKernel, setHostKernelsEnabled } from '../../src/engine/host-kernels';
import { SGD, type SgdOptions } from '../../src/train/optim';
import { SGD_UPDATE } from '../../src/train/sgd-kernel';
import { Rng } from '../../src/util/rng';
import { initCpuAndWasm } from '../helpers/compare';

const SHAPES = [[3, 3, 2, 4], [4], [5, 3]];

function train(options: SgdOptions, shapes: number[][], host: boolean): { params: Float32Array[]; slots: Float32Array[] } {
  setHostKernelsEnabled(host);
  try {
    const rng = new Rng(11);
    const variables = shapes.map((shape) => tf.tidy(() => tf.variable(tf.tensor(rng.normal(shape.reduce((a, b) => a * b, 1)), shape))));
    const optimizer = new SGD(options);
    for (let step = 0; step < 3; step++) {
      const grads = shapes.map((shape) => tf.tensor(rng.normal(shape.reduce((a, b) => a * b, 1), 0, 2), shape));
      optimizer.learningRate = 0.1 * (step + 1);
      optimizer.applyGradients(variables, grads);
      tf.dispose(grads);
    }
    const state = optimizer.state();
    const out = { params: variables.map((v) => v.dataSync() as Float32Array), slots: state.slots.map((s) => s.dataSync() as Float32Array) };
    tf.dispose([...variables, ...state.slots]);
    optimizer.dispose();
    return out;
  } finally {
    setHostKernelsEnabled(true);
  }
}

const CASES: { name: string; options: SgdOptions }[] = [
  { name: 'plain', options: { learningRate: 0.1 } },
  { name: 'Nesterov, L2 weight decay', options: { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 } },
  { name: 'heavy ball, decoupled weight decay', options: { learningRate: 0.1, momentum: 0.8, weightDecay: 0.01, decoupledWeightDecay: true } },
];

describe('SGD host kernel', () => {
  before(async () => {
    await initCpuAndWasm();
  });
  after(async () => {
    await tf.setBackend('wasm');
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const c of CASES) {
      for (const shapes of [SHAPES, [[6]]]) {
        it(`${backend}, ${c.name}, ${shapes.length} parameter(s): bit-identical to the composite`, async () => {
          await tf.setBackend(backend);
          assert.ok(hasHostKernel(SGD_UPDATE), `no host kernel on ${backend}`);
          const count = tf.memory().numTensors;
          const host = train(c.options, shapes, true);
          const composite = train(c.options, shapes, false);
          assert.equal(tf.memory().numTensors, count, 'tensors leaked');
          assert.equal(host.slots.length, composite.slots.length);
          host.params.forEach((p, i) => assert.deepEqual(Array.from(p), Array.from(composite.params[i]!), `parameter ${i}`));
          host.slots.forEach((s, i) => assert.deepEqual(Array.from(s), Array.from(composite.slots[i]!), `momentum buffer ${i}`));
        });
      }
    }
  }

  it('refuses missing inputs and mismatched shapes, naming the parameter', async () => {
    await tf.setBackend('wasm');
    const p = tf.zeros([2]);
    const g = tf.zeros([3]);
    const attrs = { count: 1, learningRate: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, decoupledWeightDecay: false };
    assert.throws(() => runKernel(SGD_UPDATE, { p0: p, g0: p }, attrs), /DraSgdUpdate: inputs for parameter 0 are missing/);
    assert.throws(() => runKernel(SGD_UPDATE, { p0: p, g0: g, b0: p }, attrs), /parameter 0 needs float32 tensors of shape \[2\], got float32 \[3\]/);
    tf.dispose([p, g]);
  });
});
