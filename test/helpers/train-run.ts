/**
 * A short ResNet-20 training run on the wasm backend with a given thread count and
 * convolution engine, for the tests that compare runs across them (threads, oneDNN).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { createModel } from '../../src/models';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';

export interface TrainRun {
  losses: number[];
  /** Every trainable weight afterwards, concatenated. */
  weights: Float32Array;
  /** Tensors gained from after the first step to the end (0 for a single step). */
  leaked: number;
}

/** `steps` SGD steps of a ResNet-20 from one seed (batches of 16 noise images). */
export async function trainResNet20(threads: number, convolutions: 'onednn' | 'xnnpack', steps: number): Promise<TrainRun> {
  const report = await selectBackend({ backend: 'wasm', threads, convolutions, reselect: true });
  assert.equal(report.threads, threads);
  const model = createModel('resnet-20', { numClasses: 10, inputShape: [32, 32, 3], seed: 3 });
  const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const rng = new Rng(7);
  const losses: number[] = [];
  let tensorsBefore = 0;
  for (let step = 0; step < steps; step++) {
    if (step === 1) tensorsBefore = tf.memory().numTensors;
    const images = tf.tensor4d(rng.uniform(16 * 32 * 32 * 3, 0, 1), [16, 32, 32, 3]);
    const labels = tf.tensor1d(Array.from({ length: 16 }, () => rng.int(10)), 'int32');
    losses.push((await trainStep(model, optimizer, images, labels, { clipNorm: 5 })).loss);
    tf.dispose([images, labels]);
  }
  const leaked = steps > 1 ? tf.memory().numTensors - tensorsBefore : 0;
  const weights = Float32Array.from(model.trainableVariables.flatMap((v) => Array.from(v.dataSync())));
  model.dispose();
  optimizer.dispose();
  return { losses, weights, leaked };
}

/** The largest |a[i] - b[i]|. */
export function largestDifference(a: Float32Array, b: Float32Array): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
  return largest;
}
