/**
 * A search step as a transaction: `begin` snapshots every piece of mutable state (each
 * variable, both optimisers' slots, the RNG and the samplers); `rollback` puts it all
 * back after an error, a non-finite loss or an abort, so a failed step leaves the search
 * exactly as it was; `release` frees the snapshot after a step that succeeded.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerState } from '../train/optim';
import type { SearchCounters, SearchState } from './state';

export interface StepTransaction {
  tensors: tf.Tensor[];
  policyOptimizer: OptimizerState;
  modelOptimizer: OptimizerState;
  counters: SearchCounters;
}

export function begin(state: SearchState): StepTransaction {
  return {
    tensors: state.variables.map((v) => tf.keep(v.clone())),
    policyOptimizer: state.policyOptimizer.state(),
    modelOptimizer: state.modelOptimizer.state(),
    counters: state.counters(),
  };
}

export async function rollback(state: SearchState, tx: StepTransaction): Promise<void> {
  state.variables.forEach((v, i) => v.assign(tx.tensors[i]!));
  state.policyOptimizer.loadState(tx.policyOptimizer);
  state.modelOptimizer.loadState(tx.modelOptimizer);
  state.setCounters(tx.counters);
  release(tx);
  await state.policy.refresh();
}

export function release(tx: StepTransaction): void {
  tf.dispose([...tx.tensors, ...tx.policyOptimizer.slots, ...tx.modelOptimizer.slots]);
}
