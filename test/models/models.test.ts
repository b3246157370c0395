/**
 * Models: published parameter counts, output shapes, seeded init, BatchNorm state
 * semantics (updates pushed, not applied), the closed-form BatchNorm gradient against
 * tfjs autodiff, bad input, and tensor hygiene.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { countParameters, createModel, MODEL_NAMES } from '../../src/models';
import { allocate, batchNorm, BN_EPSILON, ParamTable } from '../../src/models/layers';
import type { StateUpdate } from '../../src/models/types';
import { Rng } from '../../src/util/rng';
import { initCpuAndWasm, maxAbsDiff } from '../helpers/compare';

const CIFAR = { numClasses: 10, inputShape: [32, 32, 3] as const };
const IMAGENET = { numClasses: 1000, inputShape: [224, 224, 3] as const };

function randomImages(n: number, h: number, w: number, c: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).uniform(n * h * w * c, 0, 255), [n, h, w, c]);
}

describe('models', () => {
  before(async () => {
    await initCpuAndWasm();
  });

  it('parameter counts match the published figures', () => {
    // WRN-28-10: 36.5M, WRN-40-2: 2.2M (Zagoruyko & Komodakis 2016, Table 1/4; the exact
    // 36,479,194 and 2,243,546 are what the authors' PyTorch code reports for CIFAR-10).
    assert.equal(countParameters('wrn-28-10', CIFAR), 36_479_194);
    assert.equal(countParameters('wrn-40-2', CIFAR), 2_243_546);
    // ResNet-20: 0.27M (He et al. 2016, Table 6), with the parameter-free option-A shortcuts.
    assert.equal(countParameters('resnet-20', CIFAR), 269_722);
    // ResNet-18: 11.7M, ResNet-50: 25.6M (torchvision.models, 1000 classes: 11,689,512 and 25,557,032).
    assert.equal(countParameters('resnet-18', IMAGENET), 11_689_512);
    assert.equal(countParameters('resnet-50', IMAGENET), 25_557_032);
    const tiny = countParameters('tiny-cnn', CIFAR);
    assert.ok(tiny >= 10_000 && tiny <= 50_000, `tiny-cnn has ${tiny} parameters`);
  });

  it('BatchNorm without affine parameters drops exactly gamma and beta', () => {
    // resnet-20 has 19 BatchNorm layers: 1 stem + 18 in the blocks (16 + 32 + 64 channels x 6 each).
    const bnChannels = 16 + 6 * (16 + 32 + 64);
    assert.equal(countParameters('resnet-20', CIFAR) - countParameters('resnet-20', { ...CIFAR, affineBatchNorm: false }), 2 * bnChannels);
  });

  for (const [name, shape] of [['tiny-cnn', [32, 32, 3]], ['resnet-20', [32, 32, 3]], ['wrn-16-2', [32, 32, 3]], ['wrn-40-2', [32, 32, 3]], ['resnet-18', [64, 64, 3]], ['resnet-50', [64, 64, 3]], ['tiny-cnn', [28, 28, 1]]] as const) {
    it(`${name} on [${shape}]: logits shape, variable sizes, no leaks`, async () => {
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const model = createModel(name, { numClasses: 7, inputShape: shape, seed: 3 });
      const sizes = model.trainableVariables.reduce((n, v) => n + v.size, 0);
      assert.equal(sizes, model.parameterCount());
      assert.equal(sizes, countParameters(name, { numClasses: 7, inputShape: shape }));
      const images = randomImages(2, shape[0], shape[1], shape[2], 1);
      const afterBuild = tf.memory().numTensors;
      const updates: StateUpdate[] = [];
      const logits = model.apply(images, { training: true, stateUpdates: updates });
      assert.deepEqual(logits.shape, [2, 7]);
      const values = await logits.data();
      assert.ok(Array.from(values).every(Number.isFinite));
      assert.equal(updates.length, model.stateVariables.length, 'one update per running statistic');
      tf.dispose([logits, ...updates.map((u) => u.value)]);
      const evalLogits = model.apply(images, { training: false });
      evalLogits.dispose();
      assert.equal(tf.memory().numTensors, afterBuild, 'apply leaked tensors');
      images.dispose();
      model.dispose();
      assert.equal(tf.memory().numTensors, before, 'dispose left tensors behind');
    });
  }

  it('the same seed gives the same weights, another seed other weights', () => {
    const a = createModel('tiny-cnn', { ...CIFAR, seed: 5 });
    const b = createModel('tiny-cnn', { ...CIFAR, seed: 5 });
    const c = createModel('tiny-cnn', { ...CIFAR, seed: 6 });
    a.trainableVariables.forEach((v, i) => assert.deepEqual(v.dataSync(), b.trainableVariables[i]!.dataSync()));
    assert.notDeepEqual(a.trainableVariables[0]!.dataSync(), c.trainableVariables[0]!.dataSync());
    // He normal over fan-out: the stem's std is sqrt(2 / (3 * 3 * 16)).
    const w = Array.from(a.trainableVariables[0]!.dataSync());
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    assert.ok(Math.abs(std - Math.sqrt(2 / 144)) < 0.15 * Math.sqrt(2 / 144), `stem std ${std}`);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('bad input is refused with a message naming what was wrong', () => {
    assert.throws(() => createModel('resnet-21', CIFAR), /unknown model 'resnet-21'; expected one of wrn-28-10/);
    assert.throws(() => createModel('tiny-cnn', { numClasses: 1, inputShape: [32, 32, 3] }), /numClasses must be an integer >= 2/);
    const model = createModel('tiny-cnn', CIFAR);
    const wrong = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    assert.throws(() => model.apply(wrong, { training: false }), /expects images \[N, 32, 32, 3\], got \[2, 16, 16, 3\]/);
    wrong.dispose();
    model.dispose();
    assert.equal(MODEL_NAMES.length, 7);
  });
});

describe('BatchNorm layer', () => {
  before(async () => {
    await initCpuAndWasm();
    await tf.setBackend('cpu');
  });

  function makeLayer(affine: boolean, channels: number) {
    const table = new ParamTable();
    const layer = batchNorm(table, 'bn', channels, affine);
    const params = allocate(table, 'bn-test', 1);
    return { layer, params };
  }

  it('training mode normalises with batch statistics and pushes PyTorch-style running updates without applying them', () => {
    const channels = 3;
    const { layer, params } = makeLayer(false, channels);
    const [runningMean, runningVar] = params as [tf.Variable, tf.Variable];
    runningMean.assign(tf.tensor1d([1, 2, 3]));
    const xValues = new Rng(2).normal(4 * 2 * 2 * channels, 5, 3);
    const x = tf.tensor4d(xValues, [4, 2, 2, channels]);
    const updates: StateUpdate[] = [];
    const y = layer({ params, training: true, stateUpdates: updates }, x);
    const count = 16;
    const yValues = y.dataSync();
    for (let c = 0; c < channels; c++) {
      const column = Array.from({ length: count }, (_, i) => xValues[i * channels + c]!);
      const mean = column.reduce((a, b) => a + b, 0) / count;
      const biased = column.reduce((a, b) => a + (b - mean) ** 2, 0) / count;
      for (let i = 0; i < count; i++) {
        const expected = (column[i]! - mean) / Math.sqrt(biased + BN_EPSILON);
        assert.ok(Math.abs(yValues[i * channels + c]! - expected) < 1e-4, `y[${i}, ${c}]`);
      }
      assert.ok(Math.abs(updates[0]!.value.dataSync()[c]! - (0.9 * (c + 1) + 0.1 * mean)) < 1e-4, 'running mean update');
      assert.ok(Math.abs(updates[1]!.value.dataSync()[c]! - (0.9 * 1 + 0.1 * biased * count / (count - 1))) < 1e-4, 'running variance update (unbiased)');
    }
    assert.equal(updates[0]!.variable, runningMean);
    assert.equal(updates[1]!.variable, runningVar);
    assert.deepEqual(Array.from(runningMean.dataSync()), [1, 2, 3], 'running mean must not change before commit');
    const evalY = layer({ params, training: false, stateUpdates: undefined }, x);
    const expected0 = (xValues[0]! - 1) / Math.sqrt(1 + BN_EPSILON);
    assert.ok(Math.abs(evalY.dataSync()[0]! - expected0) < 1e-4, 'eval mode uses running statistics');
    tf.dispose([x, y, evalY, ...updates.map((u) => u.value), ...params]);
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const affine of [true, false]) {
      it(`the closed-form backward pass matches tfjs autodiff of the textbook formula (${backend}, ${affine ? 'with' : 'without'} affine)`, async () => {
        await tf.setBackend(backend);
        try {
          const channels = 4;
          const { layer, params } = makeLayer(affine, channels);
          if (affine) {
            params[0]!.assign(tf.tensor1d([0.5, 1.5, -1, 2]));
            params[1]!.assign(tf.tensor1d([0.1, -0.2, 0.3, 0]));
          }
          const rng = new Rng(9);
          const x = tf.tensor4d(rng.normal(3 * 3 * 2 * channels, 1, 2), [3, 3, 2, channels]);
          const weights = tf.tensor4d(rng.normal(3 * 3 * 2 * channels), [3, 3, 2, channels]);
          const state = affine ? params.slice(2) : params;
          const ours = tf.grads((xi: tf.Tensor, ...gb: tf.Tensor[]) => {
            const p = [...gb, ...state] as tf.Variable[];
            return tf.sum(tf.mul(layer({ params: p, training: true, stateUpdates: undefined }, xi as tf.Tensor4D), weights));
          })(affine ? [x, params[0]!, params[1]!] : [x]);
          const reference = tf.grads((xi: tf.Tensor, ...gb: tf.Tensor[]) => {
            const mean = tf.mean(xi, [0, 1, 2]);
            const variance = tf.mean(tf.square(tf.sub(xi, mean)), [0, 1, 2]);
            const normalised = tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, BN_EPSILON)));
            const y = affine ? tf.add(tf.mul(normalised, gb[0]!), gb[1]!) : normalised;
            return tf.sum(tf.mul(y, weights));
          })(affine ? [x, params[0]!, params[1]!] : [x]);
          assert.equal(ours.length, reference.length);
          ours.forEach((g, i) => {
            const { diff, scale } = maxAbsDiff(g.dataSync(), reference[i]!.dataSync());
            assert.ok(diff <= 1e-4 * Math.max(1, scale), `gradient ${i}: max diff ${diff}`);
          });
          tf.dispose([...ours, ...reference, x, weights, ...params]);
        } finally {
          await tf.setBackend('cpu');
        }
      });
    }
  }
});
