/**
 * The DRA bi-level search as a steppable object, with the official code's forward
 * (learner.py, models/preact_resnet.py). Each step: the policy step on a batch of the
 * policy half, DRA then Cutout (loss CE(aug) + lambda KL(p_ori || p_aug), gradients only
 * to the policy); then the model step on a batch of the model half, randomly cropped and
 * flipped, DRA with the updated policy, then Cutout. Both steps' training-mode forwards
 * move the BatchNorm running statistics, as Keras does. A step is a
 * transaction: on an error, a non-finite loss or an abort, every variable, optimiser
 * slot, sampler and the RNG go back to what they were before it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendReport } from '../backend/select';
import { BatchSampler, loadDataset, sampleProxy, toTensors, type BatchSamplerState, type ProxySplit } from '../data';
import { cropPaddingFor } from '../data/batch';
import type { Dataset, ImageSet } from '../data/types';
import { createModel } from '../models';
import type { Model, StateUpdate } from '../models/types';
import { type OpName } from '../ops/names';
import { DraPolicy, type AugmentTrace } from '../policy/dra';
import { AdamW, SGD, type OptimizerState } from '../train/optim';
import { cosineLearningRate } from '../train/schedule';
import { accuracy, crossEntropy, klDivergence, clipByGlobalNorm } from '../train/losses';
import { Rng, type RngState } from '../util/rng';
import { resolveSearchConfig, type SearchConfig } from './config';
import { History } from './history';
import type { StepRecord } from './record';

export class SearchAbortedError extends Error {
  constructor(where: string) {
    super(`search step aborted during the ${where}; the search is unchanged`);
    this.name = 'AbortError';
  }
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly what: string) {
    super(`step ${step}: non-finite ${what}; the step was rejected and nothing changed`);
    this.name = 'NonFiniteLossError';
  }
}

export interface RunOptions {
  /** Steps to run in this call (default: until config.steps is reached). */
  steps?: number;
  /** Stops cleanly at the next step boundary when aborted. */
  signal?: AbortSignal;
  /** Called after every step; an exception thrown here stops the run after that step (which is kept). */
  onStep?: (record: StepRecord, search: DraSearch) => void | Promise<void>;
}

export interface RunResult {
  records: StepRecord[];
  /** Why the loop ended. */
  reason: 'completed' | 'aborted' | 'non-finite' | 'callback-error';
  error?: Error;
}

export interface SearchParts {
  config: SearchConfig;
  dataset: Dataset;
  backend: BackendReport;
}

/** A step's undo record: clones of every piece of mutable state. */
interface Transaction {
  tensors: tf.Tensor[];
  policyOptimizer: OptimizerState;
  modelOptimizer: OptimizerState;
  rng: RngState;
  modelSampler: BatchSamplerState;
  policySampler: BatchSamplerState;
}

/** Mixed into the proxy split's seed so its stream is no dataset generator's. */
const PROXY_SPLIT_SALT = 0x5f3759df;

/** True when no value of any tensor is NaN or infinite (one reduction, one scalar read). */
async function allFinite(tensors: readonly tf.Tensor[]): Promise<boolean> {
  if (tensors.length === 0) return true;
  const bad = tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(t)), 'float32')))));
  const count = (await bad.data())[0];
  bad.dispose();
  return count === 0;
}

/** A run stops after this many non-finite steps in a row, whatever onNonFinite says. */
export const MAX_CONSECUTIVE_REJECTIONS = 5;

export class DraSearch {
  readonly config: SearchConfig;
  readonly dataset: Dataset;
  readonly backend: BackendReport;
  readonly proxy: ProxySplit;
  readonly model: Model;
  readonly policy: DraPolicy;
  readonly history = new History();
  /** Settings the search chose itself and why (e.g. crop and flip off for a flip-sensitive dataset). */
  readonly notes: string[] = [];
  private readonly policyOptimizer: AdamW;
  private readonly modelOptimizer: SGD;
  private rng: Rng;
  private modelSampler: BatchSampler;
  private policySampler: BatchSampler;
  private stepsDone = 0;
  private stopController: AbortController | undefined;
  private stepping = false;
  private disposed = false;

  /** Builds a search from a configuration (defaults fill the rest). */
  static async create(settings: Partial<SearchConfig> & { backend?: string } = {}): Promise<DraSearch> {
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
      throw new TypeError(`DraSearch.create(settings): settings must be an object of search settings (or nothing, for the defaults), got ${settings === null ? 'null' : Array.isArray(settings) ? 'an array' : typeof settings}`);
    }
    const { backend: backendName, ...rest } = settings;
    const config = resolveSearchConfig(rest);
    const backend = await selectBackend(backendName ? { backend: backendName } : {});
    const dataset = await loadDataset(config.data, datasetOptions(config));
    return new DraSearch({ config, dataset, backend });
  }

  constructor(parts: SearchParts) {
    // Crop and flip follow the official pipeline unless the dataset's labels depend on
    // left and right; the resolved value is what the run records and resumes with.
    const flipSafe = parts.dataset.flipChangesLabels !== true;
    if (parts.config.randomCropFlip === undefined && !flipSafe) {
      this.notes.push(`random crop and flip are off: a horizontal flip changes the labels of ${parts.dataset.spec} (pass randomCropFlip: true to force them)`);
    }
    this.config = { ...parts.config, randomCropFlip: parts.config.randomCropFlip ?? flipSafe };
    this.dataset = parts.dataset;
    this.backend = parts.backend;
    const c = this.config;
    this.rng = new Rng(c.seed);
    // The split's stream is the first fork of Rng(seed) salted: unsalted it would be the
    // very stream the synthetic generators draw their label order from (their first fork
    // of Rng(seed) too), and an unstratified split of synthetic:colour would put classes
    // 0, 2, 4 in one half and 1, 3, 5 in the other.
    const splitRng = new Rng((this.rng.nextUint32() ^ PROXY_SPLIT_SALT) >>> 0);
    this.proxy = sampleProxy(
      this.dataset.train,
      c.proxyClasses !== undefined && c.proxyPerClass !== undefined
        ? { kind: 'classes', classes: c.proxyClasses, perClass: c.proxyPerClass }
        : { kind: 'fraction', fraction: c.proxyFraction, stratified: c.stratified },
      splitRng,
      this.dataset.numClasses,
    );
    const { height, width, channels } = this.dataset.train;
    this.model = createModel(c.model, { numClasses: this.dataset.numClasses, inputShape: [height, width, channels], affineBatchNorm: false, dropout: c.dropout, seed: this.rng.nextUint32() });
    this.policy = new DraPolicy({
      depth: c.depth,
      ops: c.ops as OpName[],
      temperature: c.temperature,
      applyProbability: c.applyProbability,
      initialMu: c.initialMu,
      initialSigma: c.initialSigma,
      magnitudeScale: c.magnitudeScale,
      magnitudeGradient: c.magnitudeGradient,
      learnWeights: c.learnWeights,
      learnMu: c.learnMu,
      learnSigma: c.learnSigma,
      operatorGradients: c.operatorGradients,
      geometry: { interpolation: c.interpolation, fill: c.fill },
    });
    this.policyOptimizer = new AdamW({ learningRate: c.policyLearningRate, beta1: c.policyBeta1, beta2: c.policyBeta2, weightDecay: c.policyWeightDecay, epsilon: c.policyEpsilon });
    this.modelOptimizer = new SGD({ learningRate: c.modelLearningRate, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });
    this.modelSampler = new BatchSampler(this.proxy.model.count, { batchSize: c.batchSize, seed: this.rng.nextUint32() });
    this.policySampler = new BatchSampler(this.proxy.policy.count, { batchSize: c.batchSize, seed: this.rng.nextUint32() });
    this.history.snapshots.push({ step: 0, policy: this.policy.snapshot() });
  }

  /** Steps completed so far. */
  get stepCount(): number {
    return this.stepsDone;
  }

  get stepsPerEpoch(): number {
    return this.modelSampler.batchesPerEpoch;
  }

  /** The model learning rate for a step (cosine over config.steps). */
  modelLearningRateAt(step: number): number {
    return cosineLearningRate(this.config.modelLearningRate, step, this.config.steps);
  }

  private batch(set: ImageSet, sampler: BatchSampler, cropFlip = false): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    return toTensors(set, sampler.next(), cropFlip ? { rng: this.rng, padding: cropPaddingFor(set.height) } : undefined);
  }

  /** The Cutout mask of a batch (drawn now, so a replayed objective sees the same squares), or undefined when off. */
  private drawCutout(shape: readonly number[]): Float32Array | undefined {
    return this.config.cutout > 0 ? cutoutMaskFor(shape, this.config.cutout, this.rng) : undefined;
  }

  /**
   * The un-augmented forward of the KL term, in training mode as officially. It runs before
   * the augmented forward: its logits are constants to the policy, and its running-statistic
   * updates are assigned at once so the augmented forward's compose with them (officially
   * the augmented forward comes first; the order only changes how the two batches are
   * weighted in the running averages).
   */
  private unaugmentedForward(images: tf.Tensor4D, moveStatistics: boolean): tf.Tensor2D {
    const updates: StateUpdate[] = [];
    try {
      const logits = tf.tidy(() => this.model.apply(images, { training: true, dropoutSeeds: this.rng, ...(moveStatistics ? { stateUpdates: updates } : {}) }));
      this.commitStateUpdates(updates);
      return logits;
    } finally {
      tf.dispose(updates.map((u) => u.value));
    }
  }

  /** Assigns BatchNorm running-statistic updates now (the step's transaction restores them on failure). */
  private commitStateUpdates(updates: StateUpdate[]): void {
    for (const u of updates) u.variable.assign(u.value);
    tf.dispose(updates.map((u) => u.value));
    updates.length = 0;
  }

  private begin(): Transaction {
    const tensors = [...this.policy.variables, ...this.model.trainableVariables, ...this.model.stateVariables].map((v) => tf.keep(v.clone()));
    return {
      tensors,
      policyOptimizer: this.policyOptimizer.state(),
      modelOptimizer: this.modelOptimizer.state(),
      rng: this.rng.state(),
      modelSampler: this.modelSampler.state(),
      policySampler: this.policySampler.state(),
    };
  }

  private async rollback(tx: Transaction): Promise<void> {
    const variables = [...this.policy.variables, ...this.model.trainableVariables, ...this.model.stateVariables];
    variables.forEach((v, i) => v.assign(tx.tensors[i]!));
    this.policyOptimizer.loadState(tx.policyOptimizer);
    this.modelOptimizer.loadState(tx.modelOptimizer);
    this.rng = new Rng(tx.rng);
    this.modelSampler = BatchSampler.fromState(tx.modelSampler);
    this.policySampler = BatchSampler.fromState(tx.policySampler);
    this.release(tx);
    await this.policy.refresh();
  }

  private release(tx: Transaction): void {
    tf.dispose(tx.tensors);
    disposeOptimizerState(tx.policyOptimizer);
    disposeOptimizerState(tx.modelOptimizer);
  }

  /** Loss of the policy step: CE(model(aug(x)), y) + lambda KL(p(x) || p(aug(x))). */
  private policyLoss(labels: tf.Tensor1D, logitsOriginal: tf.Tensor2D | undefined, augmented: () => tf.Tensor4D, stateUpdates?: StateUpdate[]): { loss: tf.Scalar; ce: tf.Scalar; kl: tf.Scalar; acc: tf.Scalar } {
    const logitsAug = this.model.apply(augmented(), { training: true, dropoutSeeds: this.rng, ...(stateUpdates ? { stateUpdates } : {}) });
    const ce = crossEntropy(logitsAug, labels);
    const kl = logitsOriginal ? klDivergence(logitsOriginal, logitsAug) : tf.scalar(0);
    const loss = this.config.useKl ? tf.add(ce, tf.mul(kl, this.config.klWeight)) as tf.Scalar : ce;
    return { loss, ce, kl, acc: accuracy(logitsAug, labels) };
  }

  /**
   * Advances exactly one search step and returns its record. Atomic: if it throws
   * (error, abort via `signal`, non-finite loss) the search is as before the call.
   */
  async step(signal?: AbortSignal): Promise<StepRecord> {
    this.assertLive('step()');
    if (this.stepping) {
      throw new Error('DraSearch.step(): another step is still running (a run() in progress?); await it or call stop() first');
    }
    this.stepping = true;
    try {
      return await this.stepOnce(signal);
    } finally {
      this.stepping = false;
    }
  }

  private async stepOnce(signal?: AbortSignal): Promise<StepRecord> {
    const started = performance.now();
    const stepIndex = this.stepsDone;
    const tx = this.begin();
    const pending: StateUpdate[] = [];
    try {
      const c = this.config;
      const modelLr = this.modelLearningRateAt(stepIndex);
      this.modelOptimizer.learningRate = modelLr;
      this.policyOptimizer.learningRate = c.policyLearningRate;

      // Policy step.
      const val = this.batch(this.proxy.policy, this.policySampler);
      const train = this.batch(this.proxy.model, this.modelSampler, this.config.randomCropFlip);
      let policyStats: number[];
      try {
        policyStats = await this.policyStep(val.images, val.labels, train.images, train.labels);
      } finally {
        tf.dispose([val.images, val.labels]);
      }
      const [valLoss, valCe, kl, valAcc] = policyStats as [number, number, number, number];
      if (![valLoss, valCe, kl].every(Number.isFinite)) throw new NonFiniteLossError(stepIndex + 1, 'policy loss');
      // A finite loss can still give non-finite parameters (an overflowing temperature or
      // learning rate): such a step is rejected like a non-finite loss.
      const { weights, mu, sigma } = this.policy.values();
      if (![weights, mu, sigma].every((values) => values.every(Number.isFinite))) throw new NonFiniteLossError(stepIndex + 1, 'policy parameters (w, mu or sigma)');
      await yieldToEventLoop();
      if (signal?.aborted) throw new SearchAbortedError('policy step');

      // Model step, on a batch augmented by the updated policy, then Cutout.
      let trainStats: number[];
      try {
        trainStats = await this.modelStep(train.images, train.labels, pending);
      } finally {
        tf.dispose([train.images, train.labels]);
      }
      const [trainLoss, trainAcc] = trainStats as [number, number];
      if (!Number.isFinite(trainLoss)) throw new NonFiniteLossError(stepIndex + 1, 'model loss');
      // As for the policy: an overflowing model learning rate leaves a finite loss but
      // infinite weights, which the next step would only report as a non-finite policy loss.
      if (!(await allFinite([...this.model.trainableVariables, ...pending.map((u) => u.value)]))) {
        throw new NonFiniteLossError(stepIndex + 1, 'model parameters (weights or BatchNorm statistics)');
      }
      await yieldToEventLoop();
      if (signal?.aborted) throw new SearchAbortedError('model step');

      for (const u of pending) u.variable.assign(u.value);
      tf.dispose(pending.map((u) => u.value));
      this.release(tx);
      this.stepsDone += 1;
      const record: StepRecord = {
        step: this.stepsDone,
        epoch: (this.stepsDone - 1) / this.stepsPerEpoch,
        trainLoss,
        trainAccuracy: trainAcc,
        valLoss,
        valCrossEntropy: valCe,
        valAccuracy: valAcc,
        kl,
        modelLearningRate: modelLr,
        policyLearningRate: c.policyLearningRate,
        milliseconds: performance.now() - started,
      };
      this.history.steps.push(record);
      if (this.stepsDone % c.snapshotEvery === 0) this.history.snapshots.push({ step: this.stepsDone, policy: this.policy.snapshot() });
      return record;
    } catch (err) {
      tf.dispose(pending.map((u) => u.value));
      await this.rollback(tx);
      throw err;
    }
  }

  /** Returns [loss, ce, kl, accuracy] and applies the policy update (first or second order). */
  private async policyStep(valImages: tf.Tensor4D, valLabels: tf.Tensor1D, trainImages: tf.Tensor4D, trainLabels: tf.Tensor1D): Promise<number[]> {
    const vars = this.policy.trainableVariables;
    const w = this.policy.values().weights;
    const draw = this.policy.sample(valImages.shape[0], this.rng);
    const cutout = this.drawCutout(valImages.shape);
    const augmented = (): tf.Tensor4D => withCutout(this.policy.augmentWith(valImages, draw, w), cutout);
    // The second-order objective is evaluated at perturbed weights, so its forwards leave
    // the running statistics alone.
    const updates: StateUpdate[] | undefined = this.config.policyGradient === 'first' ? [] : undefined;
    const trainDraw = this.config.policyGradient === 'second' ? this.policy.sample(trainImages.shape[0], this.rng) : undefined;
    let logitsOri: tf.Tensor2D | undefined;
    let stats: tf.Tensor | undefined;
    let grads: tf.Tensor[] = [];
    const valObjective = (): tf.Scalar => {
      const r = this.policyLoss(valLabels, logitsOri, augmented, updates);
      stats = tf.keep(tf.stack([r.loss, r.ce, r.kl, r.acc]));
      return r.loss;
    };
    try {
      if (this.config.useKl) logitsOri = this.unaugmentedForward(valImages, updates !== undefined);
      try {
        if (vars.length === 0) tf.tidy(() => void valObjective()); // every ablation switch off: the loss only
        else if (this.config.policyGradient === 'first') {
          const result = tf.variableGrads(valObjective, vars);
          grads = vars.map((v) => result.grads[v.name]!);
          result.value.dispose();
        } else {
          grads = await this.secondOrderPolicyGradient(valObjective, trainImages, trainLabels, trainDraw!, w, vars);
        }
        if (updates) this.commitStateUpdates(updates);
      } finally {
        tf.dispose((updates ?? []).map((u) => u.value));
      }
      const out = Array.from(await stats!.data());
      if (vars.length > 0 && out.slice(0, 3).every(Number.isFinite)) {
        this.policyOptimizer.applyGradients(vars, grads);
        this.policy.clip();
        await this.policy.refresh();
      }
      return out;
    } finally {
      tf.dispose(grads);
      if (stats) stats.dispose();
      if (logitsOri) logitsOri.dispose();
    }
  }

  /**
   * One-step unrolled policy gradient (DARTS, finite-difference Hessian-vector product):
   * g = d/dalpha L_val(w', alpha) - xi (d/dalpha L_train(w+, alpha) - d/dalpha L_train(w-, alpha)) / (2 eps),
   * with w' = w - xi dL_train/dw, w± = w ± eps dL_val(w')/dw', eps = 0.01 / |dL_val(w')/dw'|.
   */
  private async secondOrderPolicyGradient(valObjective: () => tf.Scalar, trainImages: tf.Tensor4D, trainLabels: tf.Tensor1D, trainDraw: ReturnType<DraPolicy['sample']>, w: Float32Array, policyVars: tf.Variable[]): Promise<tf.Tensor[]> {
    const modelVars = [...this.model.trainableVariables];
    const xi = this.modelOptimizer.learningRate;
    const trainObjective = (): tf.Scalar => {
      const logits = this.model.apply(this.policy.augmentWith(trainImages, trainDraw, w), { training: true });
      return crossEntropy(logits, trainLabels);
    };
    const original = modelVars.map((v) => tf.keep(v.clone()));
    try {
      // w' = w - xi * dL_train/dw
      const gTrain = tf.variableGrads(trainObjective, modelVars);
      gTrain.value.dispose();
      tf.tidy(() => modelVars.forEach((v) => v.assign(tf.sub(v, tf.mul(gTrain.grads[v.name]!, xi)))));
      tf.dispose(Object.values(gTrain.grads));
      // d/dalpha and d/dw' of L_val at w'
      const all = tf.variableGrads(valObjective, [...policyVars, ...modelVars]);
      all.value.dispose();
      const dAlpha = policyVars.map((v) => all.grads[v.name]!);
      const dW = modelVars.map((v) => all.grads[v.name]!);
      const normTensor = tf.tidy(() => tf.sqrt(tf.addN(dW.map((g) => tf.sum(tf.square(g))))));
      const norm = (await normTensor.data())[0]!;
      normTensor.dispose();
      const eps = 0.01 / Math.max(norm, 1e-12);
      const gradAt = (sign: number): tf.Tensor[] => {
        tf.tidy(() => modelVars.forEach((v, i) => v.assign(tf.add(original[i]!, tf.mul(dW[i]!, sign * eps)))));
        const r = tf.variableGrads(trainObjective, policyVars);
        r.value.dispose();
        return policyVars.map((v) => r.grads[v.name]!);
      };
      const gPlus = gradAt(1);
      const gMinus = gradAt(-1);
      const result = dAlpha.map((g, i) => tf.tidy(() => tf.sub(g, tf.mul(tf.sub(gPlus[i]!, gMinus[i]!), xi / (2 * eps)))));
      tf.dispose([...dAlpha, ...dW, ...gPlus, ...gMinus]);
      return result;
    } finally {
      modelVars.forEach((v, i) => v.assign(original[i]!));
      tf.dispose(original);
    }
  }

  /** Returns [loss, accuracy]; applies the model update (BN statistics go to `pending`). */
  private async modelStep(images: tf.Tensor4D, labels: tf.Tensor1D, pending: StateUpdate[]): Promise<number[]> {
    const vars = [...this.model.trainableVariables];
    const w = this.policy.values().weights;
    const draw = this.policy.sample(images.shape[0], this.rng);
    const cutout = this.drawCutout(images.shape);
    const augmented = tf.tidy(() => withCutout(this.policy.augmentWith(images, draw, w), cutout));
    let stats: tf.Tensor | undefined;
    let grads: tf.Tensor[] = [];
    try {
      const result = tf.variableGrads(() => {
        const logits = this.model.apply(augmented, { training: true, stateUpdates: pending, dropoutSeeds: this.rng });
        const loss = crossEntropy(logits, labels);
        stats = tf.keep(tf.stack([loss, accuracy(logits, labels)]));
        return loss;
      }, vars);
      result.value.dispose();
      grads = clipByGlobalNorm(vars.map((v) => result.grads[v.name]!), this.config.gradClipNorm);
      tf.dispose(Object.values(result.grads));
      const out = Array.from(await stats!.data());
      if (Number.isFinite(out[0]!)) this.modelOptimizer.applyGradients(vars, grads);
      return out;
    } finally {
      tf.dispose(grads);
      augmented.dispose();
      if (stats) stats.dispose();
    }
  }

  /**
   * Runs steps until `steps` more are done, config.steps is reached, the signal aborts
   * or `stop()` is called. Always ends at a step boundary with the search intact.
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    this.assertLive('run()');
    if (this.stopController || this.stepping) {
      throw new Error('DraSearch.run(): the search is already running; await that run or call stop() first');
    }
    // A rejected (non-finite) step uses up one of the requested steps without advancing
    // stepCount, so a run whose losses stay non-finite still ends.
    const attempts = Math.min(options.steps ?? Infinity, this.config.steps - this.stepsDone);
    const controller = new AbortController();
    this.stopController = controller;
    const onOuterAbort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    options.signal?.addEventListener('abort', onOuterAbort);
    const records: StepRecord[] = [];
    let consecutiveRejections = 0;
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (controller.signal.aborted) return { records, reason: 'aborted' };
        let record: StepRecord;
        try {
          record = await this.step(controller.signal);
          consecutiveRejections = 0;
        } catch (err) {
          if (err instanceof SearchAbortedError) return { records, reason: 'aborted' };
          if (err instanceof NonFiniteLossError) {
            const rejected: StepRecord = { ...emptyRecord(this.stepsDone + 1), rejected: err.message };
            this.history.steps.push(rejected);
            records.push(rejected);
            consecutiveRejections++;
            if (this.config.onNonFinite === 'stop' || consecutiveRejections >= MAX_CONSECUTIVE_REJECTIONS) {
              return { records, reason: 'non-finite', error: err };
            }
            // Skipping consumes the batches and randomness so the next attempt sees new data.
            this.rng.nextUint32();
            this.modelSampler.next();
            this.policySampler.next();
            continue;
          }
          throw err;
        }
        records.push(record);
        if (options.onStep) {
          try {
            await options.onStep(record, this);
          } catch (err) {
            return { records, reason: 'callback-error', error: err instanceof Error ? err : new Error(String(err)) };
          }
        }
      }
      return { records, reason: controller.signal.aborted ? 'aborted' : 'completed' };
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      if (this.stopController === controller) this.stopController = undefined;
    }
  }

  /** Asks a running `run()` to stop at the next step boundary. */
  stop(): void {
    this.stopController?.abort();
  }

  get running(): boolean {
    return this.stopController !== undefined;
  }

  /** Augments `count` images of the policy half with the current policy (for sample grids). */
  async augmentSamples(count: number): Promise<{ original: Uint8Array[]; augmented: Uint8Array[]; ops: string[][]; magnitudes: number[][]; height: number; width: number; channels: number }> {
    const set = this.proxy.policy;
    const n = Math.min(count, set.count);
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    const rng = new Rng(this.config.seed + 7919 + this.stepsDone);
    const trace: AugmentTrace = { opIndex: [], applied: [], magnitude: [] };
    const { images, labels } = toTensors(set, indices);
    const aug = tf.tidy(() => tf.clipByValue(tf.round(this.policy.augment(images, rng, trace)), 0, 255));
    const pixels = await aug.data();
    const origPixels = await images.data();
    tf.dispose([images, labels, aug]);
    const { height, width, channels } = set;
    const size = height * width * channels;
    const original: Uint8Array[] = [];
    const augmented: Uint8Array[] = [];
    const ops: string[][] = [];
    const magnitudes: number[][] = [];
    for (let i = 0; i < n; i++) {
      original.push(Uint8Array.from(origPixels.subarray(i * size, (i + 1) * size)));
      augmented.push(Uint8Array.from(pixels.subarray(i * size, (i + 1) * size)));
      ops.push(trace.opIndex.map((layer, d) => (trace.applied[d]![i] ? this.policy.ops[layer[i]!]! : 'Identity')));
      magnitudes.push(trace.magnitude.map((layer, d) => (trace.applied[d]![i] ? layer[i]! : 0)));
    }
    return { original, augmented, ops, magnitudes, height, width, channels };
  }

  /** Internal state for checkpoints (see ./persist). */
  exportState(): { stepsDone: number; rng: RngState; modelSampler: BatchSamplerState; policySampler: BatchSamplerState; policyOptimizer: OptimizerState; modelOptimizer: OptimizerState } {
    return {
      stepsDone: this.stepsDone,
      rng: this.rng.state(),
      modelSampler: this.modelSampler.state(),
      policySampler: this.policySampler.state(),
      policyOptimizer: this.policyOptimizer.state(),
      modelOptimizer: this.modelOptimizer.state(),
    };
  }

  importState(state: ReturnType<DraSearch['exportState']>): void {
    this.stepsDone = state.stepsDone;
    this.rng = new Rng(state.rng);
    this.modelSampler = BatchSampler.fromState(state.modelSampler);
    this.policySampler = BatchSampler.fromState(state.policySampler);
    this.policyOptimizer.loadState(state.policyOptimizer);
    this.modelOptimizer.loadState(state.modelOptimizer);
  }

  /** Saves the whole search state to a run folder (atomic; see saveSearch). */
  async save(dir: string): Promise<void> {
    this.assertLive('save()');
    // Required lazily: persist.ts constructs DraSearch, so a static import would be circular.
    await (require('./persist') as typeof import('./persist')).saveSearch(this, dir);
  }

  /** Loads a search saved with `save(dir)`; it continues exactly where it stopped. */
  static async load(dir: string, options: { backend?: string } = {}): Promise<DraSearch> {
    return (require('./persist') as typeof import('./persist')).loadSearch(dir, options);
  }

  /** Refuses work on a disposed search with what to do instead (not tfjs's "Tensor is disposed"). */
  private assertLive(what: string): void {
    if (this.disposed) throw new Error(`DraSearch.${what}: this search was disposed; create a new one, or load a saved one with DraSearch.load(dir)`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stop();
    this.policy.dispose();
    this.model.dispose();
    this.policyOptimizer.dispose();
    this.modelOptimizer.dispose();
  }
}

/** What loadDataset needs to reproduce a search's data. */
export function datasetOptions(config: SearchConfig): { seed: number; trainCount?: number; testCount?: number } {
  return {
    seed: config.seed,
    ...(config.trainCount !== undefined ? { trainCount: config.trainCount } : {}),
    ...(config.testCount !== undefined ? { testCount: config.testCount } : {}),
  };
}

function emptyRecord(step: number): StepRecord {
  return { step, epoch: NaN, trainLoss: NaN, trainAccuracy: NaN, valLoss: NaN, valCrossEntropy: NaN, valAccuracy: NaN, kl: NaN, modelLearningRate: NaN, policyLearningRate: NaN, milliseconds: 0 };
}

/** Images times a Cutout mask [N * H * W] (broadcast over channels), or the images when there is none. */
function withCutout(images: tf.Tensor4D, mask: Float32Array | undefined): tf.Tensor4D {
  if (!mask) return images;
  const [n, h, w] = images.shape;
  return tf.mul(images, tf.tensor4d(mask, [n, h, w, 1])) as tf.Tensor4D;
}

/** Cutout (DeVries & Taylor): a size x size zero square per image at a uniform centre, clipped at the borders. */
export function cutoutMaskFor(shape: readonly number[], size: number, rng: Rng): Float32Array {
  const [n, h, w] = shape as [number, number, number];
  const mask = new Float32Array(n * h * w).fill(1);
  for (let i = 0; i < n; i++) {
    const cy = rng.int(h);
    const cx = rng.int(w);
    const y0 = Math.max(0, cy - Math.floor(size / 2));
    const y1 = Math.min(h, cy + Math.ceil(size / 2));
    const x0 = Math.max(0, cx - Math.floor(size / 2));
    const x1 = Math.min(w, cx + Math.ceil(size / 2));
    for (let y = y0; y < y1; y++) mask.fill(0, i * h * w + y * w + x0, i * h * w + y * w + x1);
  }
  return mask;
}

/** Lets a pending SIGINT / stop() land between the two halves of a step. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function disposeOptimizerState(state: OptimizerState): void {
  tf.dispose(state.slots);
}
