/**
 * `npm run bench -- webgpu`: one training step (forward, backward, SGD with Nesterov
 * momentum and weight decay, BatchNorm commit) of a CIFAR model on the WebGPU backend
 * beside wasm, in one process with the same weights and batch. Reports ms/step (median of
 * the timed steps after warm-up steps that include shader compilation), the ratio to wasm
 * and the loss of the first step on each backend (they must agree).
 *
 * On a machine without a GPU the adapter is the software Vulkan (lavapipe) from
 * scripts/setup-vulkan.sh and is expected to be slower than wasm; the figure checks the
 * path. On a GPU machine the same harness measures the real adapter.
 *
 * Settings (environment):
 *   DRALAB_BENCH_MODEL    model name (default resnet-20)
 *   DRALAB_BENCH_BATCH    batch size (default 64)
 *   DRALAB_BENCH_STEPS    timed steps per backend (default 3)
 *   DRALAB_BENCH_WARMUP   untimed steps first (default 1)
 *   DRALAB_BENCH_BACKENDS comma list (default wasm,webgpu)
 *   DRALAB_WEBGPU_ADAPTER Dawn adapter name to use, e.g. "NVIDIA" (see src/backend/webgpu.ts)
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendReport } from '../../src/backend/select';
import { releaseWebgpu } from '../../src/backend/webgpu';
import { createModel } from '../../src/models';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';
import type { BenchResult, BenchRow } from './main';
import { runTorchTrainStep } from './util';

function intSetting(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}='${raw}' must be an integer >= ${min}`);
  return value;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface BackendTiming {
  report: BackendReport;
  msPerStep: number;
  allMs: number[];
  firstLoss: number;
  warmupMs: number;
}

async function timeBackend(backend: string, modelName: string, batch: number, warmup: number, steps: number): Promise<BackendTiming> {
  const report = await selectBackend({ backend, reselect: true, allowSoftwareWebgpu: true });
  const rng = new Rng(2024);
  const model = createModel(modelName, { numClasses: 10, inputShape: [32, 32, 3], seed: 0 });
  const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const images = tf.tensor4d(rng.uniform(batch * 32 * 32 * 3, 0, 255), [batch, 32, 32, 3]);
  const labels = tf.tensor1d(Int32Array.from({ length: batch }, () => rng.int(10)), 'int32');
  try {
    let firstLoss = Number.NaN;
    let warmupMs = 0;
    const allMs: number[] = [];
    for (let s = 0; s < warmup + steps; s++) {
      const start = performance.now();
      // trainStep awaits the loss, which waits for the device to finish the step.
      const { loss } = await trainStep(model, optimizer, images, labels);
      const ms = performance.now() - start;
      if (s === 0) firstLoss = loss;
      if (s < warmup) warmupMs += ms;
      else allMs.push(ms);
    }
    return { report, msPerStep: median(allMs), allMs, firstLoss, warmupMs };
  } finally {
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

export async function run(): Promise<BenchResult> {
  const modelName = process.env.DRALAB_BENCH_MODEL ?? 'resnet-20';
  const batch = intSetting('DRALAB_BENCH_BATCH', 64, 1);
  const steps = intSetting('DRALAB_BENCH_STEPS', 3, 1);
  const warmup = intSetting('DRALAB_BENCH_WARMUP', 1, 0);
  const backends = (process.env.DRALAB_BENCH_BACKENDS ?? 'wasm,webgpu').split(',').map((b) => b.trim()).filter((b) => b !== '');
  const timings: Record<string, BackendTiming> = {};
  const rows: BenchRow[] = [];
  const meta: Record<string, unknown> = { model: modelName, batch, steps, warmup, input: [32, 32, 3] };
  try {
    for (const backend of backends) {
      try {
        timings[backend] = await timeBackend(backend, modelName, batch, warmup, steps);
      } catch (err) {
        // A missing adapter is a row with the reason, not a failed bench run.
        rows.push({ backend, adapter: null, 'ms/step': null, 'x wasm': null, 'first loss': null, note: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
      }
    }
  } finally {
    releaseWebgpu();
  }
  const wasmMs = timings.wasm?.msPerStep;
  const wasmLoss = timings.wasm?.firstLoss;
  for (const [backend, t] of Object.entries(timings)) {
    const d = t.report.details;
    const adapter = backend === 'webgpu' ? `${String(d.description)} (${d.isSoftware ? 'software' : 'hardware'})` : `${t.report.threads} thread(s)`;
    const lossDiff = wasmLoss !== undefined && backend !== 'wasm' ? Math.abs(t.firstLoss - wasmLoss) / Math.abs(wasmLoss) : null;
    rows.push({
      backend,
      adapter,
      'ms/step': t.msPerStep,
      'x wasm': wasmMs !== undefined ? t.msPerStep / wasmMs : null,
      'first loss': t.firstLoss,
      note: `warm-up ${(t.warmupMs / 1000).toFixed(1)} s${lossDiff !== null ? `; loss rel. diff vs wasm ${lossDiff.toExponential(1)}` : ''}`,
    });
    meta[backend] = { report: t.report, stepsMs: t.allMs, warmupMs: t.warmupMs, firstLoss: t.firstLoss };
  }
  if (modelName === 'resnet-20') {
    // The same network and step in PyTorch on the CPU, for scale (the peer implements ResNet-20 only).
    try {
      const torch = runTorchTrainStep(batch, steps);
      rows.push({ backend: `pytorch ${torch.torch} (CPU)`, adapter: `${torch.threads} thread(s)`, 'ms/step': torch.msPerStep, 'x wasm': wasmMs !== undefined ? torch.msPerStep / wasmMs : null, 'first loss': null, note: '' });
      meta.pytorch = torch;
    } catch (err) {
      rows.push({ backend: 'pytorch (CPU)', adapter: null, 'ms/step': null, 'x wasm': null, 'first loss': null, note: (err as Error).message.split('\n')[0]! });
    }
  }
  return { suite: 'webgpu', rows, meta };
}
