/**
 * One training step: forward, backward, optional gradient-norm clip, optimiser update
 * and BatchNorm running-statistic commit. Atomic: variables change only after the loss
 * was computed and found finite; every tensor it creates is disposed. Final training and
 * the search's model half both take their steps here.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../engine/gradients';
import type { Model, StateUpdate } from '../models/types';
import type { Rng } from '../util/rng';
import { accuracy, clipByGlobalNorm, crossEntropy } from './losses';
import type { Optimizer } from './optim';

export interface TrainStepOptions {
  /** Clip the global gradient norm to this value (torch clip_grad_norm_); no clipping when absent. */
  clipNorm?: number;
  /** Dropout masks' seeds (models with dropout); without it a training forward has none. */
  dropoutSeeds?: Rng;
  /**
   * Where to put the BatchNorm running-statistic updates instead of assigning them: a
   * caller with a larger transaction (the search step) commits them when it succeeds.
   * The caller then owns (and disposes) the update tensors.
   */
  deferStateUpdates?: StateUpdate[];
}

export interface TrainStepResult {
  loss: number;
  accuracy: number;
}

/** A step whose loss or parameters came out NaN or infinite: rejected, nothing changed. */
export class NonFiniteLossError extends Error {
  constructor(readonly what: string, readonly step?: number) {
    super(`${step === undefined ? '' : `step ${step}: `}non-finite ${what}; the step was rejected and nothing changed`);
    this.name = 'NonFiniteLossError';
  }
}

export async function trainStep(model: Model, optimizer: Optimizer, images: tf.Tensor4D, labels: tf.Tensor1D, options: TrainStepOptions = {}): Promise<TrainStepResult> {
  if (images.shape[0] !== labels.shape[0]) throw new Error(`trainStep: ${images.shape[0]} images but ${labels.shape[0]} labels`);
  const variables = [...model.trainableVariables];
  const pending: StateUpdate[] = options.deferStateUpdates ?? [];
  const firstPending = pending.length;
  let stats: tf.Tensor | undefined;
  let grads: tf.Tensor[] = [];
  try {
    const result = tf.variableGrads(() => {
      const logits = model.apply(images, { training: true, stateUpdates: pending, ...(options.dropoutSeeds ? { dropoutSeeds: options.dropoutSeeds } : {}) });
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
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(`loss (${loss})`);
    optimizer.applyGradients(variables, grads);
    if (!options.deferStateUpdates) for (const u of pending) u.variable.assign(u.value);
    return { loss, accuracy: acc };
  } finally {
    tf.dispose(grads);
    stats?.dispose();
    if (!options.deferStateUpdates) tf.dispose(pending.slice(firstPending).map((u) => u.value));
  }
}
