/**
 * The DRA bi-level search as a steppable object, with the official code's forward
 * (learner.py, models/preact_resnet.py). Each step:
 *   1. the policy half (./policy-gradient): a batch of the policy half, DRA then Cutout,
 *      loss CE(aug) + lambda KL(p_ori || p_aug), gradients to the policy only;
 *   2. the model half (../train/step): a batch of the model half, randomly cropped and
 *      flipped, DRA with the updated policy, then Cutout, one SGD step of the model.
 * A step is a transaction (./transaction): on an error, a non-finite loss or an abort,
 * the search is exactly as before it. The state a step changes lives in ./state; the run
 * folder format in ./persist.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendReport } from '../backend/select';
import { loadDataset, type ProxySplit } from '../data';
import type { Dataset } from '../data/types';
import type { Model, StateUpdate } from '../models/types';
import type { DraPolicy } from '../policy/dra';
import { cosineLearningRate } from '../train/schedule';
import { NonFiniteLossError } from '../train/step';
import { datasetOptions, resolveCropFlip, resolveSearchConfig, type SearchConfig } from './config';
import { History } from './history';
import { checkLiveSettings, type LiveSettings } from './live-settings';
import { modelStep } from './model-step';
import { checkSameData, readRunFolder, writeRunFolder } from './persist';
import { policyStep } from './policy-gradient';
import type { StepRecord } from './record';
import { runSteps, SearchAbortedError, type RunOptions as RunOptionsOf, type RunResult } from './run';
import { SearchState } from './state';
import { begin, release, rollback } from './transaction';

export { MAX_CONSECUTIVE_REJECTIONS } from './run';
export { NonFiniteLossError, SearchAbortedError };
export type { RunResult };
export type RunOptions = RunOptionsOf<DraSearch>;

export interface SearchParts {
  config: SearchConfig;
  dataset: Dataset;
  backend: BackendReport;
}

export class DraSearch {
  private configNow: SearchConfig;
  readonly dataset: Dataset;
  readonly backend: BackendReport;
  readonly proxy: ProxySplit;
  readonly history = new History();
  /** Settings the search chose itself and why (e.g. crop and flip off for a flip-sensitive dataset). */
  readonly notes: string[] = [];
  /** Everything a step changes (variables, optimisers, RNG, samplers, step count). */
  readonly state: SearchState;
  private stopController: AbortController | undefined;
  private pendingSettings: Partial<LiveSettings> = {};
  private stepping = false;
  private disposed = false;

  /** Builds a search from settings (defaults fill the rest; see SEARCH_CONFIG_SCHEMA). */
  static async create(settings: Partial<SearchConfig> & { backend?: string } = {}): Promise<DraSearch> {
    const kind = settings === null ? 'null' : Array.isArray(settings) ? 'an array' : typeof settings;
    if (kind !== 'object') throw new TypeError(`DraSearch.create(settings): settings must be an object of search settings (or nothing, for the defaults), got ${kind}`);
    const { backend: backendName, ...rest } = settings;
    const config = resolveSearchConfig(rest);
    const backend = await selectBackend(backendName ? { backend: backendName } : {});
    return new DraSearch({ config, dataset: await loadDataset(config.data, datasetOptions(config)), backend });
  }

  /**
   * Loads a search saved with `save(dir)`, verified (checksums, the same data); it
   * continues exactly where it stopped. `steps` extends (or shortens) the run.
   */
  static async load(dir: string, options: { backend?: string; steps?: number } = {}): Promise<DraSearch> {
    const saved = readRunFolder(dir, options.steps);
    const config = saved.config;
    const backend = await selectBackend(options.backend ? { backend: options.backend } : {});
    const dataset = await loadDataset(config.data, datasetOptions(config));
    checkSameData(saved, dataset, dir);
    const search = new DraSearch({ config, dataset, backend });
    await search.state.restore(saved, saved.path);
    if (saved.history) search.history.replaceWith(saved.history);
    return search;
  }

  constructor(parts: SearchParts) {
    const { config, note } = resolveCropFlip(parts.config, parts.dataset);
    this.configNow = config;
    if (note) this.notes.push(note);
    this.dataset = parts.dataset;
    this.backend = parts.backend;
    const { proxy, state } = SearchState.create(this.config, this.dataset);
    this.proxy = proxy;
    this.state = state;
    this.history.snapshots.push({ step: 0, policy: this.policy.snapshot() });
  }

  /** The settings the next step runs with (saved with the run). */
  get config(): SearchConfig {
    return this.configNow;
  }

  /**
   * Changes the temperature, KL weight or learning rates from the next step on; during a
   * step, after it. Checked by each setting's schema; recorded in every step's record.
   */
  setSettings(changes: Partial<LiveSettings>): void {
    this.pendingSettings = { ...this.pendingSettings, ...checkLiveSettings(changes) };
    if (!this.stepping) this.applyPendingSettings();
  }

  private applyPendingSettings(): void {
    this.configNow = { ...this.configNow, ...this.pendingSettings };
    this.pendingSettings = {};
    this.state.policy.setTemperature(this.configNow.temperature);
  }

  /** The policy and the model being searched with (parts of `state`). */
  get policy(): DraPolicy {
    return this.state.policy;
  }
  get model(): Model {
    return this.state.model;
  }

  /** Steps completed so far, and per epoch of the model half. */
  get stepCount(): number {
    return this.state.stepsDone;
  }
  get stepsPerEpoch(): number {
    return this.state.modelSampler.batchesPerEpoch;
  }

  /** The model learning rate for a step (cosine over config.steps). */
  modelLearningRateAt(step: number): number {
    return cosineLearningRate(this.config.modelLearningRate, step, this.config.steps);
  }

  /**
   * Advances exactly one search step and returns its record. Atomic: if it throws
   * (error, abort via `signal`, non-finite loss) the search is as before the call.
   */
  async step(signal?: AbortSignal): Promise<StepRecord> {
    this.assertLive('step()');
    if (this.stepping) throw new Error('DraSearch.step(): another step is still running (a run() in progress?); await it or call stop() first');
    this.stepping = true;
    const started = performance.now();
    const stepNumber = this.state.stepsDone + 1;
    const tx = begin(this.state);
    const pending: StateUpdate[] = [];
    try {
      const c = this.config;
      const modelLearningRate = this.modelLearningRateAt(this.state.stepsDone);
      this.state.modelOptimizer.learningRate = modelLearningRate;
      this.state.policyOptimizer.learningRate = c.policyLearningRate;

      // 1. The policy half (it reads the model half's batch for the second-order gradient).
      const { val, train } = this.state.drawBatches(this.proxy, c.randomCropFlip === true);
      let policy;
      try {
        policy = await policyStep(this.state, c, val, train);
      } finally {
        tf.dispose([val.images, val.labels]);
      }
      if (![policy.loss, policy.crossEntropy, policy.kl].every(Number.isFinite)) throw new NonFiniteLossError('policy loss', stepNumber);
      // A finite loss can still give non-finite parameters (an overflowing temperature or
      // learning rate): such a step is rejected like a non-finite loss.
      if (!Object.values(this.policy.values()).every((values) => values.every(Number.isFinite))) throw new NonFiniteLossError('policy parameters (w, mu or sigma)', stepNumber);
      await this.yieldAndCheckAbort(signal, 'policy step');

      // 2. The model half, augmented by the updated policy.
      let model;
      try {
        model = await modelStep(this.state, c, train, pending, stepNumber);
      } finally {
        tf.dispose([train.images, train.labels]);
      }
      await this.yieldAndCheckAbort(signal, 'model step');

      for (const u of pending) u.variable.assign(u.value);
      release(tx);
      this.state.stepsDone = stepNumber;
      const record: StepRecord = {
        ...{ step: stepNumber, epoch: (stepNumber - 1) / this.stepsPerEpoch, trainLoss: model.loss, trainAccuracy: model.accuracy },
        ...{ valLoss: policy.loss, valCrossEntropy: policy.crossEntropy, valAccuracy: policy.accuracy, kl: policy.kl },
        ...{ modelLearningRate, policyLearningRate: c.policyLearningRate, milliseconds: performance.now() - started },
        ...{ temperature: c.temperature, klWeight: c.klWeight, modelBaseLearningRate: c.modelLearningRate },
      };
      this.history.steps.push(record);
      if (stepNumber % c.snapshotEvery === 0) this.history.snapshots.push({ step: stepNumber, policy: this.policy.snapshot() });
      return record;
    } catch (err) {
      await rollback(this.state, tx);
      throw err;
    } finally {
      tf.dispose(pending.map((u) => u.value));
      this.stepping = false;
      this.applyPendingSettings();
    }
  }

  /**
   * Runs steps until `steps` more are done, config.steps is reached, the signal aborts
   * or `stop()` is called. Always ends at a step boundary with the search intact.
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    this.assertLive('run()');
    if (this.stopController || this.stepping) throw new Error('DraSearch.run(): the search is already running; await that run or call stop() first');
    const controller = new AbortController();
    this.stopController = controller;
    try {
      return await runSteps(this, controller, options);
    } finally {
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

  /** Saves the whole search to a run folder (atomic, checksummed; see ./persist). */
  async save(dir: string): Promise<void> {
    this.assertLive('save()');
    const { arrays, optimizers } = await this.state.toArrays();
    const meta = { step: this.stepCount, seed: this.config.seed, data: this.config.data, model: this.config.model };
    writeRunFolder(dir, { config: this.config, counters: this.state.counters(), optimizers, arrays, history: this.history, dataset: this.dataset, policy: this.policy.snapshot(meta) });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stop();
    this.state.dispose();
  }

  /** Lets a pending SIGINT or stop() land between the two halves of a step, and honours it. */
  private async yieldAndCheckAbort(signal: AbortSignal | undefined, where: string): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new SearchAbortedError(where);
  }

  /** Refuses work on a disposed search with what to do instead (not tfjs's "Tensor is disposed"). */
  private assertLive(what: string): void {
    if (this.disposed) throw new Error(`DraSearch.${what}: this search was disposed; create a new one, or load a saved one with DraSearch.load(dir)`);
  }
}
