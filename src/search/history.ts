import type { SnapshotRecord, StepRecord } from './record';

/** Per-step records and periodic policy snapshots of a search, as plain data. */
export class History {
  readonly steps: StepRecord[] = [];
  readonly snapshots: SnapshotRecord[] = [];

  /** One JSON object per line: `{"type":"step",...}` and `{"type":"snapshot",...}`. */
  /** Replaces both lists with another history's (a resumed run's saved history). */
  replaceWith(other: History): void {
    this.steps.splice(0, this.steps.length, ...other.steps);
    this.snapshots.splice(0, this.snapshots.length, ...other.snapshots);
  }

  toJsonLines(): string {
    const lines: string[] = [];
    let s = 0;
    for (const rec of this.steps) {
      while (s < this.snapshots.length && this.snapshots[s]!.step <= rec.step - 1) lines.push(JSON.stringify({ type: 'snapshot', ...this.snapshots[s++]! }));
      lines.push(JSON.stringify({ type: 'step', ...rec }));
    }
    while (s < this.snapshots.length) lines.push(JSON.stringify({ type: 'snapshot', ...this.snapshots[s++]! }));
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  static fromJsonLines(text: string, source = 'history.jsonl'): History {
    const history = new History();
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let obj: { type?: string } & Record<string, unknown>;
      try {
        obj = JSON.parse(line) as typeof obj;
      } catch (err) {
        throw new Error(`${source}:${i + 1}: not valid JSON (${(err as Error).message})`);
      }
      const { type, ...rest } = obj;
      if (type === 'step') history.steps.push(rest as unknown as StepRecord);
      else if (type === 'snapshot') history.snapshots.push(rest as unknown as SnapshotRecord);
      else throw new Error(`${source}:${i + 1}: unknown record type '${String(type)}' (expected step or snapshot)`);
    });
    return history;
  }

  /** Drops records after `step` (used when a search resumes from an earlier checkpoint). */
  truncate(step: number): void {
    while (this.steps.length && this.steps[this.steps.length - 1]!.step > step) this.steps.pop();
    while (this.snapshots.length && this.snapshots[this.snapshots.length - 1]!.step > step) this.snapshots.pop();
  }
}
