/**
 * Plain-data records of a search: what the notebook layer, the widgets and the
 * report read. Nothing here holds tensors, so a figure can be redrawn from a saved run.
 */

/** One layer of a policy as plain arrays, each of length K (the operator count). */
export interface PolicyLayerSnapshot {
  /** Selecting weights w (logits). */
  weights: number[];
  /** softmax(w): the probability of each operator being chosen in this layer. */
  probabilities: number[];
  /** Mean magnitude mu in [0, magnitudeScale]. */
  mu: number[];
  /** Magnitude standard deviation sigma in [0, 1]. */
  sigma: number[];
}

export interface PolicySnapshot {
  format: 'dralab.policy';
  version: number;
  /** Operator names, in order, matching every per-layer array. */
  ops: string[];
  layers: PolicyLayerSnapshot[];
  /** Range [min, max] of the per-sample apply probability p ~ U(min, max). */
  applyProbability: [number, number];
  /** Upper clip of mu and of sampled magnitudes (the official `scale`; 1 unless set). */
  magnitudeScale?: number;
  /** Free-form provenance: search step, seed, dataset, model... */
  meta?: Record<string, unknown>;
}

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
  modelLearningRate: number;
  policyLearningRate: number;
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
