/**
 * Saving a whole search to a run folder and loading it back:
 *   <dir>/checkpoint/   manifest.json + tensors.bin (atomic swap, see ./checkpoint)
 *   <dir>/policy.json   the current policy (validated policy file)
 *   <dir>/history.jsonl per-step records and policy snapshots
 * Every file is written to a temporary name first and renamed into place.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeTextAtomic } from '../util/files';
import { join } from 'node:path';
import { selectBackend } from '../backend/select';
import { fingerprintImageSet, loadDataset } from '../data';
import { readCheckpoint, writeCheckpoint, type NamedArray } from './checkpoint';
import { resolveSearchConfig, type SearchConfig } from './config';
import { History } from './history';
import { DraSearch, datasetOptions } from './search';

const count = z.number().int().nonnegative();
const rngState = z.tuple([count, count, count, count]);
const samplerState = z.object({ epoch: count, position: count, epochRng: rngState, batchSize: z.number().int().positive(), count: z.number().int().positive(), dropLast: z.boolean() });
const optimizerMeta = z.object({ name: z.string(), step: count, slots: count });

/**
 * What a checkpoint's manifest must hold. Checked whole on load: a manifest without its
 * config or RNG state is corrupt, never filled in with defaults (which would resume as a
 * different run: seed 0, other halves).
 */
const checkpointStateSchema = z.object({
  config: z.record(z.string(), z.unknown()),
  search: z.object({ stepsDone: count, rng: rngState, modelSampler: samplerState, policySampler: samplerState }),
  optimizers: z.object({ policy: optimizerMeta, model: optimizerMeta }),
  historyLength: z.object({ steps: count, snapshots: count }),
  /** SHA-256 of the training images and labels the run drew from (absent in older checkpoints). */
  data: z.object({ trainSha256: z.string(), trainCount: count }).optional(),
});

type CheckpointState = z.infer<typeof checkpointStateSchema>;

function parseCheckpointState(state: unknown, path: string): CheckpointState {
  const parsed = checkpointStateSchema.safeParse(state);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(state)'}: ${/received undefined/.test(i.message) ? 'missing' : i.message}`).join('; ');
  throw new Error(`checkpoint ${path}: manifest.json is corrupt, the run's state is incomplete (${problems}); it cannot be resumed as the run it was`);
}

async function toArray(name: string, t: tf.Tensor): Promise<NamedArray> {
  const data = await t.data();
  const values = t.dtype === 'int32' ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array);
  return { name, shape: [...t.shape], dtype: t.dtype === 'int32' ? 'int32' : 'float32', values };
}

export async function saveSearch(search: DraSearch, dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create run folder ${dir}: ${(err as Error).message}`);
  }
  const exported = search.exportState();
  const { policyOptimizer, modelOptimizer, ...rest } = exported;
  const named: Array<[string, tf.Tensor]> = [
    ...search.policy.variables.map((v, i): [string, tf.Tensor] => [`policy/${i}`, v]),
    ...search.model.trainableVariables.map((v, i): [string, tf.Tensor] => [`model/${i}`, v]),
    ...search.model.stateVariables.map((v, i): [string, tf.Tensor] => [`state/${i}`, v]),
    ...policyOptimizer.slots.map((t, i): [string, tf.Tensor] => [`policyOptimizer/${i}`, t]),
    ...modelOptimizer.slots.map((t, i): [string, tf.Tensor] => [`modelOptimizer/${i}`, t]),
  ];
  let arrays: NamedArray[];
  try {
    arrays = await Promise.all(named.map(([name, t]) => toArray(name, t)));
  } finally {
    tf.dispose([...policyOptimizer.slots, ...modelOptimizer.slots]);
  }
  const state: CheckpointState = {
    config: search.config,
    search: rest,
    optimizers: {
      policy: { name: policyOptimizer.name, step: policyOptimizer.step, slots: policyOptimizer.slots.length },
      model: { name: modelOptimizer.name, step: modelOptimizer.step, slots: modelOptimizer.slots.length },
    },
    historyLength: { steps: search.history.steps.length, snapshots: search.history.snapshots.length },
    data: { trainSha256: fingerprintImageSet(search.dataset.train), trainCount: search.dataset.train.count },
  };
  const history = search.history.toJsonLines();
  writeCheckpoint(join(dir, 'checkpoint'), state, arrays, { 'history.jsonl': history });
  // The checkpoint is the source of truth; these two are conveniences for people and tools.
  writeTextAtomic(join(dir, 'policy.json'), `${JSON.stringify(search.policy.snapshot({ step: search.stepCount, seed: search.config.seed, data: search.config.data, model: search.config.model }), null, 2)}\n`);
  writeTextAtomic(join(dir, 'history.jsonl'), history);
}

/** Loads a search saved by saveSearch; it continues exactly where it stopped. */
export async function loadSearch(dir: string, options: { backend?: string; steps?: number } = {}): Promise<DraSearch> {
  const checkpoint = readCheckpoint(join(dir, 'checkpoint'));
  const state = parseCheckpointState(checkpoint.state, checkpoint.path);
  let saved: SearchConfig;
  try {
    saved = resolveSearchConfig(state.config as Partial<SearchConfig>);
  } catch (err) {
    throw new Error(`checkpoint ${checkpoint.path}: the saved config is invalid: ${(err as Error).message}`);
  }
  // The one setting a resume may change: the total step count, to extend (or shorten) a run.
  if (options.steps !== undefined && options.steps < state.search.stepsDone) {
    throw new Error(`--steps ${options.steps} is below the ${state.search.stepsDone} steps this run has already done`);
  }
  const config = options.steps !== undefined ? { ...saved, steps: options.steps } : saved;
  const backend = await selectBackend(options.backend ? { backend: options.backend } : {});
  const dataset = await loadDataset(config.data, datasetOptions(config));
  if (state.data) {
    const now = { trainSha256: fingerprintImageSet(dataset.train), trainCount: dataset.train.count };
    if (now.trainSha256 !== state.data.trainSha256) {
      const counts = now.trainCount === state.data.trainCount ? `the same ${now.trainCount} training images, different content` : `${state.data.trainCount} training images when saved, ${now.trainCount} now`;
      throw new Error(`cannot resume ${dir}: the data '${config.data}' changed since the checkpoint was written (${counts}); a resume on other data would draw other proxy halves and batches. Restore the data, or start a new run.`);
    }
  }
  const search = new DraSearch({ config, dataset, backend });
  const take = (name: string): tf.Tensor => {
    const a = checkpoint.arrays.get(name);
    if (!a) throw new Error(`checkpoint ${checkpoint.path}: missing tensor '${name}'`);
    return tf.tensor(a.values, a.shape, a.dtype);
  };
  const assignAll = (prefix: string, vars: readonly tf.Variable[]) => {
    vars.forEach((v, i) => {
      const t = take(`${prefix}/${i}`);
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        t.dispose();
        throw new Error(`checkpoint ${checkpoint.path}: tensor ${prefix}/${i} has shape [${t.shape}], the model expects [${v.shape}]`);
      }
      v.assign(t);
      t.dispose();
    });
  };
  assignAll('policy', search.policy.variables);
  assignAll('model', search.model.trainableVariables);
  assignAll('state', search.model.stateVariables);
  const slots = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => take(`${prefix}/${i}`));
  const policySlots = slots('policyOptimizer', state.optimizers.policy.slots);
  const modelSlots = slots('modelOptimizer', state.optimizers.model.slots);
  search.importState({
    ...state.search,
    policyOptimizer: { name: state.optimizers.policy.name, step: state.optimizers.policy.step, slots: policySlots },
    modelOptimizer: { name: state.optimizers.model.name, step: state.optimizers.model.step, slots: modelSlots },
  });
  tf.dispose([...policySlots, ...modelSlots]);
  await search.policy.refresh();
  const historyPath = join(checkpoint.path, 'history.jsonl');
  if (existsSync(historyPath)) {
    const history = History.fromJsonLines(readFileSync(historyPath, 'utf8'), historyPath);
    search.history.steps.length = 0;
    search.history.snapshots.length = 0;
    search.history.steps.push(...history.steps);
    search.history.snapshots.push(...history.snapshots);
  }
  return search;
}
