/**
 * `npm run bench -- train`: one full training step (forward, backward, SGD momentum
 * update) of CIFAR ResNet-20 and WRN-16-2, batch 64, 32x32x3, on wasm at 1 thread and at
 * every core, with convolutions on oneDNN (the native addon, where built) and on XNNPACK,
 * side by side with the same networks and step in PyTorch on the CPU at the
 * same thread counts (scripts/bench_train_torch.py). Runs alternate between dralab and
 * PyTorch so machine load hits both alike; the ratios are the figures to read. At one
 * thread the ratio of process CPU time is reported too (steadier on a loaded machine; at
 * several threads CPU time adds up the threads, so wall time is the measure). The
 * per-kernel profile of one dralab step at each thread count goes into `meta` and the
 * table into BENCHMARKS.md.
 *
 * Environment: DRALAB_BENCH_MODELS (default resnet-20,wrn-16-2), DRALAB_BENCH_ROUNDS
 * (default 3), DRALAB_BENCH_STEPS per round (default 3), DRALAB_PYTHON (default
 * /usr/bin/python3).
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadOneDnn, oneDnnUnavailableReason, type ConvolutionEngine } from '../../src/backend/onednn';
import { selectBackend } from '../../src/backend/select';
import { MAX_WASM_THREADS } from '../../src/backend/wasm-threads';
import { createModel } from '../../src/models';
import type { Model } from '../../src/models/types';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';
import { profileKernels } from '../helpers/kernels';
import type { BenchResult, BenchRow } from './main';
import { envInt, envList, median, runTorchTrainStep, writeBenchmarksSection, type TorchTrainResult } from './util';

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

/** Wall milliseconds per step, and process CPU milliseconds into `cpuTimes`. */
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

type Engine = ConvolutionEngine;

interface EngineMeasure {
  engine: Engine;
  ms: number;
  cpuMs: number;
  times: number[];
  profile: { stepMs: number; topKernels: Array<{ kernel: string; ms: number; calls: number; share: number }> };
}

interface Measured {
  model: string;
  threads: number;
  engines: EngineMeasure[];
  torchMs: number | null;
  torchCpuMs: number | null;
  torch: TorchTrainResult | undefined;
  torchTimes: number[];
}

/**
 * Selects wasm with `threads` and `engine` (the thread pool differs by engine, so this
 * reselects, which drops the wasm backend's tensors: each round builds its workload anew).
 */
async function selectEngine(engine: Engine, threads: number): Promise<void> {
  const report = await selectBackend({ backend: 'wasm', threads, convolutions: engine, reselect: true });
  if (report.threads !== threads) throw new Error(`asked for ${threads} threads, the backend reports ${report.threads}`);
}

async function measure(model: string, threads: number, engines: Engine[], batch: number, rounds: number, steps: number): Promise<Measured> {
  const times = new Map(engines.map((e) => [e, { wall: [] as number[], cpu: [] as number[] }]));
  const torchTimes: number[] = [];
  const torchCpu: number[] = [];
  let torch: TorchTrainResult | undefined;
  let torchOk = true;
  const profiles = new Map<Engine, EngineMeasure['profile']>();
  for (let r = 0; r < Math.max(1, rounds); r++) {
    for (const engine of engines) {
      await selectEngine(engine, threads);
      const w = workload(model, batch);
      // Two untimed steps: kernels set up, wasm memory grown, caches warm after the other side ran.
      await timeSteps(w, 2);
      const t = times.get(engine)!;
      t.wall.push(...(await timeSteps(w, steps, t.cpu)));
      if (r === rounds - 1) {
        const profile = await profileKernels(() => trainStep(w.model, w.optimizer, w.images, w.labels));
        profiles.set(engine, {
          stepMs: +profile.totalMs.toFixed(1),
          topKernels: profile.kernels.slice(0, 10).map((k) => ({ kernel: k.kernel, ms: +k.selfMs.toFixed(1), calls: k.calls, share: +(k.selfMs / profile.totalMs).toFixed(3) })),
        });
      }
      release(w);
    }
    if (!torchOk) continue;
    try {
      torch = runTorchTrainStep(batch, steps, threads, model);
      torchTimes.push(...torch.times);
      torchCpu.push(...torch.cpuTimes);
    } catch (err) {
      if (r === 0) console.warn(`PyTorch side skipped: ${err instanceof Error ? err.message : String(err)}`);
      torchOk = false;
    }
  }
  return {
    model,
    threads,
    engines: engines.map((engine) => {
      const t = times.get(engine)!;
      return { engine, ms: median(t.wall), cpuMs: median(t.cpu), times: t.wall, profile: profiles.get(engine)! };
    }),
    torchMs: torchTimes.length ? median(torchTimes) : null,
    torchCpuMs: torchCpu.length ? median(torchCpu) : null,
    torch,
    torchTimes,
  };
}

const ENGINE_LABEL: Record<Engine, string> = { onednn: 'oneDNN', xnnpack: 'XNNPACK' };

const fixed = (v: number | null, digits = 1) => (v === null ? null : +v.toFixed(digits));

export async function run(): Promise<BenchResult> {
  const rounds = envInt('DRALAB_BENCH_ROUNDS', 3);
  const steps = envInt('DRALAB_BENCH_STEPS', 3);
  const models = envList('DRALAB_BENCH_MODELS', 'resnet-20,wrn-16-2');
  const batch = 64;
  const allCores = Math.min(os.availableParallelism(), MAX_WASM_THREADS);
  const threadCounts = allCores > 1 ? [1, allCores] : [1];
  const engines: Engine[] = loadOneDnn() !== undefined ? ['onednn', 'xnnpack'] : ['xnnpack'];
  if (engines.length === 1) console.warn(`oneDNN rows skipped: ${oneDnnUnavailableReason()}`);
  const measured: Measured[] = [];
  for (const model of models) for (const threads of threadCounts) measured.push(await measure(model, threads, engines, batch, rounds, steps));
  await selectBackend({ backend: 'wasm', reselect: true });

  const rows: BenchRow[] = measured.flatMap((m) => m.engines.map((e) => ({
    model: m.model,
    threads: m.threads,
    convolutions: ENGINE_LABEL[e.engine],
    'dralab ms/step': fixed(e.ms),
    'PyTorch ms/step': fixed(m.torchMs),
    'ratio (wall)': m.torchMs ? fixed(e.ms / m.torchMs, 2) : null,
    'ratio (CPU time)': m.threads === 1 && m.torchCpuMs ? fixed(e.cpuMs / m.torchCpuMs, 2) : null,
  })));
  const speedups: BenchRow[] = [];
  if (threadCounts.length > 1) {
    for (const model of models) {
      const [one, all] = [measured.find((m) => m.model === model && m.threads === 1)!, measured.find((m) => m.model === model && m.threads === allCores)!];
      const row: BenchRow = { model };
      for (const engine of engines) {
        const [a, b] = [one.engines.find((e) => e.engine === engine)!, all.engines.find((e) => e.engine === engine)!];
        row[`dralab (${ENGINE_LABEL[engine]}) 1 -> ${allCores} threads`] = fixed(a.ms / b.ms, 2);
      }
      row[`PyTorch 1 -> ${allCores} threads`] = one.torchMs && all.torchMs ? fixed(one.torchMs / all.torchMs, 2) : null;
      speedups.push(row);
    }
  }
  const table = (list: BenchRow[]) => {
    const header = Object.keys(list[0]!);
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...list.map((r) => `| ${header.map((h) => String(r[h] ?? '-')).join(' | ')} |`)].join('\n');
  };
  const torchVersion = measured.find((m) => m.torch)?.torch?.torch ?? '(unavailable)';
  const profiles = measured.flatMap((m) => m.engines.map((e) => `- ${m.model}, ${m.threads} thread${m.threads > 1 ? 's' : ''}, ${ENGINE_LABEL[e.engine]}: ${e.profile.topKernels.slice(0, 6).map((k) => `${k.kernel} ${Math.round(k.share * 100)}%`).join(', ')}`)).join('\n');
  writeBenchmarksSection(
    'train',
    'Training step: dralab (wasm) vs PyTorch, one thread and every core',
    `Batch 64 of 32x32x3, SGD with Nesterov momentum. dralab on wasm with its convolutions on oneDNN (the native addon, on OpenMP threads; the other kernels on the single-threaded wasm build) and on XNNPACK (wasm's own, threads from tfjs's threaded-SIMD build on Node worker threads); PyTorch ${torchVersion} on the CPU with torch.set_num_threads at the same count. ${os.availableParallelism()} cores; ${rounds} alternating rounds of ${steps} steps, medians.\n\n${table(rows)}\n\n${speedups.length ? `${table(speedups)}\n\n` : ''}Largest kernels of one dralab step (self time, share of the step):\n\n${profiles}`,
  );
  return {
    suite: 'train',
    rows: [...rows, ...speedups],
    meta: {
      batch,
      cores: os.availableParallelism(),
      threadCounts,
      engines,
      rounds,
      stepsPerRound: steps,
      torch: torchVersion,
      measured: measured.map((m) => ({ model: m.model, threads: m.threads, torchStepMs: m.torchTimes.map((t) => +t.toFixed(1)), torchCpuMs: fixed(m.torchCpuMs), engines: m.engines.map((e) => ({ engine: e.engine, stepMs: e.times.map((t) => +t.toFixed(1)), cpuMs: fixed(e.cpuMs), profile: e.profile })) })),
      loadAverage: os.loadavg(),
    },
  };
}
