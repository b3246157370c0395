/**
 * Final training with a frozen policy (DRA, RandAugment, TrivialAugment or none) and
 * evaluation on the held-out split. Same optimiser family as the search's model step:
 * SGD with Nesterov momentum, weight decay, cosine schedule, gradient-norm clip.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchSampler, toTensors } from '../data';
import type { Dataset, ImageSet } from '../data/types';
import { createModel } from '../models';
import type { Model } from '../models/types';
import type { FrozenPolicy } from '../policy/frozen';
import { Rng } from '../util/rng';
import { resolveSettings } from '../util/settings';
import { TRAIN_DEFAULTS, trainSettingsSchema, type TrainSettings } from './config';
import { SGD } from './optim';
import { cosineLearningRate } from './schedule';
import { BatchPipeline } from './batches';
import { trainStep } from './step';

/** Final training's settings (./config) and two run hooks. */
export interface TrainOptions extends TrainSettings {
  /** Called after every epoch with its summary; throwing stops training. */
  onEpoch?: (epoch: EpochSummary) => void | Promise<void>;
  signal?: AbortSignal;
}

export { TRAIN_DEFAULTS };

export interface EpochSummary {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  /** NaN for an epoch without evaluation (see evaluateEvery). */
  testLoss: number;
  testAccuracy: number;
  seconds: number;
}

export interface TrainResult {
  format: 'dralab.train-result';
  data: string;
  model: string;
  policy: string;
  seed: number;
  epochs: EpochSummary[];
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  backend?: string;
}

/** Accuracy and mean cross-entropy of a model on a labelled set (inference mode, batched). */
export async function evaluate(model: Model, set: ImageSet, batchSize = 256): Promise<{ accuracy: number; loss: number }> {
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < set.count; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, set.count - start) }, (_, i) => start + i);
    const { images, labels } = toTensors(set, indices);
    const stats = tf.tidy(() => {
      const logits = model.apply(images, { training: false });
      const oneHot = tf.oneHot(labels, model.numClasses);
      const loss = tf.sum(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
      return tf.stack([loss, hits]);
    });
    const [l, h] = await stats.data();
    lossSum += l!;
    correct += h!;
    tf.dispose([images, labels, stats]);
  }
  return { accuracy: correct / set.count, loss: lossSum / set.count };
}

/** Trains a fresh model on dataset.train augmented by `policy`, evaluating on dataset.test after each epoch. */
export async function trainWithPolicy(dataset: Dataset, policy: FrozenPolicy, policyName: string, options: Partial<TrainOptions> = {}): Promise<TrainResult> {
  const { onEpoch, signal, ...settings } = options;
  const o: TrainOptions = { ...resolveSettings('training settings', trainSettingsSchema, settings), ...(onEpoch ? { onEpoch } : {}), ...(signal ? { signal } : {}) };
  const rng = new Rng(o.seed);
  const { height, width, channels } = dataset.train;
  const model = createModel(o.model, { numClasses: dataset.numClasses, inputShape: [height, width, channels], affineBatchNorm: true, seed: rng.nextUint32() });
  const optimizer = new SGD({ learningRate: o.learningRate, momentum: o.momentum, nesterov: true, weightDecay: o.weightDecay });
  const sampler = new BatchSampler(dataset.train.count, { batchSize: o.batchSize, seed: rng.nextUint32() });
  const stepsPerEpoch = sampler.batchesPerEpoch;
  const totalSteps = stepsPerEpoch * o.epochs;
  const started = performance.now();
  const epochs: EpochSummary[] = [];
  const batches = new BatchPipeline(dataset.train, policy, sampler, rng, { cropFlip: o.randomCropFlip, cutout: o.cutout, prefetch: o.prefetch });
  let step = 0;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let accSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (o.signal?.aborted) throw new Error('training aborted');
        optimizer.learningRate = cosineLearningRate(o.learningRate, epoch * stepsPerEpoch + s, totalSteps);
        const { images, labels } = await batches.take(step + 1 < totalSteps);
        step++;
        const { loss, accuracy } = await trainStep(model, optimizer, images, labels, { clipNorm: o.gradClipNorm });
        tf.dispose([images, labels]);
        lossSum += loss;
        accSum += accuracy;
      }
      const evaluated = (epoch + 1) % o.evaluateEvery === 0 || epoch === o.epochs - 1;
      const test = evaluated ? await evaluate(model, dataset.test) : { loss: NaN, accuracy: NaN };
      const summary: EpochSummary = { epoch: epoch + 1, trainLoss: lossSum / stepsPerEpoch, trainAccuracy: accSum / stepsPerEpoch, testLoss: test.loss, testAccuracy: test.accuracy, seconds: (performance.now() - epochStart) / 1000 };
      epochs.push(summary);
      await o.onEpoch?.(summary);
    }
  } finally {
    await batches.close();
    model.dispose();
    optimizer.dispose();
  }
  const last = epochs[epochs.length - 1]!;
  return { format: 'dralab.train-result', data: dataset.spec, model: o.model, policy: policyName, seed: o.seed, epochs, testAccuracy: last.testAccuracy, testLoss: last.testLoss, seconds: (performance.now() - started) / 1000 };
}
