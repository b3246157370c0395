/**
 * Dropout (src/models/layers.ts) and its host-drawn mask (Rng.fillDropoutMask): the
 * inlined, branchless generator continues exactly the stream of nextUint32 (checked
 * element by element, including draws on both sides of 2^31), drops the stated share,
 * scales the kept values by 1 / (1 - rate); the layer gives the same mask for the same
 * seed on cpu and wasm, passes gradients through the mask, and is the identity outside
 * training.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setHostKernelsEnabled } from '../../src/engine/host-kernels';
import { dropout } from '../../src/models/layers';
import { Rng } from '../../src/util/rng';
import { initCpuAndWasm } from '../helpers/compare';

describe('dropout', () => {
  before(async () => {
    await initCpuAndWasm();
  });

  it("the mask continues the generator stream: element i drops when draw i's top 31 bits < rate * 2^31", () => {
    for (const rate of [0, 0.3, 0.5, 0.999]) {
      const fast = new Rng(42);
      const reference = new Rng(42);
      const mask = fast.fillDropoutMask(new Float32Array(10_001), rate);
      const threshold = Math.floor(rate * 2147483648);
      const kept = Math.fround(1 / (1 - rate));
      for (let i = 0; i < mask.length; i++) assert.equal(mask[i], reference.nextUint32() >>> 1 < threshold ? 0 : kept, `rate ${rate}, element ${i}`);
      assert.deepEqual(fast.state(), reference.state(), 'the generator ends where n draws leave it');
    }
  });

  it('drops the stated share of a million elements', () => {
    const mask = new Rng(7).fillDropoutMask(new Float32Array(1_000_000), 0.3);
    const dropped = mask.reduce((n, v) => n + (v === 0 ? 1 : 0), 0) / mask.length;
    assert.ok(Math.abs(dropped - 0.3) < 0.002, `dropped share ${dropped}`);
    assert.throws(() => new Rng(1).fillDropoutMask(new Float32Array(1), 1), /dropout rate must be in \[0, 1\), got 1/);
  });

  it('the layer: same seed, same mask on cpu and wasm; gradient is the mask; identity outside training', async () => {
    const shape: [number, number, number, number] = [2, 4, 4, 3];
    const values = new Rng(3).uniform(2 * 4 * 4 * 3, 0.5, 1.5);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(values, shape);
        const ctx = { params: [], training: true, stateUpdates: undefined, dropoutSeeds: new Rng(11) };
        const y = dropout(ctx, x, 0.3);
        const grad = tf.grad((t: tf.Tensor) => tf.sum(dropout({ ...ctx, dropoutSeeds: new Rng(11) }, t as tf.Tensor4D, 0.3)))(x);
        const off = dropout({ ...ctx, training: false }, x, 0.3);
        return { y: y.dataSync().slice(), grad: grad.dataSync().slice(), off: off.dataSync().slice() };
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    setHostKernelsEnabled(false);
    const uploaded = await run('wasm');
    setHostKernelsEnabled(true);
    assert.deepEqual(Array.from(uploaded.y), Array.from(cpu.y), 'the uploaded mask (backends without host kernels) is the same');
    const mask = new Rng(new Rng(11).nextUint32()).fillDropoutMask(new Float32Array(values.length), 0.3);
    assert.deepEqual(Array.from(cpu.grad), Array.from(mask), 'the gradient is the mask');
    assert.deepEqual(Array.from(wasm.y), Array.from(cpu.y), 'the same masks on both backends');
    cpu.y.forEach((v, i) => assert.equal(v, Math.fround(values[i]! * mask[i]!)));
    assert.deepEqual(Array.from(cpu.off), Array.from(values));
  });
});
