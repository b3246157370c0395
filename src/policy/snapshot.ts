/**
 * A policy as plain data: what policy files hold (./schema), what a search's history and
 * the figures read. Nothing here holds tensors.
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
