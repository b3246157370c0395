/**
 * Synthetic search records for figure tests: a deterministic (seeded) imitation of a
 * search whose losses fall and whose probabilities drift, shaped like the real records.
 */
import { DRA_OP_NAMES } from '../../src/ops/names';
import type { PolicySnapshot, SnapshotRecord, StepRecord } from '../../src/search/record';
import { Rng } from '../../src/util/rng';

export function syntheticSteps(count: number, seed = 0): StepRecord[] {
  const rng = new Rng(seed);
  const noise = rng.normal(count * 4, 0, 0.05);
  return Array.from({ length: count }, (_, i) => ({
    step: i + 1,
    epoch: Math.floor(i / 10),
    trainLoss: 2.3 * Math.exp(-i / 20) + 0.2 + noise[4 * i]!,
    trainAccuracy: Math.min(1, 0.1 + (0.8 * i) / count),
    valLoss: 2.4 * Math.exp(-i / 25) + 0.3 + noise[4 * i + 1]!,
    valCrossEntropy: 2.3 * Math.exp(-i / 25) + 0.25 + noise[4 * i + 2]!,
    valAccuracy: Math.min(1, 0.1 + (0.7 * i) / count),
    kl: 0.2 * Math.exp(-i / 30) + Math.abs(noise[4 * i + 3]!) / 10,
    modelLearningRate: 0.1,
    policyLearningRate: 0.005,
    milliseconds: 40,
  }));
}

function softmax(w: number[]): number[] {
  const m = Math.max(...w);
  const e = w.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function syntheticPolicy(layers: number, drift: number, seed = 0): PolicySnapshot {
  const rng = new Rng(seed);
  const k = DRA_OP_NAMES.length;
  return {
    format: 'dralab.policy',
    version: 1,
    ops: [...DRA_OP_NAMES],
    layers: Array.from({ length: layers }, (_, d) => {
      const weights = Array.from(rng.normal(k, 0, 0.1), (v, j) => v + drift * Math.sin(j + d));
      return {
        weights,
        probabilities: softmax(weights),
        mu: Array.from(rng.uniform(k, 0.2, 0.8), (v) => v + drift * 0.05),
        sigma: Array.from(rng.uniform(k, 0.05, 0.2)),
      };
    }),
    applyProbability: [0.2, 0.8],
  };
}

export function syntheticSnapshots(count: number, layers = 2, every = 5): SnapshotRecord[] {
  return Array.from({ length: count }, (_, i) => ({ step: (i + 1) * every, policy: syntheticPolicy(layers, i / 2, 7) }));
}

/** A valid 2x2 RGB PNG as a data URI (made with sharp from raw bytes, pasted here to keep tests synchronous). */
export const TINY_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAFElEQVQImWP4z8DAAMIM/////w8AH+4F+0HwQUsAAAAASUVORK5CYII=';
