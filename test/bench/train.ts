/**
 * `npm run bench -- train`: one full training step (forward, backward, SGD momentum
 * update) of CIFAR ResNet-20, batch 64, 32x32x3, on wasm, side by side with the same
 * network and step in PyTorch on the CPU (scripts/bench_train_torch.py, one thread),
 * plus the pure-JS cpu backend on a small batch for reference and tiny-cnn on wasm.
 * Runs alternate between wasm and PyTorch so machine load hits both alike; the ratio is
 * the figure to read (meta.ratioCpuTime, from process CPU time, is the steadier one on a
 * loaded machine). The per-kernel profile of one wasm step goes into `meta`.
 *
 * Environment: DRALAB_BENCH_ROUNDS (default 3), DRALAB_BENCH_STEPS per round (default 3),
 * DRALAB_BENCH_CPU_BATCH (default 4; 0 skips the cpu row), DRALAB_PYTHON (default
 * /usr/bin/python3).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { createModel } from '../../src/models';
import type { Model } from '../../src/models/types';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';
import { profileKernels } from '../helpers/kernels';
import type { BenchResult, BenchRow } from './main';

const envInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return value;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Workload {
  model: Model;
  optimizer: SGD;
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
}

function workload(name: string, batch: number): Workload {
  const rng = new Rng(1);
  return {
    model: createModel(name, { numClasses: 10, inputShape: [32, 32, 3], seed: 1 }),
    optimizer: new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
    images: tf.tensor4d(rng.uniform(batch * 32 * 32 * 3, 0, 255), [batch, 32, 32, 3]),
    labels: tf.tensor1d(Array.from({ length: batch }, () => rng.int(10)), 'int32'),
  };
}

function release(w: Workload): void {
  tf.dispose([w.images, w.labels]);
  w.model.dispose();
  w.optimizer.dispose();
}

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Wall and process CPU milliseconds per step (wasm runs on the main thread only). */
async function timeSteps(w: Workload, steps: number, cpuTimes: number[] = []): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    const cpuStart = cpuNow();
    await trainStep(w.model, w.optimizer, w.images, w.labels);
    times.push(performance.now() - start);
    cpuTimes.push(cpuNow() - cpuStart);
  }
  return times;
}

interface TorchResult {
  msPerStep: number;
  times: number[];
  cpuTimes: number[];
  parameters: number;
  threads: number;
  torch: string;
}

function runTorch(batch: number, steps: number): TorchResult {
  const python = process.env.DRALAB_PYTHON ?? '/usr/bin/python3';
  const script = join(__dirname, '../../../scripts/bench_train_torch.py');
  const out = spawnSync(python, [script, '--batch', String(batch), '--steps', String(steps), '--warmup', '2', '--threads', '1'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${python} ${script} failed (status ${out.status}): ${out.stderr || out.error?.message}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as TorchResult;
}

export async function run(): Promise<BenchResult> {
  const rounds = envInt('DRALAB_BENCH_ROUNDS', 3);
  const steps = envInt('DRALAB_BENCH_STEPS', 3);
  const cpuBatch = envInt('DRALAB_BENCH_CPU_BATCH', 4);
  const batch = 64;
  const report = await selectBackend({ backend: 'wasm', reselect: true });

  const resnet = workload('resnet-20', batch);
  await timeSteps(resnet, 2);
  const wasmTimes: number[] = [];
  const torchTimes: number[] = [];
  const wasmCpuTimes: number[] = [];
  const torchCpuTimes: number[] = [];
  let torchInfo: TorchResult | undefined;
  for (let r = 0; r < Math.max(1, rounds); r++) {
    // One untimed step after the PyTorch process ran (its caches and pages are cold then,
    // about +300 ms), as the PyTorch side discards its warm-up steps in every round.
    if (r > 0) await timeSteps(resnet, 1);
    wasmTimes.push(...(await timeSteps(resnet, steps, wasmCpuTimes)));
    try {
      torchInfo = runTorch(batch, steps);
      torchTimes.push(...torchInfo.times);
      torchCpuTimes.push(...torchInfo.cpuTimes);
    } catch (err) {
      if (r === 0) console.warn(`PyTorch side skipped: ${err instanceof Error ? err.message : String(err)}`);
      break;
    }
  }
  const profile = await profileKernels(() => trainStep(resnet.model, resnet.optimizer, resnet.images, resnet.labels));
  const profiledTotal = profile.kernels.reduce((s, k) => s + k.selfMs, 0);
  const topKernels = profile.kernels.slice(0, 12).map((k) => ({ kernel: k.kernel, ms: +k.selfMs.toFixed(1), calls: k.calls, share: +(k.selfMs / profile.totalMs).toFixed(3) }));
  const parameters = resnet.model.parameterCount();
  release(resnet);

  const tiny = workload('tiny-cnn', batch);
  await timeSteps(tiny, 2);
  const tinyMs = median(await timeSteps(tiny, 5));
  release(tiny);

  const wasmMs = median(wasmTimes);
  const torchMs = torchTimes.length > 0 ? median(torchTimes) : null;
  const rows: BenchRow[] = [
    { step: 'resnet-20 train step', backend: 'wasm (dralab)', batch, msPerStep: +wasmMs.toFixed(1), ratioToTorch: torchMs ? +(wasmMs / torchMs).toFixed(2) : null },
    { step: 'resnet-20 train step', backend: `pytorch ${torchInfo?.torch ?? '(unavailable)'} cpu, 1 thread`, batch, msPerStep: torchMs ? +torchMs.toFixed(1) : null, ratioToTorch: torchMs ? 1 : null },
    { step: 'tiny-cnn train step', backend: 'wasm (dralab)', batch, msPerStep: +tinyMs.toFixed(1), ratioToTorch: null },
  ];

  if (cpuBatch > 0) {
    await selectBackend({ backend: 'cpu', reselect: true });
    const cpu = workload('resnet-20', cpuBatch);
    const cpuMs = median(await timeSteps(cpu, 1));
    release(cpu);
    rows.push({ step: 'resnet-20 train step', backend: 'cpu (pure JS)', batch: cpuBatch, msPerStep: +cpuMs.toFixed(0), ratioToTorch: null });
    await selectBackend({ backend: 'wasm', reselect: true });
  }

  return {
    suite: 'train',
    rows,
    meta: {
      backend: { backend: report.backend, threads: report.threads, versions: report.versions },
      settings: { model: 'resnet-20', parameters, batch, input: [32, 32, 3], optimizer: 'SGD lr 0.1 nesterov momentum 0.9 wd 5e-4', rounds, stepsPerRound: steps, alternating: true, warmupStepsPerRound: { wasm: 1, torch: 2 } },
      wasmStepMs: wasmTimes.map((t) => +t.toFixed(1)),
      torchStepMs: torchTimes.map((t) => +t.toFixed(1)),
      torch: torchInfo ? { version: torchInfo.torch, threads: torchInfo.threads, parameters: torchInfo.parameters } : null,
      ratioWasmToTorch: torchMs ? +(wasmMs / torchMs).toFixed(3) : null,
      // Process CPU time per step: on a loaded machine the wall clock counts time spent
      // waiting for a core, which hits the two sides unequally; CPU time does not.
      wasmCpuMs: wasmCpuTimes.map((t) => +t.toFixed(1)),
      torchCpuMs: torchCpuTimes.map((t) => +t.toFixed(1)),
      ratioCpuTime: torchCpuTimes.length > 0 ? +(median(wasmCpuTimes) / median(torchCpuTimes)).toFixed(3) : null,
      profile: {
        note: 'self time per kernel of one wasm step; Parent>Kernel = dispatched inside a composed wasm kernel',
        stepMs: +profile.totalMs.toFixed(1),
        kernelMs: +profiledTotal.toFixed(1),
        topKernels,
      },
      loadAverage: (require('node:os') as typeof import('node:os')).loadavg(),
    },
  };
}
