/**
 * The model half of a search step: the model half's batch, augmented by the (just
 * updated) policy and Cutout, then one step of the training step final training uses
 * (../train/step), with the BatchNorm updates handed back for the search step to commit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateUpdate } from '../models/types';
import { sumScalars } from '../train/losses';
import { NonFiniteLossError, trainStep, type TrainStepResult } from '../train/step';
import { drawAugmentation } from './augment';
import type { SearchConfig } from './config';
import type { SearchState } from './state';

/** Updates the model; `pending` receives the running-statistic updates. Throws NonFiniteLossError, naming `stepNumber`. */
export async function modelStep(state: SearchState, config: SearchConfig, batch: { images: tf.Tensor4D; labels: tf.Tensor1D }, pending: StateUpdate[], stepNumber: number): Promise<TrainStepResult> {
  const augmentation = drawAugmentation(state, config, batch.images);
  const augmented = tf.tidy(() => augmentation.apply());
  let result: TrainStepResult;
  try {
    result = await trainStep(state.model, state.modelOptimizer, augmented, batch.labels, { clipNorm: config.gradClipNorm, dropoutSeeds: state.rng, deferStateUpdates: pending });
  } catch (err) {
    throw err instanceof NonFiniteLossError ? new NonFiniteLossError('model loss', stepNumber) : err;
  } finally {
    augmented.dispose();
    augmentation.dispose();
  }
  // As for the policy: an overflowing model learning rate leaves a finite loss but
  // infinite weights, which the next step would only report as a non-finite policy loss.
  if (!(await allFinite([...state.model.trainableVariables, ...pending.map((u) => u.value)]))) {
    throw new NonFiniteLossError('model parameters (weights or BatchNorm statistics)', stepNumber);
  }
  return result;
}

/** True when no value of any tensor is NaN or infinite (one reduction, one scalar read). */
async function allFinite(tensors: readonly tf.Tensor[]): Promise<boolean> {
  if (tensors.length === 0) return true;
  const bad = tf.tidy(() => sumScalars(tensors.map((t) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(t)), 'float32')))));
  const count = (await bad.data())[0];
  bad.dispose();
  return count === 0;
}
