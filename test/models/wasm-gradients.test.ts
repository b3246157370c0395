/**
 * A whole training loss differentiated on wasm (with its training kernels: patch-matrix
 * filter gradients, strided input gradients, storage-sharing Identity and Cast, the
 * BatchNorm backward pass) against the pure-JS cpu backend, parameter by parameter.
 * Same seed, same weights and batch on both; float32 sums in different orders over
 * twenty layers stay within 5e-5 of each gradient's scale (measured: at most 4e-6). Run
 * with the convolutions on XNNPACK and, where the native addon is built, on oneDNN.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadOneDnn } from '../../src/backend/onednn';
import { createModel } from '../../src/models';
import { crossEntropy } from '../../src/train/losses';
import { Rng } from '../../src/util/rng';
import { initCpuAndWasm, maxAbsDiff } from '../helpers/compare';

const TOLERANCE = 5e-5;

async function gradients(backend: string, model: string): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  const rng = new Rng(5);
  const net = createModel(model, { numClasses: 4, inputShape: [8, 8, 3], seed: 3 });
  const images = tf.tensor4d(rng.uniform(3 * 8 * 8 * 3, 0, 255), [3, 8, 8, 3]);
  const labels = tf.tensor1d([0, 3, 1], 'int32');
  const variables = [...net.trainableVariables];
  const { value, grads } = tf.variableGrads(() => crossEntropy(net.apply(images, { training: true, stateUpdates: undefined }), labels), variables);
  const out = new Map<string, Float32Array>();
  // Variable names carry a per-model counter; the parameter's own name is after the '/'.
  variables.forEach((v) => out.set(v.name.slice(v.name.indexOf('/') + 1), grads[v.name]!.dataSync() as Float32Array));
  tf.dispose([value, ...Object.values(grads), images, labels]);
  net.dispose();
  return out;
}

const engines = loadOneDnn() !== undefined || process.env.DRALAB_REQUIRE_ONEDNN === '1' ? (['xnnpack', 'onednn'] as const) : (['xnnpack'] as const);

for (const engine of engines) describe(`training gradients on wasm match cpu, convolutions on ${engine}`, () => {
  before(async () => {
    await initCpuAndWasm(engine);
  });

  for (const model of ['resnet-20', 'wrn-16-2']) {
    it(`${model}: every parameter gradient`, async () => {
      const wasm = await gradients('wasm', model);
      const cpu = await gradients('cpu', model);
      await tf.setBackend('wasm');
      assert.deepEqual([...wasm.keys()], [...cpu.keys()]);
      for (const [name, reference] of cpu) {
        const { diff, scale } = maxAbsDiff(wasm.get(name)!, reference);
        assert.ok(scale > 0, `${name}: zero gradient on cpu (nothing compared)`);
        assert.ok(diff <= TOLERANCE * scale, `${name}: max diff ${diff}, scale ${scale}`);
      }
    });
  }
});
