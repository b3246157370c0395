/**
 * trainStep on wasm: one step lowers the loss on its batch, BatchNorm statistics are
 * committed once per step, a non-finite loss leaves everything untouched, and the
 * tensor count stays flat over 20 steps.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../../src/models';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { crossEntropy } from '../../src/train/losses';
import { Rng } from '../../src/util/rng';
import { initCpuAndWasm } from '../helpers/compare';

function batch(n: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const rng = new Rng(seed);
  return {
    images: tf.tensor4d(rng.uniform(n * 16 * 16 * 3, 0, 255), [n, 16, 16, 3]),
    labels: tf.tensor1d(Array.from({ length: n }, () => rng.int(4)), 'int32'),
  };
}

describe('trainStep', () => {
  before(async () => {
    await initCpuAndWasm();
  });

  it('one step lowers the loss on its batch and commits BatchNorm statistics', async () => {
    const model = createModel('tiny-cnn', { numClasses: 4, inputShape: [16, 16, 3], seed: 1 });
    const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const { images, labels } = batch(16, 2);
    const lossNow = () => tf.tidy(() => crossEntropy(model.apply(images, { training: true }), labels).dataSync()[0]!);
    const before = lossNow();
    const runningMean = model.stateVariables[0]!;
    assert.deepEqual(Array.from(runningMean.dataSync()).every((v) => v === 0), true);
    const result = await trainStep(model, optimizer, images, labels, { clipNorm: 5 });
    assert.ok(Math.abs(result.loss - before) < 1e-4, `reported loss ${result.loss} is the pre-update loss ${before}`);
    assert.ok(result.accuracy >= 0 && result.accuracy <= 1);
    const after = lossNow();
    assert.ok(after < before, `loss ${before} -> ${after}`);
    assert.ok(Array.from(runningMean.dataSync()).some((v) => v !== 0), 'running mean was committed');
    tf.dispose([images, labels]);
    model.dispose();
    optimizer.dispose();
  });

  it('a non-finite loss throws and changes no variable', async () => {
    const model = createModel('tiny-cnn', { numClasses: 4, inputShape: [16, 16, 3], seed: 1 });
    const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9 });
    const { labels } = batch(4, 3);
    const images = tf.fill([4, 16, 16, 3], Number.NaN) as tf.Tensor4D;
    const snapshot = [...model.trainableVariables, ...model.stateVariables].map((v) => Array.from(v.dataSync()));
    const count = tf.memory().numTensors;
    await assert.rejects(trainStep(model, optimizer, images, labels), /non-finite loss \(NaN\); the step was rejected and nothing changed/);
    assert.equal(tf.memory().numTensors, count);
    [...model.trainableVariables, ...model.stateVariables].forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), snapshot[i]));
    tf.dispose([images, labels]);
    model.dispose();
    optimizer.dispose();
  });

  it('numTensors stays flat over 20 steps (resnet-20 and tiny-cnn)', async () => {
    for (const name of ['tiny-cnn', 'resnet-20']) {
      const model = createModel(name, { numClasses: 4, inputShape: [16, 16, 3], seed: 4, affineBatchNorm: name === 'tiny-cnn' });
      const optimizer = new SGD({ learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const { images, labels } = batch(4, 5);
      await trainStep(model, optimizer, images, labels, { clipNorm: 5 });
      const count = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) await trainStep(model, optimizer, images, labels, { clipNorm: 5 });
      assert.equal(tf.memory().numTensors, count, `${name} leaked tensors`);
      tf.dispose([images, labels]);
      model.dispose();
      optimizer.dispose();
    }
  });
});
