/**
 * Final training's batches with the augmentation on a worker thread (src/train/batches.ts,
 * prefetch.ts): the same bytes as the training thread's own pass and as the pipeline
 * before prefetching existed (toTensors, Cutout centres, policy.apply, cutoutSquares, in
 * that order from one Rng), the same training run with and without prefetching, no leaked
 * tensors, and worker threads that do not keep Node alive.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { BatchSampler, cropPaddingFor, loadDataset, toTensors } from '../../src/data';
import type { Dataset } from '../../src/data/types';
import { cutoutSquares, drawCutoutCentres } from '../../src/ops/cutout';
import { parsePolicyString, type FrozenPolicy } from '../../src/policy/frozen';
import { BatchPipeline } from '../../src/train/batches';
import { trainWithPolicy } from '../../src/train/train';
import { Rng } from '../../src/util/rng';

const CUTOUT = 8;

/** The batches as final training made them before the pipeline existed. */
function referenceBatches(dataset: Dataset, policy: FrozenPolicy, seed: number, count: number): Array<{ images: Float32Array; labels: Int32Array }> {
  const rng = new Rng(seed);
  const sampler = new BatchSampler(dataset.train.count, { batchSize: 16, seed: 5 });
  const out = [];
  for (let i = 0; i < count; i++) {
    const { images, labels } = toTensors(dataset.train, sampler.next(), { rng, padding: cropPaddingFor(dataset.train.height) });
    const centres = drawCutoutCentres(rng, images.shape[0], dataset.train.height, dataset.train.width);
    const augmented = tf.tidy(() => cutoutSquares(policy.apply(images, rng), CUTOUT, centres));
    out.push({ images: augmented.dataSync() as Float32Array, labels: labels.dataSync() as Int32Array });
    tf.dispose([images, labels, centres, augmented]);
  }
  return out;
}

async function pipelineBatches(dataset: Dataset, policy: FrozenPolicy, seed: number, count: number, prefetch: boolean): Promise<{ batches: Array<{ images: Float32Array; labels: Int32Array }>; prefetching: boolean; leaked: number }> {
  const pipeline = new BatchPipeline(dataset.train, policy, new BatchSampler(dataset.train.count, { batchSize: 16, seed: 5 }), new Rng(seed), { cropFlip: true, cutout: CUTOUT, prefetch });
  const batches = [];
  let tensors = 0;
  try {
    for (let i = 0; i < count; i++) {
      if (i === 1) tensors = tf.memory().numTensors;
      const { images, labels } = await pipeline.take(i + 1 < count);
      batches.push({ images: images.dataSync() as Float32Array, labels: labels.dataSync() as Int32Array });
      tf.dispose([images, labels]);
    }
  } finally {
    await pipeline.close();
  }
  return { batches, prefetching: pipeline.prefetching, leaked: tf.memory().numTensors - tensors };
}

describe('final training batches on a worker thread', { timeout: 600_000 }, () => {
  let dataset: Dataset;
  before(async () => {
    await selectBackend({ backend: 'wasm', reselect: true });
    dataset = await loadDataset('synthetic:colour', { seed: 1, trainCount: 96, testCount: 16 });
  });

  for (const name of ['rand-m9-n2-mstd0.5', 'trivial', 'none']) {
    it(`${name}: the worker's batches are the training thread's and the old pipeline's, byte for byte`, async () => {
      const policy = parsePolicyString(name);
      const reference = referenceBatches(dataset, policy, 3, 8);
      const here = await pipelineBatches(dataset, policy, 3, 8, false);
      const worker = await pipelineBatches(dataset, policy, 3, 8, true);
      assert.equal(here.prefetching, false);
      assert.equal(worker.prefetching, true);
      for (let i = 0; i < reference.length; i++) {
        assert.deepEqual(Buffer.from(here.batches[i]!.images.buffer), Buffer.from(reference[i]!.images.buffer), `batch ${i}: training thread vs before`);
        assert.deepEqual(Buffer.from(worker.batches[i]!.images.buffer), Buffer.from(reference[i]!.images.buffer), `batch ${i}: worker vs before`);
        assert.deepEqual(worker.batches[i]!.labels, reference[i]!.labels);
      }
      assert.equal(here.leaked, 0, 'tensors leaked without prefetching');
      assert.equal(worker.leaked, 0, 'tensors leaked with prefetching');
    });
  }

  it('a training run gives the same losses and accuracy with and without prefetching', async () => {
    const settings = { model: 'tiny-cnn', epochs: 2, batchSize: 16, randomCropFlip: true, cutout: CUTOUT, seed: 4 };
    const policy = parsePolicyString('rand-m9-n2-mstd0.5');
    const off = await trainWithPolicy(dataset, policy, 'rand', { ...settings, prefetch: false });
    const on = await trainWithPolicy(dataset, policy, 'rand', { ...settings, prefetch: true });
    assert.deepEqual(on.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.testLoss, e.testAccuracy]), off.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.testLoss, e.testAccuracy]));
  });
});
