/**
 * The mutable state of a search in one place: the policy and model variables, both
 * optimisers, the random stream, the two batch samplers and the step count. It is what a
 * checkpoint saves, what a step's transaction snapshots (./transaction), and nothing else:
 * everything else about a search follows from its config and data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchSampler, sampleProxy, toTensors, type BatchSamplerState, type ProxySplit } from '../data';
import { cropPaddingFor } from '../data/batch';
import type { Dataset } from '../data/types';
import { createModel } from '../models';
import type { Model } from '../models/types';
import { DraPolicy } from '../policy/dra';
import { AdamW, SGD } from '../train/optim';
import { Rng, type RngState } from '../util/rng';
import { policySettingsOf, type SearchConfig } from './config';
import type { NamedArray } from './checkpoint';

/** Mixed into the proxy split's seed so its stream is no dataset generator's. */
const PROXY_SPLIT_SALT = 0x5f3759df;

export interface Batch {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
}

/** The plain (tensor-free) part of the state: what a checkpoint's manifest holds. */
export interface SearchCounters {
  stepsDone: number;
  rng: RngState;
  modelSampler: BatchSamplerState;
  policySampler: BatchSamplerState;
}

/** The optimisers' step counts and slot counts, beside their slot tensors in a checkpoint. */
export interface OptimizerMeta {
  name: string;
  step: number;
  slots: number;
}

export class SearchState {
  rng: Rng;
  modelSampler: BatchSampler;
  policySampler: BatchSampler;
  stepsDone = 0;

  private constructor(
    readonly policy: DraPolicy,
    readonly model: Model,
    readonly policyOptimizer: AdamW,
    readonly modelOptimizer: SGD,
    rng: Rng,
    modelSampler: BatchSampler,
    policySampler: BatchSampler,
  ) {
    this.rng = rng;
    this.modelSampler = modelSampler;
    this.policySampler = policySampler;
  }

  /**
   * The proxy split and the initial state of a search. The draws from Rng(seed) come in a
   * fixed order (split, model initialisation, the two samplers), so a seed names one run.
   */
  static create(config: SearchConfig, dataset: Dataset): { proxy: ProxySplit; state: SearchState } {
    const c = config;
    const rng = new Rng(c.seed);
    const proxy = splitProxy(c, dataset, rng);
    const { height, width, channels } = dataset.train;
    const model = createModel(c.model, { numClasses: dataset.numClasses, inputShape: [height, width, channels], affineBatchNorm: false, dropout: c.dropout, seed: rng.nextUint32() });
    const policy = new DraPolicy(policySettingsOf(c));
    const policyOptimizer = new AdamW({ learningRate: c.policyLearningRate, beta1: c.policyBeta1, beta2: c.policyBeta2, weightDecay: c.policyWeightDecay, epsilon: c.policyEpsilon });
    const modelOptimizer = new SGD({ learningRate: c.modelLearningRate, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });
    const modelSampler = new BatchSampler(proxy.model.count, { batchSize: c.batchSize, seed: rng.nextUint32() });
    const policySampler = new BatchSampler(proxy.policy.count, { batchSize: c.batchSize, seed: rng.nextUint32() });
    return { proxy, state: new SearchState(policy, model, policyOptimizer, modelOptimizer, rng, modelSampler, policySampler) };
  }

  /** Every variable a step may change, in checkpoint order. */
  get variables(): tf.Variable[] {
    return [...this.policy.variables, ...this.model.trainableVariables, ...this.model.stateVariables];
  }

  counters(): SearchCounters {
    return { stepsDone: this.stepsDone, rng: this.rng.state(), modelSampler: this.modelSampler.state(), policySampler: this.policySampler.state() };
  }

  /** Puts the plain state back (the variables and optimiser slots are restored separately). */
  setCounters(counters: SearchCounters): void {
    this.stepsDone = counters.stepsDone;
    this.rng = new Rng(counters.rng);
    this.modelSampler = BatchSampler.fromState(counters.modelSampler);
    this.policySampler = BatchSampler.fromState(counters.policySampler);
  }

  /**
   * A step's two batches, drawn in this order: the policy half's as it is, then the model
   * half's, randomly cropped (zero padding of side / 8) and flipped when `cropFlip`.
   */
  drawBatches(proxy: ProxySplit, cropFlip: boolean): { val: Batch; train: Batch } {
    const val = toTensors(proxy.policy, this.policySampler.next());
    const train = toTensors(proxy.model, this.modelSampler.next(), cropFlip ? { rng: this.rng, padding: cropPaddingFor(proxy.model.height) } : undefined);
    return { val, train };
  }

  /** A rejected step still uses up one draw of each stream, so the next attempt sees new batches. */
  skipDraws(): void {
    this.rng.nextUint32();
    this.modelSampler.next();
    this.policySampler.next();
  }

  /** Every tensor by its checkpoint name, read back to host arrays. */
  async toArrays(): Promise<{ arrays: NamedArray[]; optimizers: { policy: OptimizerMeta; model: OptimizerMeta } }> {
    const policySlots = this.policyOptimizer.state();
    const modelSlots = this.modelOptimizer.state();
    const named: Array<[string, tf.Tensor]> = [
      ...this.policy.variables.map((v, i): [string, tf.Tensor] => [`policy/${i}`, v]),
      ...this.model.trainableVariables.map((v, i): [string, tf.Tensor] => [`model/${i}`, v]),
      ...this.model.stateVariables.map((v, i): [string, tf.Tensor] => [`state/${i}`, v]),
      ...policySlots.slots.map((t, i): [string, tf.Tensor] => [`policyOptimizer/${i}`, t]),
      ...modelSlots.slots.map((t, i): [string, tf.Tensor] => [`modelOptimizer/${i}`, t]),
    ];
    try {
      const arrays = await Promise.all(named.map(([name, t]) => toArray(name, t)));
      return {
        arrays,
        optimizers: {
          policy: { name: policySlots.name, step: policySlots.step, slots: policySlots.slots.length },
          model: { name: modelSlots.name, step: modelSlots.step, slots: modelSlots.slots.length },
        },
      };
    } finally {
      tf.dispose([...policySlots.slots, ...modelSlots.slots]);
    }
  }

  /** Restores what toArrays saved; `where` names the checkpoint in errors. */
  async restore(saved: { counters: SearchCounters; arrays: ReadonlyMap<string, NamedArray>; optimizers: { policy: OptimizerMeta; model: OptimizerMeta } }, where: string): Promise<void> {
    const take = (name: string): tf.Tensor => {
      const a = saved.arrays.get(name);
      if (!a) throw new Error(`checkpoint ${where}: missing tensor '${name}'`);
      return tf.tensor(a.values, a.shape, a.dtype);
    };
    const assignAll = (prefix: string, vars: readonly tf.Variable[]) => {
      vars.forEach((v, i) => {
        const t = take(`${prefix}/${i}`);
        try {
          if (!tf.util.arraysEqual(t.shape, v.shape)) {
            throw new Error(`checkpoint ${where}: tensor ${prefix}/${i} has shape [${t.shape}], the model expects [${v.shape}]`);
          }
          v.assign(t);
        } finally {
          t.dispose();
        }
      });
    };
    assignAll('policy', this.policy.variables);
    assignAll('model', this.model.trainableVariables);
    assignAll('state', this.model.stateVariables);
    const slots = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => take(`${prefix}/${i}`));
    const policySlots = slots('policyOptimizer', saved.optimizers.policy.slots);
    const modelSlots = slots('modelOptimizer', saved.optimizers.model.slots);
    try {
      this.policyOptimizer.loadState({ name: saved.optimizers.policy.name, step: saved.optimizers.policy.step, slots: policySlots });
      this.modelOptimizer.loadState({ name: saved.optimizers.model.name, step: saved.optimizers.model.step, slots: modelSlots });
    } finally {
      tf.dispose([...policySlots, ...modelSlots]);
    }
    this.setCounters(saved.counters);
    await this.policy.refresh();
  }

  dispose(): void {
    this.policy.dispose();
    this.model.dispose();
    this.policyOptimizer.dispose();
    this.modelOptimizer.dispose();
  }
}

/**
 * The proxy split of a search: the first draw of Rng(seed), salted. Unsalted it would be
 * the very stream the synthetic generators draw their label order from (their first fork
 * of Rng(seed) too), and an unstratified split of synthetic:colour would put classes 0, 2,
 * 4 in one half and 1, 3, 5 in the other.
 */
function splitProxy(c: SearchConfig, dataset: Dataset, rng: Rng): ProxySplit {
  const splitRng = new Rng((rng.nextUint32() ^ PROXY_SPLIT_SALT) >>> 0);
  return sampleProxy(
    dataset.train,
    c.proxyClasses !== undefined && c.proxyPerClass !== undefined
      ? { kind: 'classes', classes: c.proxyClasses, perClass: c.proxyPerClass }
      : { kind: 'fraction', fraction: c.proxyFraction, stratified: c.stratified },
    splitRng,
    dataset.numClasses,
  );
}

/** Search steps in `epochs` passes over the model half (full batches only), without building a search. */
export function stepsForEpochs(config: SearchConfig, dataset: Dataset, epochs: number): number {
  const proxy = splitProxy(config, dataset, new Rng(config.seed));
  return epochs * Math.floor(proxy.model.count / config.batchSize);
}

async function toArray(name: string, t: tf.Tensor): Promise<NamedArray> {
  const data = await t.data();
  const values = t.dtype === 'int32' ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array);
  return { name, shape: [...t.shape], dtype: t.dtype === 'int32' ? 'int32' : 'float32', values };
}

