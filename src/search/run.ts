/**
 * The run loop of a search: steps until a count, the end of the run, an abort or a stop,
 * always ending at a step boundary. A step rejected as non-finite is recorded and skipped
 * (or ends the run, with `onNonFinite: 'stop'` or after MAX_CONSECUTIVE_REJECTIONS in a row).
 */
import { NonFiniteLossError } from '../train/step';
import type { History } from './history';
import type { StepRecord } from './record';

/** What the loop needs of a search (DraSearch). */
export interface SteppableSearch {
  readonly config: { steps: number; onNonFinite: 'skip' | 'stop' };
  readonly stepCount: number;
  readonly history: History;
  readonly state: { skipDraws(): void };
  step(signal?: AbortSignal): Promise<StepRecord>;
}

/** A step stopped by its abort signal between its two halves; the search is unchanged. */
export class SearchAbortedError extends Error {
  constructor(where: string) {
    super(`search step aborted during the ${where}; the search is unchanged`);
    this.name = 'AbortError';
  }
}

export interface RunOptions<S = SteppableSearch> {
  /** Steps to run in this call (default: until config.steps is reached). */
  steps?: number;
  /** Stops cleanly at the next step boundary when aborted. */
  signal?: AbortSignal;
  /** Called after every step; an exception thrown here stops the run after that step (which is kept). */
  onStep?: (record: StepRecord, search: S) => void | Promise<void>;
}

export interface RunResult {
  records: StepRecord[];
  /** Why the loop ended. */
  reason: 'completed' | 'aborted' | 'non-finite' | 'callback-error';
  error?: Error;
}

/** Every run in flight in this process (all copies of dralab), for a kernel interrupt to stop. */
const activeRuns: Set<AbortController> = ((globalThis as unknown as Record<symbol, Set<AbortController> | undefined>)[Symbol.for('dralab.activeRuns')] ??= new Set());

/** Asks every run in flight to stop at its next step boundary; returns how many there were. */
export function stopActiveRuns(): number {
  for (const controller of activeRuns) controller.abort();
  return activeRuns.size;
}

/** A run stops after this many non-finite steps in a row, whatever onNonFinite says. */
export const MAX_CONSECUTIVE_REJECTIONS = 5;

/** Runs `search` under `controller` (which `search.stop()` aborts); see DraSearch.run. */
export async function runSteps<S extends SteppableSearch>(search: S, controller: AbortController, options: RunOptions<S>): Promise<RunResult> {
  // A rejected (non-finite) step uses up one of the requested steps without advancing
  // stepCount, so a run whose losses stay non-finite still ends.
  const attempts = Math.min(options.steps ?? Infinity, search.config.steps - search.stepCount);
  const onOuterAbort = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  options.signal?.addEventListener('abort', onOuterAbort);
  const records: StepRecord[] = [];
  let consecutiveRejections = 0;
  activeRuns.add(controller);
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (controller.signal.aborted) return { records, reason: 'aborted' };
      let record: StepRecord;
      try {
        record = await search.step(controller.signal);
        consecutiveRejections = 0;
      } catch (err) {
        if (err instanceof SearchAbortedError) return { records, reason: 'aborted' };
        if (!(err instanceof NonFiniteLossError)) throw err;
        const rejected: StepRecord = { ...emptyRecord(search.stepCount + 1), rejected: err.message };
        search.history.steps.push(rejected);
        records.push(rejected);
        consecutiveRejections++;
        if (search.config.onNonFinite === 'stop' || consecutiveRejections >= MAX_CONSECUTIVE_REJECTIONS) {
          return { records, reason: 'non-finite', error: err };
        }
        // Skipping consumes the batches and randomness so the next attempt sees new data.
        search.state.skipDraws();
        continue;
      }
      records.push(record);
      if (options.onStep) {
        try {
          await options.onStep(record, search);
        } catch (err) {
          return { records, reason: 'callback-error', error: err instanceof Error ? err : new Error(String(err)) };
        }
      }
    }
    return { records, reason: controller.signal.aborted ? 'aborted' : 'completed' };
  } finally {
    activeRuns.delete(controller);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function emptyRecord(step: number): StepRecord {
  return { step, epoch: NaN, trainLoss: NaN, trainAccuracy: NaN, valLoss: NaN, valCrossEntropy: NaN, valAccuracy: NaN, kl: NaN, modelLearningRate: NaN, policyLearningRate: NaN, milliseconds: 0 };
}
