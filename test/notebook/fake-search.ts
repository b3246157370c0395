/**
 * A search stand-in with DraSearch's run/step contract (abort honoured at step
 * boundaries, atomic steps, onStep after each) and synthetic records, so the dashboard is
 * tested apart from the model. The busy wait stands for a step's synchronous compute.
 */
import type { PolicySnapshot, SnapshotRecord, StepRecord } from '../../src/search/record';
import { syntheticPolicy, syntheticSteps } from '../widgets/fixtures';

export class FakeSearch {
  readonly config = { steps: 1000 };
  readonly history: { steps: StepRecord[]; snapshots: SnapshotRecord[] } = { steps: [], snapshots: [] };
  stepCount = 0;
  /** Throw from this step number (1-based) on. */
  failAt: number | undefined;
  private readonly records = syntheticSteps(1000);

  constructor(readonly stepMs: number, readonly snapshotEvery = 10) {
    this.history.snapshots.push({ step: 0, policy: this.policy.snapshot() });
  }

  readonly policy = {
    snapshot: (): PolicySnapshot => syntheticPolicy(2, this.stepCount / 50, 3),
  };

  async step(signal?: AbortSignal): Promise<StepRecord> {
    if (signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    const until = performance.now() + this.stepMs;
    while (performance.now() < until) {
      // busy: a step's compute holds the thread
    }
    if (this.failAt !== undefined && this.stepCount + 1 >= this.failAt) throw new RangeError(`the model produced a [64, 10] tensor where [64, 12] was expected (step ${this.stepCount + 1})`);
    await new Promise((resolve) => setImmediate(resolve));
    const record = { ...this.records[this.stepCount]!, milliseconds: this.stepMs };
    this.stepCount++;
    this.history.steps.push(record);
    if (this.stepCount % this.snapshotEvery === 0) this.history.snapshots.push({ step: this.stepCount, policy: this.policy.snapshot() });
    return record;
  }

  async run(options: { steps?: number; signal?: AbortSignal; onStep?: (r: StepRecord) => void | Promise<void> }): Promise<{ records: StepRecord[]; reason: string; error?: Error }> {
    const target = this.stepCount + (options.steps ?? this.config.steps - this.stepCount);
    const records: StepRecord[] = [];
    while (this.stepCount < target) {
      if (options.signal?.aborted) return { records, reason: 'aborted' };
      const r = await this.step(options.signal);
      records.push(r);
      try {
        await options.onStep?.(r);
      } catch (err) {
        return { records, reason: 'callback-error', error: err as Error };
      }
    }
    return { records, reason: 'completed' };
  }
}
