/**
 * One training step: forward, backward, optional gradient-norm clip, optimiser update
 * and BatchNorm running-statistic commit. Atomic: variables change only after the loss
 * was computed and found finite; every tensor it creates is disposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../backend/gradients';
import type { Model, StateUpdate } from '../models/types';
import { accuracy, clipByGlobalNorm, crossEntropy } from './losses';
import type { Optimizer } from './optim';

export interface TrainStepOptions {
  /** Clip the global gradient norm to this value (torch clip_grad_norm_); no clipping when absent. */
  clipNorm?: number;
}

export interface TrainStepResult {
  loss: number;
  accuracy: number;
}

export async function trainStep(model: Model, optimizer: Optimizer, images: tf.Tensor4D, labels: tf.Tensor1D, options: TrainStepOptions = {}): Promise<TrainStepResult> {
  if (images.shape[0] !== labels.shape[0]) throw new Error(`trainStep: ${images.shape[0]} images but ${labels.shape[0]} labels`);
  const variables = [...model.trainableVariables];
  const pending: StateUpdate[] = [];
  let stats: tf.Tensor | undefined;
  let grads: tf.Tensor[] = [];
  try {
    const result = tf.variableGrads(() => {
      const logits = model.apply(images, { training: true, stateUpdates: pending });
      const loss = crossEntropy(logits, labels);
      stats = tf.keep(tf.stack([loss, accuracy(logits, labels)]));
      return loss;
    }, variables);
    result.value.dispose();
    grads = variables.map((v) => result.grads[v.name]!);
    if (options.clipNorm !== undefined) {
      const clipped = clipByGlobalNorm(grads, options.clipNorm);
      tf.dispose(grads);
      grads = clipped;
    }
    const [loss, acc] = Array.from(await stats!.data()) as [number, number];
    if (!Number.isFinite(loss)) throw new Error(`trainStep: the loss is ${loss}; no update was applied`);
    optimizer.applyGradients(variables, grads);
    for (const u of pending) u.variable.assign(u.value);
    return { loss, accuracy: acc };
  } finally {
    tf.dispose(grads);
    stats?.dispose();
    tf.dispose(pending.map((u) => u.value));
  }
}
