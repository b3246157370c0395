/** Small helpers shared by the benchmark suites. */

/** A non-negative integer from the environment, or the fallback when unset. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return value;
}

/** A comma-separated list from the environment, or the fallback when unset. */
export function envList(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What scripts/bench_train_torch.py prints: the same ResNet-20 step in PyTorch on the CPU. */
export interface TorchTrainResult {
  msPerStep: number;
  parameters: number;
  threads: number;
  torch: string;
}

/** Runs the PyTorch peer of the ResNet-20 training step (Debian python3-torch, one thread by default). */
export function runTorchTrainStep(batch: number, steps: number, threads = 1): TorchTrainResult {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const { join } = require('node:path') as typeof import('node:path');
  const python = process.env.DRALAB_PYTHON ?? '/usr/bin/python3';
  const script = join(__dirname, '../../../scripts/bench_train_torch.py');
  const out = spawnSync(python, [script, '--batch', String(batch), '--steps', String(steps), '--warmup', '2', '--threads', String(threads)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${python} ${script} failed (status ${out.status}): ${out.stderr || out.error?.message}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as TorchTrainResult;
}
