/**
 * Plain-data records of a search: what the notebook layer, the widgets and the
 * report read. Nothing here holds tensors, so a figure can be redrawn from a saved run.
 */

import type { PolicySnapshot } from '../policy/snapshot';

export type { PolicyLayerSnapshot, PolicySnapshot } from '../policy/snapshot';

/** What one search step did. */
export interface StepRecord {
  step: number;
  epoch: number;
  /** Cross-entropy of the model on the augmented train batch (model step). */
  trainLoss: number;
  trainAccuracy: number;
  /** Policy-step loss: CE(aug) + lambda * KL. */
  valLoss: number;
  /** CE part of the policy-step loss on the augmented val batch. */
  valCrossEntropy: number;
  valAccuracy: number;
  /** KL(p_ori || p_aug) on the val batch. */
  kl: number;
  /** The model learning rate this step used (the cosine schedule's value). */
  modelLearningRate: number;
  policyLearningRate: number;
  /** The settings this step ran with (they may change between steps; absent in older histories). */
  temperature?: number;
  klWeight?: number;
  /** The schedule's base model learning rate. */
  modelBaseLearningRate?: number;
  /** Wall time of the step in milliseconds. */
  milliseconds: number;
  /** Whether the step was rejected (non-finite loss) and changed nothing. */
  rejected?: string;
}

/** A policy snapshot taken after a given step (every k steps). */
export interface SnapshotRecord {
  step: number;
  policy: PolicySnapshot;
}
