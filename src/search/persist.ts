/**
 * A search's run folder on disk, written and read back verified:
 *   <dir>/checkpoint/   manifest.json + tensors.bin + history.jsonl (atomic swap and
 *                       per-tensor checksums, see ./checkpoint)
 *   <dir>/policy.json   the current policy (validated policy file)
 *   <dir>/history.jsonl per-step records and policy snapshots
 * Every file is written to a temporary name first and renamed into place. This module
 * knows files and formats, not the search: DraSearch.save and DraSearch.load call it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fingerprintImageSet } from '../data';
import type { Dataset } from '../data/types';
import { writeTextAtomic } from '../util/files';
import { readCheckpoint, writeCheckpoint, type NamedArray } from './checkpoint';
import { resolveSearchConfig, type SearchConfig } from './config';
import { History } from './history';
import type { OptimizerMeta, SearchCounters } from './state';

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

/** Everything a run folder holds about a search, as saved. */
export interface SavedSearch {
  config: SearchConfig;
  counters: SearchCounters;
  optimizers: { policy: OptimizerMeta; model: OptimizerMeta };
  arrays: ReadonlyMap<string, NamedArray>;
  history: History | undefined;
  data: { trainSha256: string; trainCount: number } | undefined;
  /** The checkpoint folder actually read (the `.old` fallback after an interrupted swap). */
  path: string;
}

export interface SearchToSave {
  config: SearchConfig;
  counters: SearchCounters;
  optimizers: { policy: OptimizerMeta; model: OptimizerMeta };
  arrays: NamedArray[];
  history: History;
  dataset: Dataset;
  /** The current policy as a policy file (written as policy.json). */
  policy: unknown;
}

export function writeRunFolder(dir: string, search: SearchToSave): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create run folder ${dir}: ${(err as Error).message}`);
  }
  const state: CheckpointState = {
    config: search.config as unknown as Record<string, unknown>,
    search: search.counters,
    optimizers: search.optimizers,
    historyLength: { steps: search.history.steps.length, snapshots: search.history.snapshots.length },
    data: { trainSha256: fingerprintImageSet(search.dataset.train), trainCount: search.dataset.train.count },
  };
  const history = search.history.toJsonLines();
  writeCheckpoint(join(dir, 'checkpoint'), state, search.arrays, { 'history.jsonl': history });
  // The checkpoint is the source of truth; these two are conveniences for people and tools.
  writeTextAtomic(join(dir, 'policy.json'), `${JSON.stringify(search.policy, null, 2)}\n`);
  writeTextAtomic(join(dir, 'history.jsonl'), history);
}

/**
 * Reads a run folder's checkpoint, verified: checksums, a complete state, a valid config.
 * `steps` extends (or shortens, not below what is done) the run's step count.
 */
export function readRunFolder(dir: string, steps?: number): SavedSearch {
  const checkpoint = readCheckpoint(join(dir, 'checkpoint'));
  const state = parseCheckpointState(checkpoint.state, checkpoint.path);
  let config: SearchConfig;
  try {
    config = resolveSearchConfig(state.config as Partial<SearchConfig>);
  } catch (err) {
    throw new Error(`checkpoint ${checkpoint.path}: the saved config is invalid: ${(err as Error).message}`);
  }
  if (steps !== undefined) {
    if (steps < state.search.stepsDone) throw new Error(`--steps ${steps} is below the ${state.search.stepsDone} steps this run has already done`);
    config = { ...config, steps };
  }
  const historyPath = join(checkpoint.path, 'history.jsonl');
  const history = existsSync(historyPath) ? History.fromJsonLines(readFileSync(historyPath, 'utf8'), historyPath) : undefined;
  return { config, counters: state.search, optimizers: state.optimizers, arrays: checkpoint.arrays, history, data: state.data, path: checkpoint.path };
}

/** Refuses to resume on data that is not the data the checkpoint was written with. */
export function checkSameData(saved: SavedSearch, dataset: Dataset, dir: string): void {
  if (!saved.data) return; // written before checkpoints recorded their data
  const now = { trainSha256: fingerprintImageSet(dataset.train), trainCount: dataset.train.count };
  if (now.trainSha256 === saved.data.trainSha256) return;
  const counts = now.trainCount === saved.data.trainCount ? `the same ${now.trainCount} training images, different content` : `${saved.data.trainCount} training images when saved, ${now.trainCount} now`;
  throw new Error(`cannot resume ${dir}: the data '${saved.config.data}' changed since the checkpoint was written (${counts}); a resume on other data would draw other proxy halves and batches. Restore the data, or start a new run.`);
}

function parseCheckpointState(state: unknown, path: string): CheckpointState {
  const parsed = checkpointStateSchema.safeParse(state);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(state)'}: ${/received undefined/.test(i.message) ? 'missing' : i.message}`).join('; ');
  throw new Error(`checkpoint ${path}: manifest.json is corrupt, the run's state is incomplete (${problems}); it cannot be resumed as the run it was`);
}
